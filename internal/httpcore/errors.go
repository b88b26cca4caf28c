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
	"gatehouse/internal/apikey"
	"gatehouse/internal/backup"
	"gatehouse/internal/check"
	"gatehouse/internal/code"
	"gatehouse/internal/console"
	"gatehouse/internal/delivery"
	"gatehouse/internal/device"
	"gatehouse/internal/form"
	"gatehouse/internal/i18n"
	"gatehouse/internal/limit"
	"gatehouse/internal/oidc"
	"gatehouse/internal/operator"
	"gatehouse/internal/outbox"
	"gatehouse/internal/passkey"
	"gatehouse/internal/password"
	"gatehouse/internal/phone"
	"gatehouse/internal/session"
	"gatehouse/internal/signin"
	"gatehouse/internal/totp"
	"gatehouse/internal/twostep"
)

// Failure is what an error means to whoever made the request: the status
// to answer with and the catalog key of the sentence that explains it.
type Failure struct {
	Status int
	Key    string
	// Field is the form field the error is about, when it is about one: a
	// form that has it shows the sentence there (the pages' formError).
	Field string
	// Args are the numbers the sentence needs ("2 tries left"), from the
	// error itself (see Mapping.Explain).
	Args []any
	// Ended: what was typed, or the request itself, can no longer succeed
	// (a dead code); a form does not keep it.
	Ended bool
	// Calm: nothing went wrong — the request must wait (a code was sent
	// moments ago and is still good); a page says so as information, not
	// as an error.
	Calm bool
	// RetryAfter, when set, is sent as Retry-After.
	RetryAfter time.Duration
	// Invalid are fields the error is about together, marked without a
	// sentence of their own (the sign-in's address and password).
	Invalid []string
	// Notice, when set, lets a page answer by going back where the request
	// came from with this notice instead of an error (an answer given
	// twice: nothing changes, and the page says so).
	Notice string
}

// Sentence is the failure's sentence in lang, with its numbers; a duration
// among them is said in words ("2 minutes", "2分").
func (f Failure) Sentence(cat *i18n.Catalog, lang string) string {
	args := make([]any, len(f.Args))
	for i, a := range f.Args {
		if d, ok := a.(time.Duration); ok {
			a = cat.Wait(lang, d)
		}
		args[i] = a
	}
	return cat.T(lang, f.Key, args...)
}

// limited says how long a limit refuses, in whole seconds.
func limited(err error, f *Failure) {
	var le *limit.Error
	if !errors.As(err, &le) {
		return
	}
	f.RetryAfter = roundUp(le.RetryAfter())
	f.Key, f.Args = "error.limited", []any{f.RetryAfter}
}

// roundUp is a wait in whole seconds, at least one.
func roundUp(d time.Duration) time.Duration {
	return time.Duration(max(int((d+time.Second-1)/time.Second), 1)) * time.Second
}

// StatusClientClosed is logged for a client that hung up before the answer
// (nginx's 499); nothing is written to it.
const StatusClientClosed = 499

