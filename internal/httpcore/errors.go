package httpcore

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

// Failure is what an error means to whoever made the request: the status
// to answer with and the catalog key of the sentence that explains it.
type Failure struct {
	Status int
	Key    string
	// field is the form field the error is about, when it is about one: a
	// form that has it shows the sentence there (the pages' formError).
	Field string
}

// StatusClientClosed is logged for a client that hung up before the answer
// (nginx's 499); nothing is written to it.
const StatusClientClosed = 499

// failures is what every sentinel error a capability can return to a
// request means over HTTP: its status and the catalog key of the sentence
// that explains it (a key without arguments: the sentence is shown as it
// is). Classify walks it in order. TestFailures_EverySentinelIsKnown keeps
// it whole: an exported Err… of a capability package that is neither here
// nor in notRequestErrors fails the test.
var failures = []Mapping{
	{ErrUnknown, Failure{http.StatusNotFound, "error.request_unknown", ""}},
	{signin.ErrInvalid, Failure{http.StatusUnprocessableEntity, "error.signin_invalid", ""}},
	{signin.ErrDisabled, Failure{http.StatusUnprocessableEntity, "error.signin_disabled", ""}},
	{signin.ErrSecondStep, Failure{http.StatusUnprocessableEntity, "error.totp_wrong", "code"}},
	{signin.ErrPasskey, Failure{http.StatusUnprocessableEntity, "error.passkey_refused", ""}},
	{signin.ErrMethod, Failure{http.StatusNotFound, "error.request_unknown", ""}},
	{signin.ErrNoAttempt, Failure{http.StatusNotFound, "error.request_unknown", ""}},
	{signin.ErrNoCodeSignIn, Failure{http.StatusNotFound, "error.request_unknown", ""}},
	{signin.ErrStepPending, Failure{http.StatusConflict, "error.step_pending", ""}},
	{account.ErrPasswordNeeded, Failure{http.StatusUnprocessableEntity, "confirm.choose_title", ""}},
	{account.ErrEmailTaken, Failure{http.StatusConflict, "error.email_taken_meanwhile", "email"}},
	{account.ErrInvalidEmail, Failure{http.StatusUnprocessableEntity, "error.email_invalid", "email"}},
	{account.ErrInvalidPhone, Failure{http.StatusUnprocessableEntity, "error.phone_invalid_plain", "phone"}},
	{account.ErrNotFound, Failure{http.StatusNotFound, "error.request_unknown", ""}},
	{code.ErrWrongCode, Failure{http.StatusUnprocessableEntity, "error.code_wrong_plain", "code"}},
	{code.ErrExpired, Failure{http.StatusUnprocessableEntity, "error.code_expired", "code"}},
	{code.ErrUsed, Failure{http.StatusUnprocessableEntity, "error.code_used", "code"}},
	{code.ErrLocked, Failure{http.StatusUnprocessableEntity, "error.code_locked", "code"}},
	{code.ErrNoMore, Failure{http.StatusTooManyRequests, "error.code_no_more", ""}},
	{code.ErrCooldown, Failure{http.StatusTooManyRequests, "error.code_cooldown_plain", ""}},
	{code.ErrBlocked, Failure{http.StatusTooManyRequests, "error.code_no_more", ""}},
	{code.ErrNotFound, Failure{http.StatusNotFound, "error.request_unknown", ""}},
	{session.ErrNoSession, Failure{http.StatusUnauthorized, "signin.needed", ""}},
	{session.ErrNotFound, Failure{http.StatusNotFound, "error.request_unknown", ""}},
	{limit.ErrLimited, Failure{http.StatusTooManyRequests, "error.limited_plain", ""}},
	{password.ErrBusy, Failure{http.StatusServiceUnavailable, "error.busy", ""}},
	{activity.ErrNotFound, Failure{http.StatusNotFound, "error.request_unknown", ""}},
	{activity.ErrAnswer, Failure{http.StatusUnprocessableEntity, "error.answer_unknown", ""}},
	{activity.ErrAnswered, Failure{http.StatusConflict, "why.already_answered", ""}},
	{address.ErrSame, Failure{http.StatusUnprocessableEntity, "error.email_same", "email"}},
	{phone.ErrInvalid, Failure{http.StatusUnprocessableEntity, "error.phone_invalid_plain", "phone"}},
	{phone.ErrNotMobile, Failure{http.StatusUnprocessableEntity, "error.phone_not_mobile", "phone"}},
	{phone.ErrSame, Failure{http.StatusUnprocessableEntity, "error.phone_same", "phone"}},
	{passkey.ErrCloned, Failure{http.StatusUnprocessableEntity, "error.passkey_cloned", ""}},
	{passkey.ErrUnknown, Failure{http.StatusUnprocessableEntity, "error.passkey_unknown", ""}},
	{passkey.ErrCeremony, Failure{http.StatusUnprocessableEntity, "error.passkey_refused", ""}},
	{passkey.ErrInvalid, Failure{http.StatusUnprocessableEntity, "error.passkey_refused", ""}},
	{passkey.ErrRelyingParty, Failure{http.StatusUnprocessableEntity, "error.passkey_refused", ""}},
	{passkey.ErrName, Failure{http.StatusUnprocessableEntity, "error.app_name", "name"}},
	{passkey.ErrDuplicate, Failure{http.StatusUnprocessableEntity, "error.passkey_duplicate", ""}},
	{passkey.ErrNone, Failure{http.StatusNotFound, "error.request_unknown", ""}},
	{passkey.ErrNotFound, Failure{http.StatusNotFound, "error.request_unknown", ""}},
	{totp.ErrNoMatch, Failure{http.StatusUnprocessableEntity, "error.totp_wrong", "code"}},
	{totp.ErrReplayed, Failure{http.StatusUnprocessableEntity, "error.totp_wrong", "code"}},
	{totp.ErrName, Failure{http.StatusUnprocessableEntity, "error.app_name", "name"}},
	{totp.ErrNotFound, Failure{http.StatusNotFound, "error.request_unknown", ""}},
	{backup.ErrNoMatch, Failure{http.StatusUnprocessableEntity, "error.backup_wrong", "code"}},
	{check.ErrEmpty, Failure{http.StatusUnprocessableEntity, "error.check_empty", "text"}},
	{check.ErrNotEmail, Failure{http.StatusUnprocessableEntity, "error.check_not_email", "eml"}},
	{check.ErrTooLarge, Failure{http.StatusRequestEntityTooLarge, "error.check_too_large", "text"}},
	{outbox.ErrNotFound, Failure{http.StatusNotFound, "error.request_unknown", ""}},
	{device.ErrNotFound, Failure{http.StatusNotFound, "error.request_unknown", ""}},
	{device.ErrName, Failure{http.StatusUnprocessableEntity, "error.device_name", "name"}},
}

