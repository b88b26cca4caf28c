package httpcore

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gatehouse/internal/httpcore/httpcoretest"
	"gatehouse/internal/i18n"
	"gatehouse/internal/session"
	"gatehouse/internal/sqlite"
)

// TestRouteCheck_RefusesUndeclaredOrUngatedEntries: a table entry without an
// access level or a chain, or with a level the server cannot enforce yet,
// stops the server instead of opening a URL.
func TestRouteCheck_RefusesUndeclaredOrUngatedEntries(t *testing.T) {
	t.Parallel()
	h := func(http.ResponseWriter, *http.Request) {}
	pages, api := testPages(), NewJSON()
	bad := []Route{
		{Method: "GET", Path: "/a", Chain: pages, Handler: h},
		{Method: "GET", Path: "/b", Access: Public, Handler: h},
		{Method: "GET", Path: "/d", Access: Access(99), Chain: api, Handler: h},
		{Method: "GET", Path: "/e", Access: Public, Chain: pages},
		{Method: "GET", Path: "/f", Access: PasswordChecked, Chain: pages, Handler: h},                       // no gate for the level
		{Method: "GET", Path: "/g", Access: RecentlyVerified, Chain: api, Handler: h},                        // the chain cannot ask for a fresh proof
		{Method: "POST", Path: "/h", Access: Public, Chain: &Chain{Name: "x", Error: JSONError}, Handler: h}, // a body nobody checks
		{Method: "GET", Path: "/i", Access: Public, Chain: &Chain{Name: "y"}, Handler: h},                    // no way to answer errors
		{Method: "POST", Path: "/j", Access: Public, Chain: pages, Origin: true, Handler: h},                 // an origin, and no devices
	}
	for _, rt := range bad {
		s := &Server{Catalog: i18n.New(), Log: slog.New(slog.DiscardHandler), Sessions: &session.Manager{}, Unrouted: map[string]*Chain{"/": pages}}
		if s.check(&rt) == nil {
			t.Errorf("%s accepted: %+v", rt.Path, rt)
		}
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: the server started with a bad route", rt.Path)
				}
			}()
			s.Handler([]Route{rt})
		}()
	}
	s := &Server{Catalog: i18n.New(), Log: slog.New(slog.DiscardHandler), Sessions: &session.Manager{}, Unrouted: map[string]*Chain{"/": pages}}
	if err := s.check(&Route{Method: "GET", Path: "/ok", Access: SignedIn, Chain: api, Handler: h}); err != nil {
		t.Errorf("a good route refused: %v", err)
	}
}

// testPages is a browser chain like the holder's pages, answering errors
// as a tiny HTML page.
func testPages() *Chain {
	return &Chain{
		Name: "pages", Browser: true, Body: FormBody,
		Error: func(w http.ResponseWriter, r *http.Request, status int, key, text string) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(status)
			io.WriteString(w, "<p>"+text+"</p>")
		},
		NoSession: func(w http.ResponseWriter, r *http.Request) { Redirect(w, r, "/signin", nil) },
	}
}

// chainServer is a server with only test routes: one JSON route per access
// level the chains enforce, echoing what it decoded.
func chainServer(t *testing.T) http.Handler {
	t.Helper()
	db := openDB(t)
	pages, api := testPages(), NewJSON()
	s := &Server{
		Catalog: i18n.New(), Log: slog.New(slog.DiscardHandler),
		Sessions: &session.Manager{Store: db, Lifetimes: session.Lifetimes{Idle: time.Hour, Absolute: time.Hour, Remember: time.Hour}},
		Unrouted: map[string]*Chain{"/": pages, "/api/": api},
	}
	echo := func(w http.ResponseWriter, r *http.Request) {
		var v map[string]any
		if err := json.NewDecoder(r.Body).Decode(&v); err != nil {
			Answer(w, r, http.StatusBadRequest, "error.invalid_text")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(v)
	}
	return s.Handler([]Route{
		{Method: "POST", Path: "/api/echo", Access: Public, Chain: api, Handler: echo},
		{Method: "POST", Path: "/api/mine", Access: SignedIn, Chain: api, Handler: echo},
		{Method: "POST", Path: "/form", Access: Public, Chain: pages, Handler: func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, r.PostFormValue("x")) }},
	})
}