// failures is what every sentinel error a capability can return to a
// request means over HTTP: its status and the catalog key of the sentence
// that explains it (a key without arguments, unless Explain supplies them).
// Classify walks it in order, and the first match wins: an error joining
// two sentinels (a refused passkey is also a wrong answer) says what the
// earlier one means, so the more telling entry comes first.
// TestFailures_EverySentinelIsKnown keeps
// it whole: an exported Err… of a capability package that is neither here
// nor in notRequestErrors fails the test.
var failures = []Mapping{
	{ErrUnknown, Failure{Status: http.StatusNotFound, Key: "error.request_unknown"}, nil},
	// Which of address and password was wrong is never said (ASVS
	// v5.0.0-6.3.8): both are marked.
	{signin.ErrInvalid, Failure{Status: http.StatusUnprocessableEntity, Key: "error.signin_invalid", Invalid: []string{"email", "password"}}, nil},
	{signin.ErrDisabled, Failure{Status: http.StatusUnprocessableEntity, Key: "error.signin_disabled", Invalid: []string{"email", "password"}}, nil},
	{signin.ErrSecondStep, Failure{Status: http.StatusUnprocessableEntity, Key: "error.totp_wrong", Field: "code"}, nil},
	{signin.ErrMethod, Failure{Status: http.StatusNotFound, Key: "error.request_unknown"}, nil},
	{signin.ErrNoAttempt, Failure{Status: http.StatusNotFound, Key: "error.request_unknown"}, nil},
	{signin.ErrNoCodeSignIn, Failure{Status: http.StatusNotFound, Key: "error.request_unknown"}, nil},
	{signin.ErrWrongPassword, Failure{Status: http.StatusUnprocessableEntity, Key: "error.current_password_wrong", Field: "password"}, nil},
	{account.ErrEmailTaken, Failure{Status: http.StatusConflict, Key: "error.email_taken_meanwhile", Field: "email"}, nil},
	{account.ErrInvalidEmail, Failure{Status: http.StatusUnprocessableEntity, Key: "error.email_invalid", Field: "email"}, nil},
	{account.ErrInvalidPhone, Failure{Status: http.StatusUnprocessableEntity, Key: "error.phone_invalid_plain", Field: "phone"}, nil},
	{account.ErrNotFound, Failure{Status: http.StatusNotFound, Key: "error.request_unknown"}, nil},
	{code.ErrExpired, Failure{Status: http.StatusUnprocessableEntity, Key: "error.code_expired", Field: "code", Ended: true}, nil},
	{code.ErrUsed, Failure{Status: http.StatusUnprocessableEntity, Key: "error.code_used", Field: "code", Ended: true}, nil},
	{code.ErrLocked, Failure{Status: http.StatusUnprocessableEntity, Key: "error.code_locked", Field: "code", Ended: true}, nil},
	{code.ErrNoMore, Failure{Status: http.StatusTooManyRequests, Key: "error.code_no_more"}, nil},
	{code.ErrCooldown, Failure{Status: http.StatusTooManyRequests, Key: "error.code_cooldown_plain", Calm: true}, cooldown},
	{code.ErrBlocked, Failure{Status: http.StatusTooManyRequests, Key: "error.code_no_more"}, nil},
	{code.ErrNotFound, Failure{Status: http.StatusNotFound, Key: "error.request_unknown"}, nil},
	{session.ErrNoSession, Failure{Status: http.StatusUnauthorized, Key: "signin.needed"}, nil},
	{session.ErrNotFound, Failure{Status: http.StatusNotFound, Key: "error.request_unknown"}, nil},
	{limit.ErrLimited, Failure{Status: http.StatusTooManyRequests, Key: "error.limited_plain"}, limited},
	{password.ErrBusy, Failure{Status: http.StatusServiceUnavailable, Key: "error.busy"}, nil},
	{activity.ErrNotFound, Failure{Status: http.StatusNotFound, Key: "error.request_unknown"}, nil},
	{activity.ErrAnswer, Failure{Status: http.StatusUnprocessableEntity, Key: "error.answer_unknown"}, nil},
	{activity.ErrStopCode, Failure{Status: http.StatusUnprocessableEntity, Key: "why.stop_wrong", Field: "code"}, nil},
	{activity.ErrStopLocked, Failure{Status: http.StatusUnprocessableEntity, Key: "why.stop_locked", Field: "code", Ended: true}, nil},
	{activity.ErrAnswered, Failure{Status: http.StatusConflict, Key: "why.already_answered", Notice: "already_answered"}, nil},
	{address.ErrTakenMeanwhile, Failure{Status: http.StatusConflict, Key: "error.email_taken_meanwhile"}, nil},
	{address.ErrSame, Failure{Status: http.StatusUnprocessableEntity, Key: "error.email_same", Field: "email"}, nil},
	{phone.ErrInvalid, Failure{Status: http.StatusUnprocessableEntity, Key: "error.phone_invalid_plain", Field: "phone"}, nil},
	{phone.ErrNotMobile, Failure{Status: http.StatusUnprocessableEntity, Key: "error.phone_not_mobile", Field: "phone"}, nil},
	{phone.ErrSame, Failure{Status: http.StatusUnprocessableEntity, Key: "error.phone_same", Field: "phone"}, nil},
	{passkey.ErrCloned, Failure{Status: http.StatusUnprocessableEntity, Key: "error.passkey_cloned"}, nil},
	{passkey.ErrUnknown, Failure{Status: http.StatusUnprocessableEntity, Key: "error.passkey_unknown"}, nil},
	{passkey.ErrCeremony, Failure{Status: http.StatusUnprocessableEntity, Key: "error.passkey_refused"}, nil},
	{passkey.ErrInvalid, Failure{Status: http.StatusUnprocessableEntity, Key: "error.passkey_refused"}, nil},
	{passkey.ErrRelyingParty, Failure{Status: http.StatusUnprocessableEntity, Key: "error.passkey_refused"}, nil},
	{passkey.ErrName, Failure{Status: http.StatusUnprocessableEntity, Key: "error.app_name", Field: "name"}, nil},
	{passkey.ErrDuplicate, Failure{Status: http.StatusUnprocessableEntity, Key: "error.passkey_duplicate"}, nil},
	{passkey.ErrNone, Failure{Status: http.StatusNotFound, Key: "error.request_unknown"}, nil},
	{passkey.ErrNotFound, Failure{Status: http.StatusNotFound, Key: "error.request_unknown"}, nil},
	// After package passkey's: a refusal carries its reason (ErrCloned, …),
	// which says more.
	{signin.ErrPasskey, Failure{Status: http.StatusUnprocessableEntity, Key: "error.passkey_refused"}, nil},
	// After the passkey's: a refused passkey also counts as a wrong answer,
	// and its reason says more. (A locked or expired request, above, says
	// more than either.)
	{code.ErrWrongCode, Failure{Status: http.StatusUnprocessableEntity, Key: "error.code_wrong_plain", Field: "code"}, wrongCode},
	{totp.ErrNoMatch, Failure{Status: http.StatusUnprocessableEntity, Key: "error.totp_wrong", Field: "code"}, nil},
	{totp.ErrReplayed, Failure{Status: http.StatusUnprocessableEntity, Key: "error.totp_wrong", Field: "code"}, nil},
	{totp.ErrName, Failure{Status: http.StatusUnprocessableEntity, Key: "error.app_name", Field: "name"}, nil},
	{totp.ErrNotFound, Failure{Status: http.StatusNotFound, Key: "error.request_unknown"}, nil},
	{backup.ErrNoMatch, Failure{Status: http.StatusUnprocessableEntity, Key: "error.backup_wrong", Field: "code"}, nil},
	{check.ErrEmpty, Failure{Status: http.StatusUnprocessableEntity, Key: "error.check_empty", Field: "text"}, nil},
	{check.ErrNotEmail, Failure{Status: http.StatusUnprocessableEntity, Key: "error.check_not_email", Field: "eml"}, nil},
	{check.ErrTooLarge, Failure{Status: http.StatusRequestEntityTooLarge, Key: "error.check_too_large", Field: "text"}, nil},
	{outbox.ErrNotFound, Failure{Status: http.StatusNotFound, Key: "error.request_unknown"}, nil},
	{device.ErrNotFound, Failure{Status: http.StatusNotFound, Key: "error.request_unknown"}, nil},
	{device.ErrName, Failure{Status: http.StatusUnprocessableEntity, Key: "error.device_name", Field: "name"}, nil},
	// The admin API's bearer keys: which of missing, unknown and revoked
	// is never said.
	{oidc.ErrNotYours, Failure{Status: http.StatusBadRequest, Key: "error.oidc_request"}, nil},
	{apikey.ErrInvalid, Failure{Status: http.StatusUnauthorized, Key: "error.api_key"}, nil},
	{apikey.ErrScope, Failure{Status: http.StatusForbidden, Key: "error.api_scope"}, nil},
	{apikey.ErrNotFound, Failure{Status: http.StatusNotFound, Key: "error.request_unknown"}, nil},
	// A new method while an operator's reset of two-step verification
	// waits, from a device the account did not use before it.
	{twostep.ErrResetWait, Failure{Status: http.StatusForbidden, Key: "error.reset_wait"}, nil},
	{twostep.ErrNothingToReset, Failure{Status: http.StatusConflict, Key: "error.nothing_to_reset"}, nil},
	{account.ErrPasswordKnownAlready, Failure{Status: http.StatusConflict, Key: "error.password_known_already"}, nil},
	// The operator console's.
	{console.ErrForbidden, Failure{Status: http.StatusForbidden, Key: "error.console_role"}, nil},
	{console.ErrQuery, Failure{Status: http.StatusUnprocessableEntity, Key: "console.error.query", Field: "q"}, nil},
	{console.ErrLimitUnknown, Failure{Status: http.StatusUnprocessableEntity, Key: "error.console_limit"}, nil},
	{console.ErrReviewUnknown, Failure{Status: http.StatusUnprocessableEntity, Key: "console.error.review", Field: "review"}, nil},
	// An operator whose account lost its passkey or app since the role
	// was given: the console waits for one.
	{operator.ErrWeakTwoStep, Failure{Status: http.StatusForbidden, Key: "error.console_weak"}, nil},
	{operator.ErrNoReason, Failure{Status: http.StatusUnprocessableEntity, Key: "console.error.reason", Field: "reason"}, nil},
	// An operator's role taken away between the gate and the action: the
	// console does not announce itself.
	{operator.ErrNotOperator, Failure{Status: http.StatusNotFound, Key: "error.not_found"}, nil},
	{check.ErrReportNotFound, Failure{Status: http.StatusNotFound, Key: "error.request_unknown"}, nil},
	{check.ErrReportHandled, Failure{Status: http.StatusConflict, Key: "console.error.handled"}, nil},
	// A delivery retried by an operator (the admin API).
	{delivery.ErrNotFound, Failure{Status: http.StatusNotFound, Key: "error.request_unknown"}, nil},
	{delivery.ErrNotFailed, Failure{Status: http.StatusConflict, Key: "error.delivery_not_failed"}, nil},
}

