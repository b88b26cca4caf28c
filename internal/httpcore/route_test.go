package httpcore

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"gatehouse/internal/device"
	"gatehouse/internal/i18n"
	"gatehouse/internal/ratelimit"
	"gatehouse/internal/request"
)

// factServer serves test routes that show what the chain did before the
// handler: the lookup allowance, the origin, an unrouted URL's chain.
func factServer(t *testing.T, table []Route, lookups int) (*Server, http.Handler) {
	t.Helper()
	db := openDB(t)
	s := &Server{
		Catalog: i18n.New(), Log: slog.New(slog.DiscardHandler),
		Devices:  &device.Devices{Store: db, UserAgents: &device.UserAgents{}},
		Lookups:  &ratelimit.Limiter{Burst: lookups, Per: time.Minute, Now: time.Now},
		Unrouted: map[string]*Chain{"/": testPages(), "/api/": NewJSON()},
	}
	return s, s.Handler(table)
}

// TestUnrouted_AnsweredByTheChainOfItsPrefix: a URL no route has is
// answered by the chain of the longest matching prefix — a page, or JSON
// under /api/ — and a known path with the wrong method is 405 with Allow.
func TestUnrouted_AnsweredByTheChainOfItsPrefix(t *testing.T) {
	t.Parallel()
	ok := func(w http.ResponseWriter, r *http.Request) {}
	_, h := factServer(t, []Route{{Method: "GET", Path: "/x", Access: Public, Chain: testPages(), Handler: ok}}, 10)
	if w := call(h, "GET", "/nowhere", "", "", nil); w.Code != 404 || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") {
		t.Errorf("unknown page: %d %q", w.Code, w.Header().Get("Content-Type"))
	}
	if w := call(h, "GET", "/api/nowhere", "", "", nil); w.Code != 404 || jsonCode(t, w) != "not_found" {
		t.Errorf("unknown API URL: %d %s", w.Code, w.Body)
	}
	if w := call(h, "DELETE", "/x", "", "", map[string]string{"Sec-Fetch-Site": "same-origin"}); w.Code != 405 || w.Header().Get("Allow") != "GET, HEAD" {
		t.Errorf("wrong method: %d Allow %q", w.Code, w.Header().Get("Allow"))
	}
}

// TestRoute_LookupsAreTakenBeforeTheHandler: a route marked Lookups spends
// one of the network's lookups before its handler runs; with none left the
// handler never runs and the answer is 429 with Retry-After.
func TestRoute_LookupsAreTakenBeforeTheHandler(t *testing.T) {
	t.Parallel()
	ran := 0
	_, h := factServer(t, []Route{{Method: "GET", Path: "/api/look", Access: Public, Chain: NewJSON(), Lookups: true,
		Handler: func(w http.ResponseWriter, r *http.Request) { ran++ }}}, 2)
	for i := range 3 {
		w := call(h, "GET", "/api/look", "", "", nil)
		if want := map[bool]int{true: 200, false: 429}[i < 2]; w.Code != want {
			t.Fatalf("lookup %d: %d, want %d", i+1, w.Code, want)
		}
		if i == 2 && (w.Header().Get("Retry-After") == "" || jsonCode(t, w) != "too_many_lookups") {
			t.Fatalf("refusal: Retry-After %q, %s", w.Header().Get("Retry-After"), w.Body)
		}
	}
	if ran != 2 {
		t.Fatalf("the handler ran %d times, want 2", ran)
	}
}

// TestRoute_OriginIsWorkedOutOnceInTheChain: a route marked Origin finds
// the request's origin before its handler (a new browser gets its device
// cookie), a program's request names its client instead of a device, and a
// handler of a route not marked that asks for it is a table mistake
// answered 500, never a request recorded without its origin.
func TestRoute_OriginIsWorkedOutOnceInTheChain(t *testing.T) {
	t.Parallel()
	var got []request.Origin
	record := func(w http.ResponseWriter, r *http.Request) {
		got = append(got, OriginOf(r))
		got = append(got, OriginOf(r)) // asked twice, worked out once
	}
	_, h := factServer(t, []Route{
		{Method: "GET", Path: "/api/record", Access: Public, Chain: NewJSON(), Origin: true, Handler: record},
		{Method: "GET", Path: "/api/unmarked", Access: Public, Chain: NewJSON(), Handler: record},
	}, 10)
	w := call(h, "GET", "/api/record", "", "", map[string]string{"User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"})
	if w.Code != 200 || len(got) != 2 || got[0].DeviceID == "" || got[0] != got[1] || got[0].Browser != "Firefox 128" || got[0].Client != "" {
		t.Fatalf("browser origin: %d %+v", w.Code, got)
	}
	if !strings.Contains(w.Header().Get("Set-Cookie"), DeviceCookie+"=") {
		t.Fatalf("a new browser got no device cookie: %q", w.Header().Get("Set-Cookie"))
	}
	if w := call(h, "GET", "/api/unmarked", "", "", nil); w.Code != 500 {
		t.Fatalf("an unmarked route read its origin: %d", w.Code)
	}

	// A program's request: its door's gate names the client, and the
	// origin names it instead of a device (no cookie, no device row).
	s2, _ := factServer(t, nil, 10)
	r, _ := http.NewRequest("GET", "http://id.example/api/record", nil)
	st := &State{srv: s2, IP: "198.51.100.4", Client: "billing-app"}
	r = r.WithContext(context.WithValue(r.Context(), ctxKey{}, st))
	o, err := s2.origin(nil, r)
	if err != nil || o.Client != "billing-app" || o.DeviceID != "" || o.IP != "198.51.100.4" {
		t.Fatalf("a program's origin: %+v %v", o, err)
	}
}

