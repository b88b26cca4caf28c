package adminapi_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"gatehouse/internal/adminapi"
	"gatehouse/internal/apikey"
	"gatehouse/internal/app"
	"gatehouse/internal/config"
	"gatehouse/internal/delivery"
	"gatehouse/internal/httpcore"
	"gatehouse/internal/oidc"
	"gatehouse/internal/outbox"
	"gatehouse/internal/pgtest"
	"gatehouse/internal/random"
	"gatehouse/internal/request"
)

// host is the name requests give Gatehouse (its public URL's).
const host = "auth.example.test"

// server is a running Gatehouse with three seeded accounts.
type server struct {
	t     *testing.T
	app   *app.App
	srv   *httptest.Server
	accts []string // the seeded accounts' ids, seed-0 first
}

func newServer(t *testing.T, db map[string]string) *server {
	t.Helper()
	flags := map[string]string{
		"data": t.TempDir(), "argon2.memory_kib": "8192", "argon2.iterations": "1",
		"signin.new_device_check": "off", "public_url": "http://" + host + ":8080",
	}
	for k, v := range db {
		flags[k] = v
	}
	cfg, err := config.Load("", func(string) string { return "" }, flags)
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.New(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	// Six attempts and six messages each (every third outcome and purpose
	// of app.Seed's lists), spread over the last 89 days.
	if err := a.Seed(context.Background(), 0, 3, 6, false, nil); err != nil {
		t.Fatal(err)
	}
	s := &server{t: t, app: a}
	for i := range 3 {
		acc, err := a.DB.AccountByEmail(context.Background(), app.SeedEmail(i))
		if err != nil {
			t.Fatal(err)
		}
		s.accts = append(s.accts, acc.ID)
	}
	s.srv = httptest.NewServer(a.Handler())
	t.Cleanup(s.srv.Close)
	return s
}

// key makes an API key with the scopes, as `gatehouse apikey create` does.
func (s *server) key(scopes ...apikey.Scope) (string, *apikey.Key) {
	s.t.Helper()
	token, k, err := s.app.APIKeys.Create(context.Background(), "test program", scopes)
	if err != nil {
		s.t.Fatal(err)
	}
	return token, k
}

// session signs the account in, as a sign-in does, and returns the
// session's token (its cookie's value).
func (s *server) session(accountID string) string {
	s.t.Helper()
	g, err := s.app.Sessions.Grant(context.Background(), accountID, request.Origin{IP: "203.0.113.5"}, false, "", "pwd")
	if err != nil {
		s.t.Fatal(err)
	}
	return g.Token
}

type answer struct {
	status int
	header http.Header
	body   string
}

// do sends a request with the key (none when ""), and any headers.
func (s *server) do(method, path, key string, headers map[string]string) answer {
	s.t.Helper()
	return s.send(method, path, key, "", headers)
}

// send is do with a JSON body (none when "").
func (s *server) send(method, path, key, body string, headers map[string]string) answer {
	s.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, s.srv.URL+path, rd)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Host = host
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header, string(b)}
}

func (a answer) json(t *testing.T) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal([]byte(a.body), &v); err != nil {
		t.Fatalf("not JSON (%d): %q", a.status, a.body)
	}
	return v
}

func errorCode(t *testing.T, a answer) string {
	t.Helper()
	e, _ := a.json(t)["error"].(map[string]any)
	code, _ := e["code"].(string)
	return code
}

// onBothDatabases runs fn on SQLite and on PostgreSQL (skipped without a
// test cluster, as the store suite is).
func onBothDatabases(t *testing.T, fn func(t *testing.T, db map[string]string)) {
	t.Run("sqlite", func(t *testing.T) { t.Parallel(); fn(t, nil) })
	t.Run("postgres", func(t *testing.T) { t.Parallel(); fn(t, map[string]string{"database": pgtest.NewDatabase(t)}) })
}

