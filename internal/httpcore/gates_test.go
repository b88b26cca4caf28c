package httpcore

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"gatehouse/internal/account"
	"gatehouse/internal/clock"
	"gatehouse/internal/i18n"
	"gatehouse/internal/request"
	"gatehouse/internal/session"
	"gatehouse/internal/sqlite"
)

// gated is a server over a real session store with one route per gate,
// each answering with the path it reached, and a holder's session token.
type gated struct {
	h     http.Handler
	token string
	db    *sqlite.DB
	clk   *clock.Fake
}

func newGated(t *testing.T, admit bool) *gated {
	t.Helper()
	ctx := context.Background()
	db := openDB(t)
	now := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	clk := clock.NewFake(now)
	if err := db.CreateAccount(ctx, &account.Account{ID: "acc", Email: "a@example.com", PasswordHash: "x", Status: account.Active, CreatedAt: now, PasswordChangedAt: now}); err != nil {
		t.Fatal(err)
	}
	sessions := &session.Manager{Store: db, Clock: clk.Clock(), Lifetimes: session.Lifetimes{Idle: time.Hour, Absolute: 24 * time.Hour, Remember: time.Hour}}
	g, err := sessions.Grant(ctx, "acc", request.Origin{IP: "192.0.2.1", Time: now}, false, "")
	if err != nil {
		t.Fatal(err)
	}
	pages := testPages()
	pages.Compromised = func(w http.ResponseWriter, r *http.Request) { Redirect(w, r, "/new-password", nil) }
	pages.Stale = func(w http.ResponseWriter, r *http.Request) { Redirect(w, r, "/reverify", nil) }
	pages.Busy = func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, "busy page")
	}
	reached := func(w http.ResponseWriter, r *http.Request) {
		st := StateOf(r)
		who := "visitor"
		if st.Account != nil {
			who = st.Account.ID
		}
		io.WriteString(w, r.URL.Path+" "+who)
	}
	s := &Server{
		Catalog: i18n.New(), Log: slog.New(slog.DiscardHandler), Clock: clk.Clock(), Sessions: sessions,
		StepUpWithin: 10 * time.Minute, Unrouted: map[string]*Chain{"/": pages},
		Hosts: []string{"id.example"}, TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
		Admit: func(ctx context.Context, network string) (context.Context, func(), time.Duration, bool) {
			return ctx, func() {}, 3 * time.Second, admit
		},
	}
	h := s.Handler([]Route{
		{Method: "GET", Path: "/mine", Access: SignedIn, Chain: pages, Handler: reached},
		{Method: "GET", Path: "/fix", Access: SignedIn, Chain: pages, WhileCompromised: true, Handler: reached},
		{Method: "GET", Path: "/sensitive", Access: RecentlyVerified, Chain: pages, Handler: reached},
		{Method: "GET", Path: "/greet", Access: Public, Chain: pages, Session: true, Handler: reached},
		{Method: "POST", Path: "/hash", Access: Public, Chain: pages, Cost: Hashes, Handler: reached},
		{Method: "GET", Path: "/ip", Access: Public, Chain: pages, Handler: func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, StateOf(r).IP) }},
	})
	return &gated{h: h, token: g.Token, db: db, clk: clk}
}

func (g *gated) get(path string, signedIn bool) (int, string, string) {
	hdr := map[string]string{}
	if signedIn {
		hdr["Cookie"] = SessionCookie + "=" + g.token
	}
	w := call(g.h, "GET", path, "", "", hdr)
	return w.Code, w.Body.String(), w.Header().Get("Location")
}