// TestDoor_OwnAccessLevelWithItsGate: a front door that is not in this
// package (an admin API, next) declares a level of its own with its gate,
// reuses the core's chain steps, and its requests' origin names the
// program; a door level without a gate stops the server.
func TestDoor_OwnAccessLevelWithItsGate(t *testing.T) {
	t.Parallel()
	const apiKey = Door + 1
	keyGate := func(rt *Route, next http.HandlerFunc) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "Bearer k1" {
				Answer(w, r, http.StatusUnauthorized, "signin.needed")
				return
			}
			StateOf(r).Client = "billing-app"
			next(w, r)
		}
	}
	var seen request.Origin
	route := Route{Method: "POST", Path: "/api/admin/thing", Access: apiKey, Chain: NewJSON(), Origin: true,
		Handler: func(w http.ResponseWriter, r *http.Request) { seen = OriginOf(r) }}
	s, _ := factServer(t, nil, 10)
	s.Gates = map[Access]Gate{apiKey: keyGate}
	h := s.Handler([]Route{route})
	if w := call(h, "POST", "/api/admin/thing", "application/json", "{}", nil); w.Code != 401 || jsonCode(t, w) != "signin.needed" {
		t.Fatalf("no key: %d %s", w.Code, w.Body)
	}
	if w := call(h, "POST", "/api/admin/thing", "application/json", "{}", map[string]string{"Authorization": "Bearer k1"}); w.Code != 200 {
		t.Fatalf("with the key: %d %s", w.Code, w.Body)
	}
	if seen.Client != "billing-app" || seen.DeviceID != "" {
		t.Fatalf("origin %+v: want the program named, no device", seen)
	}
	if got := Info([]Route{route})[0].Access; got != "door-1" {
		t.Fatalf("the level is listed as %q", got)
	}
	bare, _ := factServer(t, nil, 10)
	defer func() {
		if recover() == nil {
			t.Fatal("a door level without a gate was served")
		}
	}()
	bare.Handler([]Route{route})
}

// TestSecret_PasswordReadExactlyAsTyped_V6_2_8: a password field keeps its
// outer spaces and inner characters (NIST SP 800-63B-4: verify what was
// typed), while an ordinary field is trimmed and refuses control
// characters.
func TestSecret_PasswordReadExactlyAsTyped_V6_2_8(t *testing.T) {
	t.Parallel()
	r := httptest.NewRequest("POST", "/", strings.NewReader("password=%20%20Pass+word%09+&email=+a%40example.com+&bad=x%07y"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if got := Secret(r, "password"); got != "  Pass word\t " {
		t.Errorf("password read as %q", got)
	}
	if got, ok := Field(r, "email"); got != "a@example.com" || !ok {
		t.Errorf("email read as %q, %v", got, ok)
	}
	if _, ok := Field(r, "bad"); ok {
		t.Error("a control character was accepted")
	}
}

// TestSecurityHeaders_CanonicalKeys: the shared header values are stored
// under their canonical keys (a direct map write does not canonicalise),
// each with capacity 1 so that an Add never writes into the shared array.
func TestSecurityHeaders_CanonicalKeys(t *testing.T) {
	for _, v := range securityHeaderValues {
		if http.CanonicalHeaderKey(v.key) != v.key || cap(v.value) != 1 {
			t.Errorf("%q: canonical %q, capacity %d", v.key, http.CanonicalHeaderKey(v.key), cap(v.value))
		}
	}
	h := http.Header{}
	(&Server{}).securityHeaders(h)
	h.Add("Cache-Control", "private")
	if got := securityHeaderValues[len(securityHeaderValues)-1].value; len(got) != 1 || got[0] != "no-store" {
		t.Fatalf("an Add changed the shared value: %v", got)
	}
}
