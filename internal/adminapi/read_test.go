package adminapi_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"gatehouse/internal/apikey"
	"gatehouse/internal/device"
	"gatehouse/internal/httpcore"
	"gatehouse/internal/outbox"
	"gatehouse/internal/random"
	"gatehouse/internal/request"
)

// TestDelete_RemovesTheAccountAndEndsItsSessions: DELETE ends the
// holder's session at once, the account is gone from every route (404),
// its address can sign up again, and deleting it again is 404. The
// store suite (storetest.RunErase) counts what is left table by table.
func TestDelete_RemovesTheAccountAndEndsItsSessions(t *testing.T) {
	t.Parallel()
	onBothDatabases(t, func(t *testing.T, db map[string]string) {
		s := newServer(t, db)
		v := newValidator(t)
		id := s.accts[2]
		cookie := httpcore.SessionCookie + "=" + s.session(id)
		if a := s.do("GET", "/account", "", map[string]string{"Cookie": cookie}); a.status != 200 {
			t.Fatalf("the holder's page before: %d", a.status)
		}
		key, _ := s.key(apikey.AccountsWrite, apikey.AccountsRead, apikey.ActivityRead, apikey.SessionsRead)
		a := s.do("DELETE", "/api/admin/accounts/"+id, key, nil)
		v.check(t, "DELETE", "/api/admin/accounts/{id}", a)
		if acc := a.json(t)["account"].(map[string]any); a.status != 200 || acc["id"] != id || acc["deleted"] != true || acc["email"] != "seed-2@example.test" {
			t.Fatalf("delete: %d %s", a.status, a.body)
		}
		if a := s.do("GET", "/account", "", map[string]string{"Cookie": cookie}); a.status != 303 {
			t.Fatalf("the deleted account's session: %d", a.status)
		}
		for _, p := range []string{"/api/admin/accounts/" + id, "/api/admin/accounts/" + id + "/sessions", "/api/admin/accounts/" + id + "/attempts", "/api/admin/accounts/" + id + "/messages"} {
			a := s.do("GET", p, key, nil)
			if a.status != 404 || errorCode(t, a) != "request_unknown" {
				t.Errorf("%s after delete: %d %s", p, a.status, a.body)
			}
		}
		a = s.do("DELETE", "/api/admin/accounts/"+id, key, nil)
		v.check(t, "DELETE", "/api/admin/accounts/{id}", a)
		if a.status != 404 {
			t.Fatalf("delete again: %d %s", a.status, a.body)
		}
		if list := s.do("GET", "/api/admin/accounts?q=seed-", key, nil); strings.Contains(list.body, "seed-2@") {
			t.Fatalf("listed after delete: %s", list.body)
		}
		if _, err := s.app.Accounts.Create(context.Background(), "seed-2@example.test", "another fine passphrase", "en"); err != nil {
			t.Fatalf("the address is free again: %v", err)
		}
	})
}