// TestGates_SessionRecentProofAndCompromisedPassword_V7_2_1: the signed-in
// gate lets a live session through and sends anyone else where the chain
// says; a public route that greets a holder reads the session without
// requiring it; a sensitive route needs a proof within the step-up window;
// a holder whose password is known to someone else reaches only the routes
// marked WhileCompromised.
func TestGates_SessionRecentProofAndCompromisedPassword_V7_2_1(t *testing.T) {
	t.Parallel()
	g := newGated(t, true)
	if code, body, _ := g.get("/mine", true); code != 200 || body != "/mine acc" {
		t.Fatalf("signed in: %d %q", code, body)
	}
	if code, _, loc := g.get("/mine", false); code != 303 || loc != "/signin" {
		t.Fatalf("signed out: %d %q", code, loc)
	}
	if code, body, _ := g.get("/greet", true); code != 200 || body != "/greet acc" {
		t.Fatalf("public route, signed in: %d %q", code, body)
	}
	if code, body, _ := g.get("/greet", false); code != 200 || body != "/greet visitor" {
		t.Fatalf("public route, visitor: %d %q", code, body)
	}
	if code, body, _ := g.get("/sensitive", true); code != 200 || body != "/sensitive acc" {
		t.Fatalf("fresh proof: %d %q", code, body)
	}
	g.clk.Advance(11 * time.Minute)
	if code, _, loc := g.get("/sensitive", true); code != 303 || loc != "/reverify" {
		t.Fatalf("stale proof: %d %q", code, loc)
	}
	if err := g.db.MarkPasswordCompromised(context.Background(), "acc", g.clk.Now()); err != nil {
		t.Fatal(err)
	}
	if code, _, loc := g.get("/mine", true); code != 303 || loc != "/new-password" {
		t.Fatalf("compromised password, another page: %d %q", code, loc)
	}
	if code, body, _ := g.get("/fix", true); code != 200 || body != "/fix acc" {
		t.Fatalf("compromised password, the page that fixes it: %d %q", code, body)
	}
}

// TestChain_BusyHostsAndProxies: a hashing route is refused before its
// body is read while the pool is full (the chain's fixed answer, with
// Retry-After); a Host the server is not is 421 with no page; the client's
// address is the nearest one a trusted proxy vouches for.
func TestChain_BusyHostsAndProxies(t *testing.T) {
	t.Parallel()
	busy := newGated(t, false)
	w := call(busy.h, "POST", "/hash", "application/x-www-form-urlencoded", "x=1", map[string]string{"Sec-Fetch-Site": "same-origin"})
	if w.Code != 503 || w.Body.String() != "busy page" || w.Header().Get("Retry-After") != "3" {
		t.Fatalf("busy: %d %q Retry-After %q", w.Code, w.Body, w.Header().Get("Retry-After"))
	}
	g := newGated(t, true)
	if w := call(g.h, "POST", "/hash", "application/x-www-form-urlencoded", "x=1", map[string]string{"Sec-Fetch-Site": "same-origin"}); w.Code != 200 {
		t.Fatalf("admitted: %d %s", w.Code, w.Body)
	}
	r, _ := http.NewRequest("GET", "http://evil.example/mine", nil)
	rw := &recorder{header: http.Header{}}
	g.h.ServeHTTP(rw, r)
	if rw.code != http.StatusMisdirectedRequest || strings.Contains(rw.body.String(), "<html") {
		t.Fatalf("foreign host: %d %q", rw.code, rw.body.String())
	}
	for _, tc := range []struct{ peer, xff, want string }{
		{"192.0.2.7:1234", "203.0.113.9", "192.0.2.7"},                          // not a proxy: its header proves nothing
		{"10.0.0.2:1234", "203.0.113.9", "203.0.113.9"},                         // a trusted proxy's client
		{"10.0.0.2:1234", "198.51.100.1, 203.0.113.9, 10.0.0.3", "203.0.113.9"}, // through two proxies; the leftmost is the client's own claim
	} {
		r := httpRequest("GET", "http://id.example/ip", tc.peer, tc.xff)
		rw := &recorder{header: http.Header{}}
		g.h.ServeHTTP(rw, r)
		if got := rw.body.String(); got != tc.want {
			t.Errorf("peer %s, X-Forwarded-For %q: client %q, want %q", tc.peer, tc.xff, got, tc.want)
		}
	}
	// Every answer carries the security headers.
	w = call(g.h, "GET", "/greet", "", "", nil)
	for _, h := range []string{"Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy", "X-Request-Id"} {
		if w.Header().Get(h) == "" {
			t.Errorf("no %s", h)
		}
	}
}

func httpRequest(method, url, peer, xff string) *http.Request {
	r, _ := http.NewRequest(method, url, nil)
	r.RemoteAddr = peer
	if xff != "" {
		r.Header.Set("X-Forwarded-For", xff)
	}
	return r
}

// recorder is a minimal ResponseWriter (httptest's sets its own Host).
type recorder struct {
	header http.Header
	code   int
	body   strings.Builder
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) WriteHeader(c int) {
	if r.code == 0 {
		r.code = c
	}
}
func (r *recorder) Write(b []byte) (int, error) {
	if r.code == 0 {
		r.code = 200
	}
	return r.body.Write(b)
}