// TestRoutes_EachRouteWantsItsScope_V8_2_1 walks the admin API's routes:
// for each, a key with its scope gets through, a key with every other scope
// gets 403, no key and a revoked key get 401 with WWW-Authenticate: Bearer,
// and every answer is JSON that the OpenAPI document describes (see
// validator). Only the document itself is public.
func TestRoutes_EachRouteWantsItsScope_V8_2_1(t *testing.T) {
	t.Parallel()
	onBothDatabases(t, func(t *testing.T, db map[string]string) {
		s := newServer(t, db)
		v := newValidator(t)
		routes := s.app.Admin.Routes()
		if len(routes) != 17 {
			t.Fatalf("%d admin routes", len(routes))
		}
		revoked, rk := s.key(apikey.Scopes...)
		if err := s.app.APIKeys.Revoke(context.Background(), rk.ID); err != nil {
			t.Fatal(err)
		}
		gated := 0
		for _, rt := range routes {
			scope, ok := s.app.Admin.Scope(rt.Method, rt.Path)
			if rt.Path == "/api/openapi.json" {
				if !ok || scope != "" || rt.Access != httpcore.Public {
					t.Fatalf("the document: scope %q, access %v", scope, rt.Access)
				}
				continue
			}
			gated++
			if !ok || scope == "" || rt.Access != adminapi.Access || rt.Chain.Name != "api" {
				t.Fatalf("%s %s: scope %q, access %v, chain %s", rt.Method, rt.Path, scope, rt.Access, rt.Chain.Name)
			}
			name := rt.Method + " " + rt.Path
			// Each state-changing route gets a target of its own, so the
			// routes do not undo each other.
			path, body := s.target(rt.Method, rt.Path)
			var others []apikey.Scope
			for _, sc := range apikey.Scopes {
				if sc != scope {
					others = append(others, sc)
				}
			}
			wrong, _ := s.key(others...)
			a := s.send(rt.Method, path, wrong, body, nil)
			if a.status != 403 || errorCode(t, a) != "api_scope" ||
				!strings.Contains(a.header.Get("WWW-Authenticate"), `error="insufficient_scope"`) {
				t.Errorf("%s with the other scopes: %d %q %s", name, a.status, a.header.Get("WWW-Authenticate"), a.body)
			}
			v.check(t, rt.Method, rt.Path, a)
			for what, key := range map[string]string{"no key": "", "a revoked key": revoked, "an unknown key": "gh_" + strings.Repeat("x", 43), "not a key": "abc"} {
				a := s.send(rt.Method, path, key, body, nil)
				if a.status != 401 || errorCode(t, a) != "api_key" || !strings.HasPrefix(a.header.Get("WWW-Authenticate"), "Bearer") {
					t.Errorf("%s with %s: %d %q %s", name, what, a.status, a.header.Get("WWW-Authenticate"), a.body)
				}
				v.check(t, rt.Method, rt.Path, a)
			}
			right, _ := s.key(scope)
			a = s.send(rt.Method, path, right, body, nil)
			if a.status/100 != 2 || !strings.HasPrefix(a.header.Get("Content-Type"), "application/json") {
				t.Errorf("%s with %s: %d %s", name, scope, a.status, a.body)
			}
			v.check(t, rt.Method, rt.Path, a)
		}
		if gated != 16 {
			t.Fatalf("%d routes behind a key", gated)
		}
		v.covered(t, routes, 401, 403)
	})
}

// target is the path (and body) a request to a route of the table is sent
// to: a seeded account, and for the routes that change or remove
// something, a fresh account, session or client of their own.
func (s *server) target(method, pattern string) (path, body string) {
	s.t.Helper()
	ctx := context.Background()
	id := s.accts[1]
	switch {
	case method == "DELETE" && pattern == "/api/admin/accounts/{id}":
		id = s.account("deleted-" + random.ID()[:8] + "@example.test")
	case strings.HasPrefix(pattern, "/api/admin/sessions/"):
		sess, err := s.app.Sessions.Check(ctx, s.session(id))
		if err != nil {
			s.t.Fatal(err)
		}
		id = sess.ID
	case strings.HasPrefix(pattern, "/api/admin/clients/"):
		id = s.client(false)
	case strings.HasPrefix(pattern, "/api/admin/messages/"):
		id = s.reference(s.accts[1])
	case strings.HasPrefix(pattern, "/api/admin/deliveries/"):
		id = s.failedDelivery(id)
	case method == "POST" && pattern == "/api/admin/clients":
		body = `{"name":"Example Shop","redirect_uris":["https://shop.example.com/callback"]}`
	}
	return strings.Replace(pattern, "{"+pathParam(pattern)+"}", id, 1), body
}

// failedDelivery stores a security event about the account that failed
// for good, as the deliveries worker leaves one after its last attempt.
func (s *server) failedDelivery(accountID string) string {
	s.t.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	d := &delivery.Delivery{ID: random.ID(), Kind: delivery.SET, Target: "https://receiver.example/events", Receiver: "https://receiver.example",
		AccountID: accountID, Payload: []byte(`{}`), Status: delivery.Queued, NextAt: now, CreatedAt: now}
	if err := s.app.DB.EnqueueDelivery(ctx, d); err != nil {
		s.t.Fatal(err)
	}
	if err := s.app.DB.MarkDeliveryRetry(ctx, d.ID, now, "503 Service Unavailable", true); err != nil {
		s.t.Fatal(err)
	}
	return d.ID
}

