package httpcore

import (
	"errors"
	"mime"
	"net/http"

	"gatehouse/internal/session"
)

// maxForm bounds a form body. Passwords are at most 1,000 bytes; the rest
// of any form is small. A larger body is refused before it is read whole.
const maxForm = 64 << 10

// maxJSON bounds a JSON body (a WebAuthn response is a few KB).
const maxJSON = 64 << 10

// FormBody is the browser chains' body rule: a urlencoded form of at most
// 64 KiB, parsed.
func FormBody(w http.ResponseWriter, r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
		Answer(w, r, http.StatusUnsupportedMediaType, "error.content_type")
		return false
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			Answer(w, r, http.StatusRequestEntityTooLarge, "error.too_large")
		} else {
			Answer(w, r, http.StatusBadRequest, "error.invalid_text")
		}
		return false
	}
	return true
}

// JSONBody is the JSON chain's body rule: application/json, bounded to 64
// KiB, left for the handler to decode.
func JSONBody(w http.ResponseWriter, r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		Answer(w, r, http.StatusUnsupportedMediaType, "error.content_type")
		return false
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxJSON)
	return true
}

// NewJSON returns the chain of programs and of the pages' own scripts (WebAuthn
// ceremonies now; the admin API, the OIDC token endpoint and forward-auth
// next): a POST carries application/json (a route may take another body), a
// browser's cross-origin request is refused while a request without Origin
// and Sec-Fetch-Site is a program that must authenticate by the route's
// access level, errors are JSON objects, and a missing session is 401,
// never a redirect.
func NewJSON() *Chain {
	return &Chain{
		Name:      "api",
		Body:      JSONBody,
		Error:     JSONError,
		NoSession: func(w http.ResponseWriter, r *http.Request) { Fail(w, r, session.ErrNoSession) },
	}
}