// Mapping is one entry of the error mapper: a sentinel error and what it
// means over HTTP.
type Mapping struct {
	Err error
	Failure
	// Explain, when set, completes the failure from what the error
	// carries (how many tries are left, how long to wait).
	Explain func(err error, f *Failure)
}

// Mappings returns the error mapper's table, for tests that walk every
// sentinel through a front door's chain.
func Mappings() []Mapping { return append([]Mapping(nil), failures...) }

// wrongCode says how many tries are left.
func wrongCode(err error, f *Failure) {
	var w *code.WrongCode
	if !errors.As(err, &w) {
		return
	}
	if w.Left == 1 {
		f.Key = "error.code_wrong_one" // not "1 tries left"
		return
	}
	f.Key, f.Args = "error.code_wrong", []any{w.Left}
}

// cooldown says how long until another code may be sent.
func cooldown(err error, f *Failure) {
	var t *code.TooSoon
	if !errors.As(err, &t) {
		return
	}
	f.RetryAfter = roundUp(t.Wait)
	f.Key, f.Args = "error.code_cooldown", []any{int(f.RetryAfter / time.Second)}
}

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
		return Failure{Status: http.StatusUnprocessableEntity, Key: "form.errors_above"}
	}
	for _, m := range failures {
		if errors.Is(err, m.Err) {
			f := m.Failure
			if m.Explain != nil {
				m.Explain(err, &f)
			}
			return f
		}
	}
	if ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		return Failure{Status: StatusClientClosed}
	}
	return Failure{Status: http.StatusInternalServerError, Key: "error.internal"}
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
	if p.RetryAfter > 0 {
		// A limit's refusal says the same wait for every account and
		// address, so it tells nothing about them.
		w.Header().Set("Retry-After", strconv.Itoa(int(p.RetryAfter/time.Second)))
	}
	AnswerText(w, r, p.Status, p.Key, p.Sentence(st.srv.Catalog, st.Lang))
}

// TooSoon answers 429 with Retry-After and key's sentence, which says the
// same wait in words ("wait 2 seconds", "wait 10 minutes").
func TooSoon(w http.ResponseWriter, r *http.Request, key string, wait time.Duration) {
	wait = roundUp(wait)
	w.Header().Set("Retry-After", strconv.Itoa(int(wait/time.Second)))
	st := StateOf(r)
	cat := st.srv.Catalog
	AnswerText(w, r, http.StatusTooManyRequests, key, cat.T(st.Lang, key, cat.Wait(st.Lang, wait)))
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