// TestAPIChain_JSONBodiesOwnErrorsNoRedirects_V3_5_1: the api chain takes
// JSON from programs (no Origin) and from our own pages' scripts, refuses a
// browser's cross-site request, answers every error as JSON, and a missing
// session is 401 — never the sign-in page's redirect. The pages chain keeps
// its rules beside it.
func TestAPIChain_JSONBodiesOwnErrorsNoRedirects_V3_5_1(t *testing.T) {
	t.Parallel()
	h := chainServer(t)
	sameOrigin := map[string]string{"Sec-Fetch-Site": "same-origin"}

	if w := call(h, "POST", "/api/echo", "application/json", `{"a":1}`, nil); w.Code != 200 || !strings.Contains(w.Body.String(), `"a":1`) {
		t.Fatalf("a program's JSON post: %d %s", w.Code, w.Body)
	}
	if w := call(h, "POST", "/api/echo", "application/json; charset=utf-8", `{"a":2}`, sameOrigin); w.Code != 200 {
		t.Fatalf("our page's script: %d %s", w.Code, w.Body)
	}
	w := call(h, "POST", "/api/echo", "application/json", `{}`, map[string]string{"Sec-Fetch-Site": "cross-site"})
	if w.Code != 403 || jsonCode(t, w) != "cross_origin" {
		t.Fatalf("cross-site browser request: %d %s", w.Code, w.Body)
	}
	w = call(h, "POST", "/api/echo", "application/json", `{}`, map[string]string{"Origin": "https://evil.example"})
	if w.Code != 403 || jsonCode(t, w) != "cross_origin" {
		t.Fatalf("foreign Origin: %d %s", w.Code, w.Body)
	}
	w = call(h, "POST", "/api/echo", "application/x-www-form-urlencoded", "a=1", nil)
	if w.Code != 415 || jsonCode(t, w) != "content_type" {
		t.Fatalf("form body on a JSON route: %d %s", w.Code, w.Body)
	}
	w = call(h, "POST", "/api/echo", "application/json", `{"a":"`+strings.Repeat("x", maxJSON)+`"}`, nil)
	if w.Code != 400 || jsonCode(t, w) != "invalid_text" {
		t.Fatalf("oversized JSON: %d %s", w.Code, w.Body)
	}
	w = call(h, "POST", "/api/mine", "application/json", `{}`, map[string]string{"Cookie": SessionCookie + "=forged"})
	if w.Code != 401 || w.Header().Get("Location") != "" || jsonCode(t, w) != "signin.needed" {
		t.Fatalf("no session on a JSON route: %d %q %s", w.Code, w.Header().Get("Location"), w.Body)
	}
	if !strings.Contains(w.Header().Get("Set-Cookie"), SessionCookie+"=;") {
		t.Fatalf("the dead session cookie was not cleared: %q", w.Header().Get("Set-Cookie"))
	}

	// The pages chain beside it: a form post without Origin or
	// Sec-Fetch-Site is refused as a page, JSON is not a form.
	w = call(h, "POST", "/form", "application/x-www-form-urlencoded", "x=1", nil)
	if w.Code != 403 || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") {
		t.Fatalf("form post without Origin: %d %q", w.Code, w.Header().Get("Content-Type"))
	}
	if w := call(h, "POST", "/form", "application/x-www-form-urlencoded", "x=1", sameOrigin); w.Code != 200 || w.Body.String() != "1" {
		t.Fatalf("form post: %d %s", w.Code, w.Body)
	}
	if w := call(h, "POST", "/form", "application/json", "{}", sameOrigin); w.Code != 415 || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") {
		t.Fatalf("JSON on a form route: %d", w.Code)
	}
}

var (
	call     = httpcoretest.Call
	jsonCode = httpcoretest.JSONCode
)

// openDB opens a fresh SQLite database for one test.
func openDB(t *testing.T) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "t.db"), true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
