// Package httpcoretest calls a front door's handler the way a program or a
// browser would, for the tests of the core and of every door.
package httpcoretest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

// Call sends one request to h, at host id.example, with the content type
// (when not empty), body and headers given, and returns the answer.
func Call(h http.Handler, method, path, ctype, body string, hdr map[string]string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, "http://id.example"+path, strings.NewReader(body))
	if ctype != "" {
		r.Header.Set("Content-Type", ctype)
	}
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// JSONCode returns the stable code of a JSON error answer, failing the
// test when the answer is not one (not JSON, or without a message).
func JSONCode(t *testing.T, w *httptest.ResponseRecorder) string {
	t.Helper()
	if ct := w.Header().Get("Content-Type"); ct != "application/json" {
		t.Fatalf("error answered as %q, not JSON: %s", ct, w.Body)
	}
	var e struct {
		Error struct{ Code, Message string }
	}
	if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Error.Message == "" {
		t.Fatalf("error body %q: %v", w.Body, err)
	}
	return e.Error.Code
}

// StableHeaders lists a response's headers as sorted "Name: value" lines,
// less those that differ from one response to the next (date, length,
// cookies, the request's id): two answers' policies compare equal.
func StableHeaders(h http.Header) []string {
	var out []string
	for k, vs := range h {
		switch k {
		case "Date", "Content-Length", "Set-Cookie", "X-Request-Id":
			continue
		}
		out = append(out, k+": "+strings.Join(vs, ", "))
	}
	slices.Sort(out)
	return out
}