// TestAttempts_FilteredByTimeOutcomeAndCause: the seeded attempts (app.Seed:
// outcomes succeeded ×3, wrong_password, pending_second_step with cause
// password_known, denied) are found by each filter and paged by the
// cursor; a bad filter is 400; nothing typed is shown.
func TestAttempts_FilteredByTimeOutcomeAndCause(t *testing.T) {
	t.Parallel()
	onBothDatabases(t, func(t *testing.T, db map[string]string) {
		s := newServer(t, db)
		v := newValidator(t)
		key, _ := s.key(apikey.ActivityRead)
		base := "/api/admin/accounts/" + s.accts[0] + "/attempts"
		list := func(q string) []map[string]any {
			t.Helper()
			a := s.do("GET", base+q, key, nil)
			v.check(t, "GET", "/api/admin/accounts/{id}/attempts", a)
			if a.status != 200 || strings.Contains(a.body, "identifier") || strings.Contains(a.body, "seed-0@") {
				t.Fatalf("%s: %d %s", q, a.status, a.body)
			}
			var out []map[string]any
			for _, x := range a.json(t)["attempts"].([]any) {
				out = append(out, x.(map[string]any))
			}
			return out
		}
		all := list("")
		if len(all) != 6 {
			t.Fatalf("%d attempts", len(all))
		}
		for q, want := range map[string]int{
			"?outcome=succeeded": 3, "?outcome=denied": 1, "?cause=password_known": 1, "?cause=mistyped": 0,
			"?outcome=pending_second_step&cause=password_known": 1,
		} {
			if got := list(q); len(got) != want {
				t.Errorf("%s: %d attempts, want %d", q, len(got), want)
			}
		}
		// The time range: between the second and the fourth newest.
		at := func(i int) time.Time { t, _ := time.Parse(time.RFC3339Nano, all[i]["created_at"].(string)); return t }
		q := url.Values{"since": {at(3).Truncate(time.Second).Format(time.RFC3339)}, "until": {at(1).Format(time.RFC3339)}}
		if got := list("?" + q.Encode()); len(got) != 2 || got[0]["id"] != all[2]["id"] || got[1]["id"] != all[3]["id"] {
			t.Errorf("%s: %v", q.Encode(), got)
		}
		// Pages of 4 and 2, by the cursor.
		a := s.do("GET", base+"?limit=4", key, nil)
		next, _ := a.json(t)["next_cursor"].(string)
		if len(a.json(t)["attempts"].([]any)) != 4 || next == "" {
			t.Fatalf("first page: %s", a.body)
		}
		rest := list("?limit=4&cursor=" + next)
		if len(rest) != 2 || rest[0]["id"] != all[4]["id"] {
			t.Fatalf("second page: %v", rest)
		}
		for _, bad := range []string{"?outcome=maybe", "?cause=whim", "?since=yesterday", "?until=2026-13-01T00:00:00Z", "?limit=0", "?cursor=Zm9v", "?cursor=" + strings.Repeat("!", 4)} {
			a := s.do("GET", base+bad, key, nil)
			v.check(t, "GET", "/api/admin/accounts/{id}/attempts", a)
			if a.status != 400 || errorCode(t, a) != "api_query" {
				t.Errorf("%s: %d %s", bad, a.status, a.body)
			}
		}
		a = s.do("GET", "/api/admin/accounts/nosuchaccount/attempts", key, nil)
		v.check(t, "GET", "/api/admin/accounts/{id}/attempts", a)
		if a.status != 404 {
			t.Errorf("an unknown account: %d", a.status)
		}
	})
}

// TestMessages_FilteredAndFoundByReference_NoCodeNoNumber: an account's
// messages by cause, time and reference (any spelling), one message by its
// reference; no text, no code, an SMS's number as its last two digits.
func TestMessages_FilteredAndFoundByReference_NoCodeNoNumber(t *testing.T) {
	t.Parallel()
	onBothDatabases(t, func(t *testing.T, db map[string]string) {
		s := newServer(t, db)
		v := newValidator(t)
		ctx := context.Background()
		id := s.accts[0]
		sms := &outbox.Message{ID: random.ID(), Reference: random.Reference(), AccountID: id, Purpose: request.SecondStep, Cause: request.OldDevice,
			Channel: request.SMS, To: "+819012345678", Language: "en", Text: "Your code: 123456", CreatedAt: time.Now().UTC(), Status: outbox.Queued,
			NextAttemptAt: time.Now().UTC(), Secret: []byte("sealed-code")}
		if err := s.app.DB.EnqueueMessage(ctx, sms); err != nil {
			t.Fatal(err)
		}
		key, _ := s.key(apikey.ActivityRead)
		base := "/api/admin/accounts/" + id + "/messages"
		list := func(q string) []map[string]any {
			t.Helper()
			a := s.do("GET", base+q, key, nil)
			v.check(t, "GET", "/api/admin/accounts/{id}/messages", a)
			if a.status != 200 {
				t.Fatalf("%s: %d %s", q, a.status, a.body)
			}
			for _, leak := range []string{"123456", "12345678", "Seeded message", "sealed"} {
				if strings.Contains(a.body, leak) {
					t.Fatalf("%s shows %q: %s", q, leak, a.body)
				}
			}
			var out []map[string]any
			for _, x := range a.json(t)["messages"].([]any) {
				out = append(out, x.(map[string]any))
			}
			return out
		}
		all := list("")
		if len(all) != 7 || all[0]["reference"] != sms.Reference || all[0]["to"] != "78" || all[0]["channel"] != "sms" || all[1]["to"] != "s***@example.test" {
			t.Fatalf("messages: %v", all)
		}
		// app.Seed's purposes: second_step, password_changed, reset_password,
		// backup_used, …; the codes' cause is password_known.
		if got := list("?cause=password_known"); len(got) != 3 {
			t.Errorf("cause password_known: %d", len(got))
		}
		if got := list("?cause=old_device"); len(got) != 1 || got[0]["id"] != sms.ID {
			t.Errorf("cause old_device: %v", got)
		}
		spelled := strings.ToLower(strings.ReplaceAll(sms.Reference, "-", " "))
		if got := list("?reference=" + url.QueryEscape(spelled)); len(got) != 1 || got[0]["id"] != sms.ID {
			t.Errorf("by reference %q: %v", spelled, got)
		}
		if got := list("?until=" + url.QueryEscape(all[1]["created_at"].(string))); len(got) != 5 {
			t.Errorf("until the second newest: %d", len(got))
		}
		if a := s.do("GET", base+"?reference=not-a-reference-at-all-no", key, nil); a.status != 400 {
			t.Errorf("a reference that cannot be one: %d", a.status)
		}
		a := s.do("GET", "/api/admin/messages/"+url.PathEscape(spelled), key, nil)
		v.check(t, "GET", "/api/admin/messages/{reference}", a)
		if m := a.json(t)["message"].(map[string]any); a.status != 200 || m["id"] != sms.ID || m["account_id"] != id || strings.Contains(a.body, "123456") {
			t.Fatalf("by reference: %d %s", a.status, a.body)
		}
		for _, ref := range []string{"GH-AAAA-AAAA-AAAA", "nonsense"} {
			a := s.do("GET", "/api/admin/messages/"+ref, key, nil)
			v.check(t, "GET", "/api/admin/messages/{reference}", a)
			if a.status != 404 {
				t.Errorf("%s: %d", ref, a.status)
			}
		}
	})
}

