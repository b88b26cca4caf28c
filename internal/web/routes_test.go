package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"gatehouse/internal/httpcore"
)

// TestRoutes_EveryRouteDeclaresAccessAndChain_V8_1_1 walks the one route
// table: every URL declares an access level and a chain, no URL is listed
// twice, each answers (never the 404 of an unknown address), and what a
// signed-out visitor gets from a signed-in URL follows its chain — the
// sign-in page for pages, 401 for the API — so the table is what is
// enforced (ASVS v5.0.0-8.1.1: the access rules are documented in one
// place and applied from it).
func TestRoutes_EveryRouteDeclaresAccessAndChain_V8_1_1(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	seen := map[string]bool{}
	routes := httpcore.Info(h.app.Routes())
	if len(routes) < 20 {
		t.Fatalf("only %d routes listed", len(routes))
	}
	for _, rt := range routes {
		key := rt.Method + " " + rt.Path
		if seen[key] {
			t.Errorf("%s listed twice", key)
		}
		seen[key] = true
		if rt.Access == "undeclared" || rt.Chain == "undeclared" {
			t.Errorf("%s: access %s, chain %s", key, rt.Access, rt.Chain)
		}
		path := strings.TrimSuffix(rt.Path, "{$}")
		if path == "/static/" {
			path = "/static/app.css" // a subtree: one of its files
		}
		b := h.browser("en")
		var r *resp
		switch rt.Method {
		case "POST":
			r = b.post(path, url.Values{})
		case "GET":
			r = b.get(path)
		default: // the admin API's DELETEs, as a program sends them
			req, _ := http.NewRequest(rt.Method, b.h.base+path, nil)
			r = b.do(req)
		}
		// A 404 here may be the route's own answer (a request id missing,
		// the dev mailbox off); the mux's "no page at this address" is not.
		if r.status == 404 && strings.Contains(r.body, "There is no page at this address") {
			t.Errorf("%s answered as an unknown address: the table and the server disagree", key)
		}
		if r.status >= 500 {
			t.Errorf("%s answered %d: an error no mapper knows, or a handler that fails on an empty request", key, r.status)
		}
		if r.status == 405 {
			t.Errorf("%s answered 405: the table and the server disagree", key)
		}
		if rt.Access == "password-checked" {
			// No pending sign-in of this browser named: the request is
			// unknown, whatever the chain.
			if r.status != 404 || !strings.Contains(r.body, "This request has expired or is already complete") {
				t.Errorf("%s without a pending sign-in: %d", key, r.status)
			}
			continue
		}
		if rt.Access != "signed-in" && rt.Access != "recently-verified" {
			continue
		}
		switch rt.Chain {
		case "pages":
			if r.status != 303 || !strings.HasPrefix(r.location, "/signin") {
				t.Errorf("%s without a session: %d → %q, want the sign-in page", key, r.status, r.location)
			}
		case "api":
			if r.status != 401 || r.location != "" {
				t.Errorf("%s without a session: %d → %q, want 401", key, r.status, r.location)
			}
		}
	}
}
