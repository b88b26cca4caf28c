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
	"gatehouse/internal/activity"
	"gatehouse/internal/address"
	"gatehouse/internal/backup"
	"gatehouse/internal/check"
	"gatehouse/internal/code"
	"gatehouse/internal/device"
	"gatehouse/internal/form"
	"gatehouse/internal/limit"
	"gatehouse/internal/outbox"
	"gatehouse/internal/passkey"
	"gatehouse/internal/password"
	"gatehouse/internal/phone"
	"gatehouse/internal/session"
	"gatehouse/internal/signin"
	"gatehouse/internal/totp"
)

// failure is what an error means to whoever made the request: the status
// to answer with and the catalog key of the sentence that explains it.
type failure struct {
	status int
	key    string
	// field is the form field the error is about, when it is about one: a
	// form that has it shows the sentence there (see formError).
	field string
}

// statusClientClosed is logged for a client that hung up before the answer
// (nginx's 499); nothing is written to it.
const statusClientClosed = 499

// failures is what every sentinel error a capability can return to a
// request means over HTTP: its status and the catalog key of the sentence
// that explains it (a key without arguments: the sentence is shown as it
// is). classify walks it in order. TestFailures_EverySentinelIsKnown keeps
// it whole: an exported Err… of a capability package that is neither here
// nor in notRequestErrors fails the test.
var failures = []struct {
	err error
	failure
}{
	{errUnknown, failure{http.StatusNotFound, "error.request_unknown", ""}},
	{signin.ErrInvalid, failure{http.StatusUnprocessableEntity, "error.signin_invalid", ""}},
	{signin.ErrDisabled, failure{http.StatusUnprocessableEntity, "error.signin_disabled", ""}},
	{signin.ErrSecondStep, failure{http.StatusUnprocessableEntity, "error.totp_wrong", "code"}},
	{signin.ErrPasskey, failure{http.StatusUnprocessableEntity, "error.passkey_refused", ""}},
	{signin.ErrMethod, failure{http.StatusNotFound, "error.request_unknown", ""}},
	{signin.ErrNoAttempt, failure{http.StatusNotFound, "error.request_unknown", ""}},
	{signin.ErrNoCodeSignIn, failure{http.StatusNotFound, "error.request_unknown", ""}},
	{signin.ErrStepPending, failure{http.StatusConflict, "error.step_pending", ""}},
	{account.ErrPasswordNeeded, failure{http.StatusUnprocessableEntity, "confirm.choose_title", ""}},
	{account.ErrEmailTaken, failure{http.StatusConflict, "error.email_taken_meanwhile", "email"}},
	{account.ErrInvalidEmail, failure{http.StatusUnprocessableEntity, "error.email_invalid", "email"}},
	{account.ErrInvalidPhone, failure{http.StatusUnprocessableEntity, "error.phone_invalid_plain", "phone"}},
	{account.ErrNotFound, failure{http.StatusNotFound, "error.request_unknown", ""}},
	{code.ErrWrongCode, failure{http.StatusUnprocessableEntity, "error.code_wrong_plain", "code"}},
	{code.ErrExpired, failure{http.StatusUnprocessableEntity, "error.code_expired", "code"}},
	{code.ErrUsed, failure{http.StatusUnprocessableEntity, "error.code_used", "code"}},
	{code.ErrLocked, failure{http.StatusUnprocessableEntity, "error.code_locked", "code"}},
	{code.ErrNoMore, failure{http.StatusTooManyRequests, "error.code_no_more", ""}},
	{code.ErrCooldown, failure{http.StatusTooManyRequests, "error.code_cooldown_plain", ""}},
	{code.ErrBlocked, failure{http.StatusTooManyRequests, "error.code_no_more", ""}},
	{code.ErrNotFound, failure{http.StatusNotFound, "error.request_unknown", ""}},
	{session.ErrNoSession, failure{http.StatusUnauthorized, "signin.needed", ""}},
	{session.ErrNotFound, failure{http.StatusNotFound, "error.request_unknown", ""}},
	{limit.ErrLimited, failure{http.StatusTooManyRequests, "error.limited_plain", ""}},
	{password.ErrBusy, failure{http.StatusServiceUnavailable, "error.busy", ""}},
	{activity.ErrNotFound, failure{http.StatusNotFound, "error.request_unknown", ""}},
	{activity.ErrAnswer, failure{http.StatusUnprocessableEntity, "error.answer_unknown", ""}},
	{activity.ErrAnswered, failure{http.StatusConflict, "why.already_answered", ""}},
	{address.ErrSame, failure{http.StatusUnprocessableEntity, "error.email_same", "email"}},
	{phone.ErrInvalid, failure{http.StatusUnprocessableEntity, "error.phone_invalid_plain", "phone"}},
	{phone.ErrNotMobile, failure{http.StatusUnprocessableEntity, "error.phone_not_mobile", "phone"}},
	{phone.ErrSame, failure{http.StatusUnprocessableEntity, "error.phone_same", "phone"}},
	{passkey.ErrCloned, failure{http.StatusUnprocessableEntity, "error.passkey_cloned", ""}},
	{passkey.ErrUnknown, failure{http.StatusUnprocessableEntity, "error.passkey_unknown", ""}},
	{passkey.ErrCeremony, failure{http.StatusUnprocessableEntity, "error.passkey_refused", ""}},
	{passkey.ErrInvalid, failure{http.StatusUnprocessableEntity, "error.passkey_refused", ""}},
	{passkey.ErrRelyingParty, failure{http.StatusUnprocessableEntity, "error.passkey_refused", ""}},
	{passkey.ErrName, failure{http.StatusUnprocessableEntity, "error.app_name", "name"}},
	{passkey.ErrDuplicate, failure{http.StatusUnprocessableEntity, "error.passkey_duplicate", ""}},
	{passkey.ErrNone, failure{http.StatusNotFound, "error.request_unknown", ""}},
	{passkey.ErrNotFound, failure{http.StatusNotFound, "error.request_unknown", ""}},
	{totp.ErrNoMatch, failure{http.StatusUnprocessableEntity, "error.totp_wrong", "code"}},
	{totp.ErrReplayed, failure{http.StatusUnprocessableEntity, "error.totp_wrong", "code"}},
	{totp.ErrName, failure{http.StatusUnprocessableEntity, "error.app_name", "name"}},
	{totp.ErrNotFound, failure{http.StatusNotFound, "error.request_unknown", ""}},
	{backup.ErrNoMatch, failure{http.StatusUnprocessableEntity, "error.backup_wrong", "code"}},
	{check.ErrEmpty, failure{http.StatusUnprocessableEntity, "error.check_empty", ""}},
	{check.ErrNotEmail, failure{http.StatusUnprocessableEntity, "error.check_not_email", ""}},
	{check.ErrTooLarge, failure{http.StatusRequestEntityTooLarge, "error.check_too_large", ""}},
	{outbox.ErrNotFound, failure{http.StatusNotFound, "error.request_unknown", ""}},
	{device.ErrNotFound, failure{http.StatusNotFound, "error.request_unknown", ""}},
}

// errUnknown is the handlers' own "no such request": a reference that does
// not parse, an id that names nothing, a page of a feature that is off. It
// answers like the capabilities' not-found errors.
var errUnknown = errors.New("web: no such request")

// classify is the one place an error from the capability packages becomes
// an HTTP status and a message, for pages and JSON alike. Handlers that show
// an error next to a field (formError, codeError, the sign-in form) take the
// key from here too, so one error never answers two ways.
func classify(ctx context.Context, err error) failure {
	var fe form.Errors
	if errors.As(err, &fe) {
		return failure{http.StatusUnprocessableEntity, "form.errors_above", ""}
	}
	for _, f := range failures {
		if errors.Is(err, f.err) {
			return f.failure
		}
	}
	if ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		return failure{statusClientClosed, "", ""}
	}
	return failure{http.StatusInternalServerError, "error.internal", ""}
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
