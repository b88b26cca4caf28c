package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"gatehouse/internal/account"
	"gatehouse/internal/apikey"
	"gatehouse/internal/app"
	"gatehouse/internal/delivery"
	"gatehouse/internal/pgtest"
	"gatehouse/internal/request"
	"gatehouse/internal/signin"
)

// hookReceiver is a relying party's webhook endpoint: it verifies each
// Security Event Token against the JWKS of the running server (fetched
// over HTTP), or each JSON body against its HMAC, answers the first
// attempt at every delivery 500 and later ones 202, and keeps what it
// accepted.
type hookReceiver struct {
	t        *testing.T
	issuer   string
	audience string
	secret   []byte
	now      func() time.Time

	mu       sync.Mutex
	site     string         // the running server's base URL, for its JWKS
	attempts map[string]int // by jti / id
	iats     map[string][]int64
	accepted map[string]int
	events   []string // the type of each accepted event
	subjects map[string]bool
	failures []string
	bodies   map[string][]map[string]any // a SET's event members, by event type
}

func newHookReceiver(t *testing.T, issuer, audience string, secret []byte, now func() time.Time) *hookReceiver {
	return &hookReceiver{t: t, issuer: issuer, audience: audience, secret: secret, now: now,
		attempts: map[string]int{}, iats: map[string][]int64{}, accepted: map[string]int{}, subjects: map[string]bool{},
		bodies: map[string][]map[string]any{}}
}

func (h *hookReceiver) setSite(u string) { h.mu.Lock(); h.site = u; h.mu.Unlock() }

func (h *hookReceiver) fail(format string, args ...any) {
	h.mu.Lock()
	h.failures = append(h.failures, fmt.Sprintf(format, args...))
	h.mu.Unlock()
}

// answer counts the attempt and answers it: 500 the first time, 202 after.
func (h *hookReceiver) answer(w http.ResponseWriter, id, typ, sub string, iat int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.attempts[id]++
	h.iats[id] = append(h.iats[id], iat)
	if h.attempts[id] == 1 {
		http.Error(w, "try again", http.StatusInternalServerError)
		return
	}
	h.accepted[id]++
	h.events = append(h.events, typ)
	h.subjects[sub] = true
	w.WriteHeader(http.StatusAccepted)
}

func (h *hookReceiver) jwks() (*jose.JSONWebKeySet, error) {
	h.mu.Lock()
	site := h.site
	h.mu.Unlock()
	res, err := http.Get(site + "/oidc/jwks")
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	var set jose.JSONWebKeySet
	return &set, json.NewDecoder(res.Body).Decode(&set)
}

// set receives Security Event Tokens (RFC 8935).
func (h *hookReceiver) set(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if r.Method != "POST" || r.Header.Get("Content-Type") != "application/secevent+jwt" || r.Header.Get("Accept") != "application/json" {
		h.fail("request %s %q accept %q", r.Method, r.Header.Get("Content-Type"), r.Header.Get("Accept"))
	}
	bad := func(format string, args ...any) {
		h.fail(format, args...)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte(`{"err":"invalid_request","description":"test receiver refused it"}`))
	}
	jws, err := jose.ParseSignedCompact(string(body), []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		bad("parse: %v", err)
		return
	}
	hdr := jws.Signatures[0].Protected
	if hdr.ExtraHeaders["typ"] != "secevent+jwt" {
		bad("typ %v", hdr.ExtraHeaders["typ"])
		return
	}
	set, err := h.jwks()
	if err != nil {
		bad("jwks: %v", err)
		return
	}
	keys := set.Key(hdr.KeyID)
	if len(keys) != 1 {
		bad("kid %q not in the JWKS", hdr.KeyID)
		return
	}
	payload, err := jws.Verify(keys[0])
	if err != nil {
		bad("signature: %v", err)
		return
	}
	var c struct {
		Iss    string                    `json:"iss"`
		Aud    string                    `json:"aud"`
		Iat    int64                     `json:"iat"`
		Jti    string                    `json:"jti"`
		Sub    map[string]string         `json:"sub_id"`
		Events map[string]map[string]any `json:"events"`
	}
	if err := json.Unmarshal(payload, &c); err != nil {
		bad("claims: %v", err)
		return
	}
	if c.Iss != h.issuer || c.Aud != h.audience || c.Jti == "" || c.Iat == 0 || len(c.Events) != 1 ||
		c.Sub["format"] != "iss_sub" || c.Sub["iss"] != h.issuer || c.Sub["sub"] == "" {
		bad("claims %s", payload)
		return
	}
	var typ string
	for uri, ev := range c.Events {
		typ = uri
		if _, ok := ev["event_timestamp"]; !ok {
			bad("event without event_timestamp: %s", payload)
			return
		}
		h.mu.Lock()
		if h.attempts[c.Jti] == 1 { // the accepted attempt
			h.bodies[uri] = append(h.bodies[uri], ev)
		}
		h.mu.Unlock()
	}
	h.answer(w, c.Jti, typ, c.Sub["sub"], c.Iat)
}