// pathParam is the name of a pattern's one wildcard ("" when none).
func pathParam(pattern string) string {
	_, rest, ok := strings.Cut(pattern, "{")
	if !ok {
		return ""
	}
	name, _, _ := strings.Cut(rest, "}")
	return name
}

// account makes an active account with an address, and returns its id.
func (s *server) account(email string) string {
	s.t.Helper()
	a, err := s.app.Accounts.Create(context.Background(), email, app.SeedPassword, "en")
	if err != nil {
		s.t.Fatal(err)
	}
	return a.ID
}

// client registers an OpenID Connect client and returns its id.
func (s *server) client(public bool) string {
	s.t.Helper()
	c, _, err := s.app.Clients.Add(context.Background(), oidc.NewClient{Name: "App " + random.ID()[:6], RedirectURIs: []string{"https://app.example.com/cb"}, Public: public})
	if err != nil {
		s.t.Fatal(err)
	}
	return c.ID
}

// reference is the reference of the account's newest message.
func (s *server) reference(accountID string) string {
	s.t.Helper()
	ms, err := s.app.DB.AccountMessages(context.Background(), accountID, outbox.AccountQuery{Limit: 1})
	if err != nil || len(ms) == 0 {
		s.t.Fatalf("no message of %s: %v", accountID, err)
	}
	return ms[0].Reference
}

// TestDisable_EndsEverySessionAtOnce_V7_4_2: disabling an account through
// the API ends its sessions — the holder's next page is the sign-in — and
// enabling it lets it sign in again without bringing them back; both are
// told by the account as it now is.
func TestDisable_EndsEverySessionAtOnce_V7_4_2(t *testing.T) {
	t.Parallel()
	onBothDatabases(t, func(t *testing.T, db map[string]string) {
		s := newServer(t, db)
		id := s.accts[0]
		cookie := httpcore.SessionCookie + "=" + s.session(id)
		if a := s.do("GET", "/account", "", map[string]string{"Cookie": cookie}); a.status != 200 {
			t.Fatalf("the holder's page before: %d", a.status)
		}
		key, _ := s.key(apikey.AccountsWrite, apikey.AccountsRead, apikey.SessionsRead)
		if a := s.do("GET", "/api/admin/accounts/"+id+"/sessions", key, nil); a.status != 200 || len(a.json(t)["sessions"].([]any)) != 1 {
			t.Fatalf("sessions before: %d %s", a.status, a.body)
		}
		a := s.do("POST", "/api/admin/accounts/"+id+"/disable", key, nil)
		if a.status != 200 || a.json(t)["account"].(map[string]any)["status"] != "disabled" {
			t.Fatalf("disable: %d %s", a.status, a.body)
		}
		if a := s.do("GET", "/account", "", map[string]string{"Cookie": cookie}); a.status != 303 || !strings.HasPrefix(a.header.Get("Location"), "/signin") {
			t.Fatalf("the holder's page after disable: %d %q", a.status, a.header.Get("Location"))
		}
		if a := s.do("GET", "/api/admin/accounts/"+id+"/sessions", key, nil); a.status != 200 || len(a.json(t)["sessions"].([]any)) != 0 {
			t.Fatalf("sessions after: %d %s", a.status, a.body)
		}
		a = s.do("POST", "/api/admin/accounts/"+id+"/enable", key, map[string]string{"Content-Type": "application/json"})
		if a.status != 200 || a.json(t)["account"].(map[string]any)["status"] != "active" {
			t.Fatalf("enable: %d %s", a.status, a.body)
		}
		if a := s.do("GET", "/account", "", map[string]string{"Cookie": cookie}); a.status != 303 {
			t.Fatalf("an ended session came back with enable: %d", a.status)
		}
		if a := s.do("POST", "/api/admin/accounts/nosuchaccount/disable", key, nil); a.status != 404 || errorCode(t, a) != "request_unknown" {
			t.Fatalf("disable an unknown account: %d %s", a.status, a.body)
		}
	})
}