// Mapping is one entry of the error mapper: a sentinel error and what it
// means over HTTP.
type Mapping struct {
	Err error
	Failure
}

// Mappings returns the error mapper's table, for tests that walk every
// sentinel through a front door's chain.
func Mappings() []Mapping { return append([]Mapping(nil), failures...) }

// ErrUnknown is a front door's own "no such request": a reference that does
// not parse, an id that names nothing, a page of a feature that is off. It
// answers like the capabilities' not-found errors.
var ErrUnknown = errors.New("httpcore: no such request")

// Classify is the one place an error from the capability packages becomes
// an HTTP status and a message, for pages and JSON alike. Handlers that show
// an error next to a field (formError, codeError, the sign-in form) take the
// key from here too, so one error never answers two ways.
func Classify(ctx context.Context, err error) Failure {
	var fe form.Errors
	if errors.As(err, &fe) {
		return Failure{http.StatusUnprocessableEntity, "form.errors_above", ""}
	}
	for _, f := range failures {
		if errors.Is(err, f.Err) {
			return f.Failure
		}
	}
	if ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		return Failure{StatusClientClosed, "", ""}
	}
	return Failure{http.StatusInternalServerError, "error.internal", ""}
}

// Fail answers an error no form field explains, in the route's chain:
// 503 when the hashing pool is full, 401/404/422/429 for what Classify
// knows, 500 (logged, with no detail shown) otherwise — or 503 when the
// database is unreachable, since then every request fails the same way and
// clients and load balancers should back off rather than report a server
// bug. A client that hung up is not a server error: it is logged as a
// disconnect (status 499), and nothing is written to a connection nobody
// reads.
func Fail(w http.ResponseWriter, r *http.Request, err error) {
	var le *limit.Error
	if errors.As(err, &le) {
		// Refused before evaluating: the same wait for every account and
		// address, so it tells nothing about them.
		TooSoon(w, r, "error.limited", le.RetryAfter())
		return
	}
	st := StateOf(r)
	p := Classify(r.Context(), err)
	switch p.Status {
	case StatusClientClosed:
		st.disconnected = true
		return
	case http.StatusInternalServerError:
		if s := st.srv; s != nil {
			if s.Ready != nil {
				ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), time.Second)
				defer cancel()
				if rerr := s.Ready(ctx); rerr != nil {
					s.Log.WarnContext(r.Context(), "database unavailable", "err", err)
					Answer(w, r, http.StatusServiceUnavailable, "error.unavailable")
					return
				}
			}
			s.Log.ErrorContext(r.Context(), "request failed", "err", err)
		}
	}
	Answer(w, r, p.Status, p.Key)
}

// TooSoon answers 429 with Retry-After and key's sentence, which says the
// same wait in words ("wait 2 seconds", "wait 10 minutes").
func TooSoon(w http.ResponseWriter, r *http.Request, key string, wait time.Duration) {
	secs := max(int((wait+time.Second-1)/time.Second), 1)
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	st := StateOf(r)
	cat := st.srv.Catalog
	AnswerText(w, r, http.StatusTooManyRequests, key, cat.T(st.Lang, key, cat.Wait(st.Lang, time.Duration(secs)*time.Second)))
}

// Answer writes an error in the form the route's chain speaks — a page in
// the holder's language, or a JSON object with a stable code and the same
// sentence — with key's sentence.
func Answer(w http.ResponseWriter, r *http.Request, status int, key string) {
	st := StateOf(r)
	AnswerText(w, r, status, key, st.srv.Catalog.T(st.Lang, key))
}

// AnswerText is Answer with the sentence already written (one that needs
// numbers).
func AnswerText(w http.ResponseWriter, r *http.Request, status int, key, text string) {
	if status == http.StatusServiceUnavailable && w.Header().Get("Retry-After") == "" {
		w.Header().Set("Retry-After", "2")
	}
	StateOf(r).chain.Error(w, r, status, key, text)
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

// JSONError writes an error as the JSON chain does.
func JSONError(w http.ResponseWriter, r *http.Request, status int, key, text string) {
	var body apiError
	body.Error.Code = strings.TrimPrefix(key, "error.")
	body.Error.Message = text
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Language", StateOf(r).Lang)
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(body)
}