// json receives the plain JSON webhooks.
func (h *hookReceiver) json(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if err := delivery.Verify(h.secret, r.Header.Get(delivery.SignatureHeader), body, h.now(), 5*time.Minute); err != nil {
		h.fail("signature %q: %v", r.Header.Get(delivery.SignatureHeader), err)
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	if err := delivery.Verify([]byte("another secret entirely"), r.Header.Get(delivery.SignatureHeader), body, h.now(), 5*time.Minute); err == nil {
		h.fail("a wrong secret verifies")
	}
	var b delivery.Body
	if err := json.Unmarshal(body, &b); err != nil || b.ID == "" || b.AccountID == "" || b.OccurredAt.IsZero() || r.Header.Get("Gatehouse-Delivery") != b.ID ||
		r.Header.Get("Content-Type") != "application/json" {
		h.fail("body %s (%v)", body, err)
		http.Error(w, "bad body", http.StatusBadRequest)
		return
	}
	h.answer(w, b.ID, string(b.Type), b.AccountID, h.now().Unix())
}

// TestWebhooks_EachEventOnceAcrossARestart: real flows (pages and the
// operator's services) record each security event; receivers verify every
// Security Event Token against the server's published keys and every JSON
// body's HMAC; each first attempt fails, the server stops with every
// retry pending (and two deliveries claimed by a worker that "died"), a
// new server on the same database delivers them all, and each event
// reaches each receiver exactly once.
func TestWebhooks_EachEventOnceAcrossARestart(t *testing.T) {
	t.Run("SQLite", func(t *testing.T) { testWebhooksAcrossARestart(t, "") })
	t.Run("PostgreSQL", func(t *testing.T) { testWebhooksAcrossARestart(t, pgtest.NewDatabase(t)) })
}

func testWebhooksAcrossARestart(t *testing.T, database string) {
	ctx := context.Background()
	var clockMu sync.Mutex
	fake := time.Now().UTC()
	now := func() time.Time { clockMu.Lock(); defer clockMu.Unlock(); return fake }
	advance := func(d time.Duration) { clockMu.Lock(); fake = fake.Add(d); clockMu.Unlock() }

	secret := []byte("test-receiver-shared-secret-0123")
	setHook := newHookReceiver(t, "http://127.0.0.1:8080", "https://rp.example", nil, now)
	jsonHook := newHookReceiver(t, "", "", secret, now)
	mux := http.NewServeMux()
	mux.HandleFunc("/set", setHook.set)
	mux.HandleFunc("/json", jsonHook.json)
	rp := httptest.NewServer(mux)
	defer rp.Close()

	flags := map[string]string{
		"data": t.TempDir(), "signin.new_device_check": "off",
		"webhooks.set_receivers":  rp.URL + "/set|https://rp.example",
		"webhooks.json_receivers": rp.URL + "/json|" + string(secret),
	}
	if database != "" {
		flags["database"] = database
	}
	cfg := load(t, flags)

	// current is the server whose store waitFor reads.
	var current *app.App
	// run starts a server on the configuration with its deliveries worker;
	// stop stops the worker, then closes the server.
	run := func() (a *app.App, site *httptest.Server, stopWorker func()) {
		a, err := app.New(ctx, cfg, testLog(t))
		if err != nil {
			t.Fatal(err)
		}
		a.SetClock(now)
		current = a
		a.Deliveries.Poll = 10 * time.Millisecond
		site = httptest.NewServer(a.Handler())
		setHook.setSite(site.URL)
		wctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { a.Deliveries.Run(wctx); close(done) }()
		var once sync.Once
		stopWorker = func() { once.Do(func() { cancel(); <-done }) }
		t.Cleanup(func() { stopWorker(); site.Close(); a.Close() })
		return a, site, stopWorker
	}
	// recorded reports whether the store has the outcome of every attempt
	// in seen: the worker reads the clock after the receiver answered, so
	// moving the fake clock before then would schedule the retry from the
	// moved time, out of the test's reach.
	recorded := func(seen map[string]int) bool {
		for id, n := range seen {
			d, err := current.DB.Delivery(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if d.Status == delivery.Sending || d.Attempts < n {
				return false
			}
		}
		return true
	}
	// waitFor waits until both receivers saw n attempts in all, and the
	// store recorded how each ended.
	waitFor := func(what string, n int) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			count := 0
			seen := map[string]int{}
			for _, h := range []*hookReceiver{setHook, jsonHook} {
				h.mu.Lock()
				for id, k := range h.attempts {
					count += k
					seen[id] += k
				}
				h.mu.Unlock()
			}
			if count == n && recorded(seen) {
				return
			}
			if count > n || time.Now().After(deadline) {
				t.Fatalf("%s: %d attempts, want %d (set %v, json %v)", what, count, n, setHook.attempts, jsonHook.attempts)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}

	a, site, stopWorker := run()
	const email, pw, pw2 = "holder@example.com", "correct horse battery staple", "another horse, another staple"
	acc, err := a.Accounts.Create(ctx, email, pw, "en")
	if err != nil {
		t.Fatal(err)
	}
	signIn := func(password string) *client {
		c := newClient(t, site.URL)
		if r := c.post("/signin", url.Values{"email": {email}, "password": {password}}); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("sign-in: %d", r.StatusCode)
		}
		return c
	}
	// 1. Sign out everywhere (the holder's page): session revoked.
	if r := signIn(pw).post("/account/signout-everywhere", url.Values{"everywhere": {"1"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign out everywhere: %d", r.StatusCode)
	}
	// 2. A new password: credential change.
	if _, err := a.Accounts.ChangePassword(ctx, account.PasswordChange{AccountID: acc.ID, Current: pw, Next: pw2,
		Origin: request.Origin{IP: "192.0.2.7", Time: now()}}); err != nil {
		t.Fatal(err)
	}
	// 3. "This wasn't me" about a sign-in with the password: credential
	// compromise, and every session ends.
	s := signIn(pw2)
	ats, err := a.DB.AttemptsByAccount(ctx, acc.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	var ok string
	for _, at := range ats {
		if at.Outcome == signin.Succeeded {
			ok = at.ID
			break
		}
	}
	if r := s.post("/account/activity/answer", url.Values{"attempt": {ok}, "answer": {"not_me"}}); r.StatusCode != http.StatusOK {
		t.Fatalf("answer: %d", r.StatusCode)
	}
	// 4. The operator disables the account: account disabled, sessions
	// revoked.
	if err := a.Accounts.Disable(ctx, acc.ID); err != nil {
		t.Fatal(err)
	}
	// 6 events, one delivery each per receiver; every first attempt fails.
	waitFor("first attempts", 12)
	stopWorker()

	// One more event while no worker runs, whose two deliveries a worker
	// claims and then "dies" with (a claim with a lease, never answered).
	if err := a.Accounts.SignOutEverywhere(ctx, acc.ID); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := a.DB.ClaimDelivery(ctx, now(), now().Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.DB.ClaimDelivery(ctx, now(), now().Add(time.Minute)); err == nil {
		t.Fatal("a retry was due before its backoff")
	}
	site.Close()
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}

	// A new server on the same database, 11 s later: the retries are due.
	advance(11 * time.Second)
	b, _, _ := run()
	waitFor("retries after the restart", 24)
	// The claims of the worker that died come back once their lease ends
	// (and fail their first attempt, and are retried).
	advance(50 * time.Second)
	waitFor("claims whose lease ended", 26)
	advance(11 * time.Second)
	waitFor("their retries", 28)

	want := map[string]int{
		delivery.CAEPSessionRevoked: 4, delivery.CAEPCredentialChange: 1,
		delivery.RISCCredentialCompromise: 1, delivery.RISCAccountDisabled: 1,
	}
	jsonWant := map[string]int{"session_revoked": 4, "credential_change": 1, "credential_compromise": 1, "account_disabled": 1}
	for name, c := range map[string]struct {
		h    *hookReceiver
		want map[string]int
	}{"set": {setHook, want}, "json": {jsonHook, jsonWant}} {
		h := c.h
		h.mu.Lock()
		if len(h.failures) > 0 {
			t.Errorf("%s receiver: %v", name, h.failures)
		}
		got := map[string]int{}
		for _, e := range h.events {
			got[e]++
		}
		if fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("%s receiver accepted %v, want %v", name, got, c.want)
		}
		for id, n := range h.accepted {
			if n != 1 || h.attempts[id] != 2 {
				t.Errorf("%s receiver: %s accepted %d times in %d attempts", name, id, n, h.attempts[id])
			}
			if iat := h.iats[id]; len(iat) == 2 && iat[1] <= iat[0] {
				t.Errorf("%s receiver: %s signed at %v: not afresh at each attempt", name, id, iat)
			}
		}
		if len(h.accepted) != 7 || !slices.Equal(keys(h.subjects), []string{acc.ID}) {
			t.Errorf("%s receiver: %d deliveries accepted, subjects %v", name, len(h.accepted), h.subjects)
		}
		h.mu.Unlock()
	}
	setHook.mu.Lock()
	if cc := setHook.bodies[delivery.CAEPCredentialChange]; len(cc) != 1 || cc[0]["credential_type"] != "password" || cc[0]["change_type"] != "update" ||
		cc[0]["initiating_entity"] != "user" {
		t.Errorf("credential change: %v", cc)
	}
	if cc := setHook.bodies[delivery.RISCCredentialCompromise]; len(cc) != 1 || cc[0]["credential_type"] != "password" {
		t.Errorf("credential compromise: %v", cc)
	}
	by := map[any]int{}
	for _, ev := range setHook.bodies[delivery.CAEPSessionRevoked] {
		by[ev["initiating_entity"]]++
	}
	if by["admin"] != 1 || by["user"] != 3 {
		t.Errorf("sessions revoked by %v, want the operator's disable and three of the holder's", by)
	}
	setHook.mu.Unlock()
	if bl, err := b.DB.DeliveryBacklog(ctx); err != nil || bl.Depth != 0 {
		t.Fatalf("backlog %+v %v", bl, err)
	}
}

// testLog logs errors to the test's log (a receiver's 500 is only a warning).
func testLog(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelError}))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// TestWebhooks_AFailedDeliveryIsNotLost: a receiver down for longer than
// the retries last leaves its event failed, not gone; the operator lists
// it through the admin API, retries it once the receiver is back, and the
// receiver gets the event (signed afresh) exactly once.
func TestWebhooks_AFailedDeliveryIsNotLost(t *testing.T) {
	ctx := context.Background()
	var clockMu sync.Mutex
	fake := time.Now().UTC()
	now := func() time.Time { clockMu.Lock(); defer clockMu.Unlock(); return fake }
	advance := func(d time.Duration) { clockMu.Lock(); fake = fake.Add(d); clockMu.Unlock() }

	secret := []byte("test-receiver-shared-secret-0123")
	var mu sync.Mutex
	up, attempts, accepted := false, 0, map[string]int{}
	rp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		attempts++
		if !up {
			http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
			return
		}
		var b delivery.Body
		if err := delivery.Verify(secret, r.Header.Get(delivery.SignatureHeader), body, now(), 5*time.Minute); err != nil || json.Unmarshal(body, &b) != nil {
			t.Errorf("the retried delivery: %v %s", err, body)
			http.Error(w, "bad", http.StatusBadRequest)
			return
		}
		accepted[string(b.Type)]++
		w.WriteHeader(http.StatusAccepted)
	}))
	defer rp.Close()
	seen := func() int { mu.Lock(); defer mu.Unlock(); return attempts }

	a, err := app.New(ctx, load(t, map[string]string{"data": t.TempDir(), "webhooks.max_attempts": "2",
		"webhooks.json_receivers": rp.URL + "|" + string(secret)}), testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	a.SetClock(now)
	a.Deliveries.Poll = 10 * time.Millisecond
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { a.Deliveries.Run(wctx); close(done) }()
	defer func() { cancel(); <-done }()
	site := httptest.NewServer(a.Handler())
	defer site.Close()

	acc, err := a.Accounts.Create(ctx, "holder@example.com", "correct horse battery staple", "en")
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Accounts.Disable(ctx, acc.ID); err != nil {
		t.Fatal(err)
	}
	// Disabling is two events: the account disabled, its sessions
	// revoked. each waits until the store has both deliveries in the
	// status after n attempts (the worker records an attempt after the
	// receiver answered).
	each := func(status delivery.Status, n int) []*delivery.Delivery {
		t.Helper()
		var ds []*delivery.Delivery
		var err error
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			if ds, err = a.DB.Deliveries(ctx, delivery.Query{Limit: 10}); err != nil {
				t.Fatal(err)
			}
			if len(ds) == 2 && ds[0].Status == status && ds[1].Status == status && ds[0].Attempts == n && ds[1].Attempts == n {
				return ds
			}
		}
		for _, d := range ds {
			t.Logf("%+v", d)
		}
		t.Fatalf("no two deliveries %s after %d attempts", status, n)
		return nil
	}
	each(delivery.Queued, 1)
	advance(11 * time.Second)
	ds := each(delivery.Failed, 2)
	if seen() != 4 || ds[0].LastError != "receiver answered 503" {
		t.Fatalf("after the last attempts: %d attempts seen, %+v", seen(), ds[0])
	}

	// The operator's program finds it and retries it once the receiver is
	// back.
	token, _, err := a.APIKeys.Create(ctx, "ops", []apikey.Scope{apikey.DeliveriesRead, apikey.DeliveriesWrite})
	if err != nil {
		t.Fatal(err)
	}
	call := func(method, path string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(method, site.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var v map[string]any
		json.NewDecoder(res.Body).Decode(&v)
		return res.StatusCode, v
	}
	code, list := call("GET", "/api/admin/deliveries?status=failed")
	listed, _ := list["deliveries"].([]any)
	if code != 200 || len(listed) != 2 || listed[0].(map[string]any)["kind"] != "webhook_json" {
		t.Fatalf("the failed deliveries: %d %v", code, list)
	}
	mu.Lock()
	up = true
	mu.Unlock()
	for _, d := range listed {
		if code, v := call("POST", "/api/admin/deliveries/"+d.(map[string]any)["id"].(string)+"/retry"); code != 200 {
			t.Fatalf("retry: %d %v", code, v)
		}
	}
	each(delivery.Sent, 1)
	mu.Lock()
	defer mu.Unlock()
	if attempts != 6 || accepted["account_disabled"] != 1 || accepted["session_revoked"] != 1 || len(accepted) != 2 {
		t.Fatalf("after the retries: %d attempts, accepted %v", attempts, accepted)
	}
}
