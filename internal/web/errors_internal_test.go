package web

import (
	"errors"
	"fmt"
	"html"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"gatehouse/internal/httpcore"
	"gatehouse/internal/httpcore/httpcoretest"
	"gatehouse/internal/i18n"
)

// TestFailures_EveryMappedErrorAnswersInBothChains: each sentinel in the
// table, even wrapped, answers its status — never 500 — as a page with
// the sentence in both languages and as JSON with its code, with no
// missing catalog key and no unfilled argument.
func TestFailures_EveryMappedErrorAnswersInBothChains(t *testing.T) {
	t.Parallel()
	s := &Server{Catalog: i18n.New(), Log: slog.New(slog.DiscardHandler)}
	api := httpcore.NewJSON()
	core := &httpcore.Server{Catalog: s.Catalog, Log: s.Log, Clock: s.Clock, Unrouted: map[string]*httpcore.Chain{"/": s.Pages()}}
	fail := func(w http.ResponseWriter, r *http.Request) { httpcore.Fail(w, r, failAt(r)) }
	h := core.Handler([]httpcore.Route{
		{Method: "GET", Path: "/page/{n}", Access: httpcore.Public, Chain: s.Pages(), Handler: fail},
		{Method: "GET", Path: "/api/{n}", Access: httpcore.Public, Chain: api, Handler: fail},
	})
	failures := httpcore.Mappings()
	for i, f := range failures {
		for _, lang := range []string{"en", "ja"} {
			page := call(h, "GET", fmt.Sprintf("/page/%d", i), "", "", map[string]string{"Accept-Language": lang})
			body := page.Body.String()
			if page.Code != f.Status || page.Code == http.StatusInternalServerError {
				t.Errorf("%v (%s page): %d, want %d", f.Err, lang, page.Code, f.Status)
			}
			if want := s.Catalog.T(lang, f.Key); !strings.Contains(html.UnescapeString(body), want) || strings.Contains(body, "!(") || strings.Contains(body, "%!") {
				t.Errorf("%v (%s page) does not say %q cleanly:\n%s", f.Err, lang, want, body)
			}
		}
		j := call(h, "GET", fmt.Sprintf("/api/%d", i), "", "", nil)
		if j.Code != f.Status {
			t.Errorf("%v (JSON): %d, want %d", f.Err, j.Code, f.Status)
		}
		if code := jsonCode(t, j); code != strings.TrimPrefix(f.Key, "error.") {
			t.Errorf("%v (JSON): code %q for key %s", f.Err, code, f.Key)
		}
	}
}

// failAt is the table's i-th sentinel, wrapped as a capability wraps it.
func failAt(r *http.Request) error {
	var i int
	fmt.Sscan(r.PathValue("n"), &i)
	return fmt.Errorf("some operation: %w", errors.Join(httpcore.Mappings()[i].Err))
}

var (
	call     = httpcoretest.Call
	jsonCode = httpcoretest.JSONCode
)
