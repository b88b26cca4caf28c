package web

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"gatehouse/internal/account"
	"gatehouse/internal/code"
	"gatehouse/internal/form"
	"gatehouse/internal/limit"
	"gatehouse/internal/password"
	"gatehouse/internal/session"
	"gatehouse/internal/signin"
)

// failure is what an error means to whoever made the request: the status
// to answer with and the catalog key of the sentence that explains it.
type failure struct {
	status int
	key    string
}

// statusClientClosed is logged for a client that hung up before the answer
// (nginx's 499); nothing is written to it.
const statusClientClosed = 499

// classify is the one place an error from the capability packages becomes
// an HTTP status and a message, for pages and JSON alike. Handlers that show
// an error next to a field (formError, codeError, the sign-in form) take the
// key from here too, so one error never answers two ways.
func classify(ctx context.Context, err error) failure {
	var fe form.Errors
	switch {
	case errors.As(err, &fe):
		return failure{http.StatusUnprocessableEntity, "form.errors_above"}
	case errors.Is(err, signin.ErrInvalid):
		return failure{http.StatusUnprocessableEntity, "error.signin_invalid"}
	case errors.Is(err, signin.ErrDisabled):
		return failure{http.StatusUnprocessableEntity, "error.signin_disabled"}
	case errors.Is(err, account.ErrPasswordNeeded):
		return failure{http.StatusUnprocessableEntity, "confirm.choose_title"}
	case errors.Is(err, code.ErrWrongCode):
		return failure{http.StatusUnprocessableEntity, "error.code_wrong"}
	case errors.Is(err, code.ErrExpired):
		return failure{http.StatusUnprocessableEntity, "error.code_expired"}
	case errors.Is(err, code.ErrUsed):
		return failure{http.StatusUnprocessableEntity, "error.code_used"}
	case errors.Is(err, code.ErrLocked):
		return failure{http.StatusUnprocessableEntity, "error.code_locked"}
	case errors.Is(err, code.ErrNoMore):
		return failure{http.StatusTooManyRequests, "error.code_no_more"}
	case errors.Is(err, code.ErrCooldown):
		return failure{http.StatusTooManyRequests, "error.code_cooldown"}
	case errors.Is(err, code.ErrNotFound):
		return failure{http.StatusNotFound, "error.request_unknown"}
	case errors.Is(err, session.ErrNoSession):
		return failure{http.StatusUnauthorized, "signin.needed"}
	case errors.Is(err, limit.ErrLimited):
		return failure{http.StatusTooManyRequests, "error.limited"}
	case errors.Is(err, password.ErrBusy):
		return failure{http.StatusServiceUnavailable, "error.busy"}
	case ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)):
		return failure{statusClientClosed, ""}
	}
	return failure{http.StatusInternalServerError, "error.internal"}
}

// fail answers an error no form field explains: 503 when the hashing pool
// is full, 401/404/422/429 for what classify knows, 500 (logged, with no
// detail shown) otherwise — or 503 when the database is unreachable, since
// then every request fails the same way and clients and load balancers
// should back off rather than report a server bug. A client that hung up is
// not a server error: it is logged as a disconnect (status 499), and
// nothing is written to a connection nobody reads.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	var le *limit.Error
	if errors.As(err, &le) {
		s.limited(w, r, le)
		return
	}
	p := classify(r.Context(), err)
	switch p.status {
	case statusClientClosed:
		state(r).disconnected = true
		return
	case http.StatusInternalServerError:
		if s.Ready != nil {
			ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), time.Second)
			defer cancel()
			if rerr := s.Ready(ctx); rerr != nil {
				s.Log.WarnContext(r.Context(), "database unavailable", "err", err)
				s.answer(w, r, http.StatusServiceUnavailable, "error.unavailable")
				return
			}
		}
		s.Log.ErrorContext(r.Context(), "request failed", "err", err)
	}
	s.answer(w, r, p.status, p.key)
}

// limited answers a request a limit refused before evaluating it: 429,
// Retry-After in seconds, and a sentence saying how long to wait — the
// same for every account and address, so it tells nothing about them.
func (s *Server) limited(w http.ResponseWriter, r *http.Request, e *limit.Error) {
	s.tooSoon(w, r, "error.limited", e.RetryAfter())
}

// tooSoon answers 429 with Retry-After and key's sentence, which says the
// same wait in words ("wait 2 seconds", "wait 10 minutes").
func (s *Server) tooSoon(w http.ResponseWriter, r *http.Request, key string, wait time.Duration) {
	secs := max(int((wait+time.Second-1)/time.Second), 1)
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	lang := state(r).lang
	text := s.Catalog.T(lang, key, s.Catalog.Wait(lang, time.Duration(secs)*time.Second))
	if state(r).chain == api {
		s.jsonErrorText(w, r, http.StatusTooManyRequests, key, text)
		return
	}
	s.errorPageText(w, r, http.StatusTooManyRequests, key, text)
}

// answer writes an error in the form the route's chain speaks: a page in
// the holder's language, or a JSON object with a stable code and the same
// sentence.
func (s *Server) answer(w http.ResponseWriter, r *http.Request, status int, key string) {
	if state(r).chain == api {
		s.jsonError(w, r, status, key)
		return
	}
	s.errorPage(w, r, status, key)
}

// apiError is the body of every JSON error: Code is stable for programs
// (the catalog key without its "error." prefix), Message is for people, in
// the language the request asked for.
type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func (s *Server) jsonError(w http.ResponseWriter, r *http.Request, status int, key string) {
	s.jsonErrorText(w, r, status, key, s.Catalog.T(state(r).lang, key))
}

// jsonErrorText is jsonError with the sentence already written (one that
// needs numbers).
func (s *Server) jsonErrorText(w http.ResponseWriter, r *http.Request, status int, key, text string) {
	var body apiError
	body.Error.Code = strings.TrimPrefix(key, "error.")
	body.Error.Message = text
	if status == http.StatusServiceUnavailable && w.Header().Get("Retry-After") == "" {
		w.Header().Set("Retry-After", "2")
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Language", state(r).lang)
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(body)
}