// TestDevices_ListedWithoutTheirCookies: the devices an account was used
// on, newest use first, trust shown; never a cookie's hash.
func TestDevices_ListedWithoutTheirCookies(t *testing.T) {
	t.Parallel()
	onBothDatabases(t, func(t *testing.T, db map[string]string) {
		s := newServer(t, db)
		v := newValidator(t)
		ctx := context.Background()
		id := s.accts[1]
		now := time.Now().UTC().Truncate(time.Second)
		for i, name := range []string{"old", "new"} {
			d := &device.Device{ID: "dev-" + name, TokenHash: device.HashToken("token-" + name), FirstSeen: now, LastSeen: now, IP: "192.0.2.7",
				UserAgent: "UA", Browser: "Firefox 140", OS: "Linux"}
			if err := s.app.DB.CreateDevice(ctx, d); err != nil {
				t.Fatal(err)
			}
			if err := s.app.DB.MarkUsed(ctx, id, d.ID, now.Add(time.Duration(i)*time.Hour)); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.app.DB.Trust(ctx, id, "dev-new", now.Add(30*24*time.Hour)); err != nil {
			t.Fatal(err)
		}
		key, _ := s.key(apikey.DevicesRead)
		a := s.do("GET", "/api/admin/accounts/"+id+"/devices", key, nil)
		v.check(t, "GET", "/api/admin/accounts/{id}/devices", a)
		devs := a.json(t)["devices"].([]any)
		if a.status != 200 || len(devs) != 2 || devs[0].(map[string]any)["id"] != "dev-new" || devs[0].(map[string]any)["trusted_until"] == nil ||
			devs[1].(map[string]any)["trusted_until"] != nil || devs[0].(map[string]any)["browser"] != "Firefox 140" || strings.Contains(a.body, "hash") {
			t.Fatalf("devices: %d %s", a.status, a.body)
		}
		a = s.do("GET", "/api/admin/accounts/nosuchaccount/devices", key, nil)
		v.check(t, "GET", "/api/admin/accounts/{id}/devices", a)
		if a.status != 404 {
			t.Fatalf("an unknown account: %d", a.status)
		}
	})
}

// TestClients_AddedListedAndRemoved: a confidential client's secret is
// shown once, at its creation, and works; a public one has none; the list
// shows no secret nor its hash; a removed client is refused and gone from
// the list; what oidc.Clients refuses is 422, a body that is not the
// object 400.
func TestClients_AddedListedAndRemoved(t *testing.T) {
	t.Parallel()
	onBothDatabases(t, func(t *testing.T, db map[string]string) {
		s := newServer(t, db)
		v := newValidator(t)
		ctx := context.Background()
		key, _ := s.key(apikey.ClientsRead, apikey.ClientsWrite)
		add := func(body string) answer {
			t.Helper()
			a := s.send("POST", "/api/admin/clients", key, body, nil)
			v.check(t, "POST", "/api/admin/clients", a)
			return a
		}
		a := add(`{"name":"Example Shop","redirect_uris":["https://shop.example.com/callback"],"first_party":true,"backchannel_logout_uri":"https://shop.example.com/logout"}`)
		if a.status != 201 {
			t.Fatalf("add: %d %s", a.status, a.body)
		}
		c := a.json(t)["client"].(map[string]any)
		secret, _ := a.json(t)["client_secret"].(string)
		id := c["client_id"].(string)
		if secret == "" || c["public"] != false || c["first_party"] != true {
			t.Fatalf("added: %s", a.body)
		}
		if _, err := s.app.Clients.Authenticate(ctx, id, secret); err != nil {
			t.Fatalf("the secret shown: %v", err)
		}
		a = add(`{"name":"Shop app","redirect_uris":["com.example.shop:/callback"],"public":true}`)
		if a.status != 201 || a.json(t)["client_secret"] != nil || a.json(t)["client"].(map[string]any)["public"] != true {
			t.Fatalf("add a public client: %d %s", a.status, a.body)
		}
		list := s.do("GET", "/api/admin/clients", key, nil)
		v.check(t, "GET", "/api/admin/clients", list)
		if list.status != 200 || len(list.json(t)["clients"].([]any)) != 2 || strings.Contains(list.body, secret) || strings.Contains(list.body, "secret") {
			t.Fatalf("list: %d %s", list.status, list.body)
		}
		for body, want := range map[string]int{
			`{"name":"","redirect_uris":["https://a.example.com/cb"]}`:                  422,
			`{"name":"No URIs","redirect_uris":[]}`:                                     422,
			`{"name":"Plain http","redirect_uris":["http://shop.example.com/"]}`:        422,
			`{"name":"x","redirect_uris":["https://a.example.com/cb"],"secret":"mine"}`: 400,
			`[1,2]`:           400,
			`{"name":"x"} {}`: 400,
		} {
			a := add(body)
			code := map[int]string{422: "api_client", 400: "api_body"}[want]
			if a.status != want || errorCode(t, a) != code {
				t.Errorf("%s: %d %s", body, a.status, a.body)
			}
		}
		a = s.do("DELETE", "/api/admin/clients/"+id, key, nil)
		v.check(t, "DELETE", "/api/admin/clients/{id}", a)
		if a.status != 200 || !strings.Contains(a.body, `"removed":true`) {
			t.Fatalf("remove: %d %s", a.status, a.body)
		}
		if _, err := s.app.Clients.Authenticate(ctx, id, secret); err == nil {
			t.Fatal("a removed client still authenticates")
		}
		if list := s.do("GET", "/api/admin/clients", key, nil); strings.Contains(list.body, id) {
			t.Fatalf("a removed client is listed: %s", list.body)
		}
		for _, gone := range []string{id, "nosuchclient"} {
			a := s.do("DELETE", "/api/admin/clients/"+gone, key, nil)
			v.check(t, "DELETE", "/api/admin/clients/{id}", a)
			if a.status != 404 || errorCode(t, a) != "request_unknown" {
				t.Errorf("remove %s: %d %s", gone, a.status, a.body)
			}
		}
	})
}

// TestCheckAPI_AnswersAsDocumented: the other /api/ route of the table,
// the public checker, answers what the document says: a verdict for a
// reference of ours, 400 for JSON that does not parse, 422 for nothing
// to check.
func TestCheckAPI_AnswersAsDocumented(t *testing.T) {
	t.Parallel()
	s := newServer(t, nil)
	v := newValidator(t)
	for body, want := range map[string]int{
		`{"reference":"` + s.reference(s.accts[0]) + `"}`:             200,
		`{"text":"Your code is 123456. Reference GH-AAAA-AAAA-AAAA"}`: 200,
		`{"reference":`: 400,
		`{}`:            422,
	} {
		a := s.send("POST", "/api/check", "", body, nil)
		v.check(t, "POST", "/api/check", a)
		if a.status != want {
			t.Errorf("%s: %d %s", body, a.status, a.body)
		}
	}
	v.covered(t, []httpcore.Route{{Method: "POST", Path: "/api/check", Access: httpcore.Public}})
}