// TestRevokeSession_RefusedOnTheNextRequest: a revoked session's cookie
// is refused at once; revoking it again, or an unknown id, is 404.
func TestRevokeSession_RefusedOnTheNextRequest(t *testing.T) {
	t.Parallel()
	s := newServer(t, nil)
	tok := s.session(s.accts[2])
	sess, err := s.app.Sessions.Check(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := s.key(apikey.SessionsWrite)
	if a := s.do("POST", "/api/admin/sessions/"+sess.ID+"/revoke", key, nil); a.status != 200 || !strings.Contains(a.body, `"revoked":true`) {
		t.Fatalf("revoke: %d %s", a.status, a.body)
	}
	if a := s.do("GET", "/account", "", map[string]string{"Cookie": httpcore.SessionCookie + "=" + tok}); a.status != 303 {
		t.Fatalf("the revoked session's page: %d", a.status)
	}
	for _, id := range []string{sess.ID, "nosuchsession"} {
		if a := s.do("POST", "/api/admin/sessions/"+id+"/revoke", key, nil); a.status != 404 || errorCode(t, a) != "request_unknown" {
			t.Fatalf("revoke %s: %d %s", id, a.status, a.body)
		}
	}
}

// TestAccounts_SearchPagesAndShowsNoSecret: the list finds accounts by the
// start of their address a page at a time, bounds limit, refuses a forged
// cursor, and no answer carries a password hash or a whole phone number.
func TestAccounts_SearchPagesAndShowsNoSecret(t *testing.T) {
	t.Parallel()
	s := newServer(t, nil)
	key, _ := s.key(apikey.AccountsRead)
	var seen []string
	cursor := ""
	for range 5 {
		path := "/api/admin/accounts?q=SEED-&limit=2"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		a := s.do("GET", path, key, nil)
		if a.status != 200 || strings.Contains(a.body, "argon2") || strings.Contains(a.body, "password_hash") {
			t.Fatalf("list: %d %s", a.status, a.body)
		}
		v := a.json(t)
		for _, acc := range v["accounts"].([]any) {
			seen = append(seen, acc.(map[string]any)["email"].(string))
		}
		next, _ := v["next_cursor"].(string)
		if next == "" {
			break
		}
		cursor = next
	}
	if strings.Join(seen, " ") != "seed-0@example.test seed-1@example.test seed-2@example.test" {
		t.Fatalf("pages: %v", seen)
	}
	if a := s.do("GET", "/api/admin/accounts?q=nobody", key, nil); a.status != 200 || a.body != "{\"accounts\":[],\"next_cursor\":null}\n" {
		t.Fatalf("no match: %d %q", a.status, a.body)
	}
	for _, q := range []string{"limit=0", "limit=101", "limit=x", "cursor=!!!", "cursor=Zm9v"} {
		if a := s.do("GET", "/api/admin/accounts?"+q, key, nil); a.status != 400 || errorCode(t, a) != "api_query" {
			t.Errorf("%s: %d %s", q, a.status, a.body)
		}
	}
	if err := s.app.DB.SetPhone(context.Background(), s.accts[0], "+819012345678", time.Now()); err != nil {
		t.Fatalf("set a phone: %v", err)
	}
	a := s.do("GET", "/api/admin/accounts/"+s.accts[0], key, nil)
	acc := a.json(t)["account"].(map[string]any)
	if a.status != 200 || acc["phone_ending"] != "78" || strings.Contains(a.body, "12345678") || strings.Contains(a.body, "argon2") {
		t.Fatalf("show: %d %s", a.status, a.body)
	}
	if a := s.do("GET", "/api/admin/accounts/nosuchaccount", key, nil); a.status != 404 {
		t.Fatalf("unknown account: %d", a.status)
	}
}

// TestCrossSiteBrowserPost_Refused_V3_5_1: a browser's cross-site POST
// is refused before the key is looked at, even with a valid key; a
// program's POST (no Origin, no Sec-Fetch-Site) goes through.
func TestCrossSiteBrowserPost_Refused_V3_5_1(t *testing.T) {
	t.Parallel()
	s := newServer(t, nil)
	key, _ := s.key(apikey.AccountsWrite)
	path := "/api/admin/accounts/" + s.accts[1] + "/disable"
	for _, h := range []map[string]string{{"Origin": "https://evil.test"}, {"Sec-Fetch-Site": "cross-site"}} {
		if a := s.do("POST", path, key, h); a.status != 403 || errorCode(t, a) != "cross_origin" {
			t.Fatalf("cross-site %v: %d %s", h, a.status, a.body)
		}
	}
	acc, _ := s.app.DB.AccountByID(context.Background(), s.accts[1])
	if acc.Status != "active" {
		t.Fatalf("a refused request disabled the account: %s", acc.Status)
	}
	if a := s.do("POST", path, key, map[string]string{"Content-Type": "text/plain"}); a.status != 415 {
		t.Fatalf("a body that is not JSON: %d %s", a.status, a.body)
	}
	if a := s.do("POST", path, key, nil); a.status != 200 {
		t.Fatalf("a program's POST: %d %s", a.status, a.body)
	}
}
