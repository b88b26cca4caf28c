package web

import (
	"net/http"

	"gatehouse/internal/request"
)

// access says who may use a route.
type access int

// Access levels. The zero value is no level: every route must choose one,
// and TestRoutes_EveryRouteDeclaresAccessAndChain checks it.
const (
	_ access = iota
	// public: anyone.
	public
	// passwordChecked: the right password was typed and a second step is
	// pending; no session exists yet. Gated by the pending sign-in the
	// request names, which this browser must have started
	// (requirePending).
	passwordChecked
	// signedIn: a live session; anyone else is sent to sign in (pages) or
	// answered 401 (JSON).
	signedIn
	// recentlyVerified: a live session whose holder proved who they are
	// within the step-up window (session.step_up_within), for sensitive
	// changes; anyone else re-verifies first (requireRecent).
	recentlyVerified
)

func (a access) String() string {
	switch a {
	case public:
		return "public"
	case passwordChecked:
		return "password-checked"
	case signedIn:
		return "signed-in"
	case recentlyVerified:
		return "recently-verified"
	}
	return "undeclared"
}

// gated reports whether the server can enforce the level. A route may only
// use a level whose gate exists; Handler panics otherwise, so a level can
// never be declared and silently not enforced.
func (a access) gated() bool { return a != 0 && a.String() != "undeclared" }

// chain says how a route's requests are read and its errors answered.
type chain int

// Chains. The zero value is no chain: every route must choose one.
const (
	_ chain = iota
	// pages: HTML forms. A POST must be a browser's form post
	// (application/x-www-form-urlencoded, Origin or Sec-Fetch-Site present
	// and same-origin: CSRF), errors are pages in the holder's language, a
	// missing session redirects to the sign-in page.
	pages
	// api: JSON for programs and for our own pages' scripts (WebAuthn
	// ceremonies next, then the admin API, the OIDC token endpoint,
	// forward-auth). A POST must carry application/json (POST /api/check
	// also takes a raw message/rfc822 or text/plain body: see bodyRules); a browser's
	// cross-origin request is refused, a request without Origin and
	// Sec-Fetch-Site is a non-browser client and must authenticate by the
	// route's access level; errors are JSON objects; a missing session is
	// 401, never a redirect.
	api
)

func (c chain) String() string {
	switch c {
	case pages:
		return "pages"
	case api:
		return "api"
	}
	return "undeclared"
}

// cost marks the routes whose POST runs an argon2 hash. When the hashing
// pool is full they are refused before their body is read (see busy).
type cost bool

const (
	cheap  cost = false
	hashes cost = true
)

// route is one URL of the server.
type route struct {
	method  string
	path    string
	access  access
	chain   chain
	cost    cost
	handler http.HandlerFunc
}

// RouteInfo describes one URL of the route table, for tests and tools that
// list what the server answers.
type RouteInfo struct {
	Method, Path, Access, Chain string
	Hashes                      bool // the route runs an argon2 hash
}

// Routes lists the route table.
func (s *Server) Routes() []RouteInfo {
	var out []RouteInfo
	for _, rt := range s.routes() {
		out = append(out, RouteInfo{rt.method, rt.path, rt.access.String(), rt.chain.String(), bool(rt.cost)})
	}
	return out
}

// routes is the one table of every URL Gatehouse serves (besides /static/).
func (s *Server) routes() []route {
	return []route{
		{"GET", "/{$}", public, pages, cheap, s.home},
		{"GET", "/lang", public, pages, cheap, s.language},

		{"GET", "/signup", public, pages, cheap, s.signupForm},
		{"POST", "/signup", public, pages, hashes, s.signupSubmit},
		{"GET", "/signup/confirm", public, pages, cheap, s.confirmForm},
		{"POST", "/signup/confirm", public, pages, hashes, s.confirmSubmit},
		{"POST", "/signup/confirm/resend", public, pages, cheap, s.resend("confirm", "confirm.title", request.ConfirmEmail, "/signup/confirm", s.Accounts.ResendConfirmation)},

		{"GET", "/signin", public, pages, cheap, s.signinForm},
		{"POST", "/signin", public, pages, hashes, s.signinSubmit},
		{"GET", "/signin/verify", passwordChecked, pages, cheap, s.verifyForm},
		{"POST", "/signin/verify", passwordChecked, pages, cheap, s.verifySubmit},
		{"POST", "/signin/verify/resend", passwordChecked, pages, cheap, s.verifyResend},
		{"POST", "/signin/passkey", public, pages, cheap, s.passkeySignIn},
		{"POST", "/signin/passkey/options", public, api, cheap, s.passkeySignInOptions},
		{"GET", "/signin/code", public, pages, cheap, s.codeSigninForm},
		{"POST", "/signin/code", public, pages, cheap, s.codeSigninSubmit},
		{"GET", "/signin/code/verify", public, pages, cheap, s.codeVerifyForm},
		{"POST", "/signin/code/verify", public, pages, cheap, s.codeVerifySubmit},
		{"POST", "/signout", public, pages, cheap, s.signout},

		{"GET", "/account", signedIn, pages, cheap, s.accountPage},
		{"GET", "/account/messages", signedIn, pages, cheap, s.messagesPage},
		{"GET", "/account/activity", signedIn, pages, cheap, s.activityPage},
		{"POST", "/account/activity/answer", signedIn, pages, cheap, s.activityAnswer},
		{"GET", "/account/devices", signedIn, pages, cheap, s.devicesPage},
		{"POST", "/account/devices/rename", signedIn, pages, cheap, s.deviceRename},
		{"POST", "/account/devices/signout", signedIn, pages, cheap, s.deviceSignout},
		{"POST", "/account/devices/signout-others", signedIn, pages, cheap, s.signoutOthers},
		{"POST", "/account/sessions/signout", signedIn, pages, cheap, s.sessionSignout},
		{"GET", "/account/security", signedIn, pages, cheap, s.securityPage},
		{"POST", "/account/alerts", signedIn, pages, cheap, s.alertsSubmit},
		{"POST", "/account/preferences", signedIn, pages, cheap, s.preferencesSubmit},
		{"POST", "/account/signout-everywhere", signedIn, pages, cheap, s.signoutEverywhere},
		{"POST", "/account/trusted/stop", signedIn, pages, cheap, s.stopTrusting},
		{"GET", "/account/password", recentlyVerified, pages, cheap, s.passwordForm},
		{"POST", "/account/password", recentlyVerified, pages, hashes, s.passwordSubmit},
		{"GET", "/account/email", recentlyVerified, pages, cheap, s.emailForm},
		{"POST", "/account/email", recentlyVerified, pages, cheap, s.emailSubmit},
		{"GET", "/account/email/confirm", signedIn, pages, cheap, s.heldForm(s.emailCode())},
		{"POST", "/account/email/confirm", signedIn, pages, cheap, s.heldSubmit(s.emailCode(), s.emailConfirm)},
		{"POST", "/account/email/resend", signedIn, pages, cheap, s.heldResend(s.emailCode())},
		{"GET", "/account/reverify", signedIn, pages, cheap, s.reverifyForm},
		{"POST", "/account/reverify", signedIn, pages, hashes, s.reverifySubmit},
		{"GET", "/account/two-step", signedIn, pages, cheap, s.twoStepPage},
		{"GET", "/account/two-step/app", recentlyVerified, pages, cheap, s.appForm},
		{"POST", "/account/two-step/app", recentlyVerified, pages, cheap, s.appSubmit},
		{"POST", "/account/two-step/app/remove", recentlyVerified, pages, cheap, s.appRemove},
		{"GET", "/account/two-step/off", recentlyVerified, pages, cheap, s.twoStepOffForm},
		{"POST", "/account/two-step/off", recentlyVerified, pages, cheap, s.twoStepOff},
		{"POST", "/account/two-step/backup", recentlyVerified, pages, cheap, s.backupRenew},
		{"GET", "/account/two-step/phone", recentlyVerified, pages, cheap, s.phoneForm},
		{"POST", "/account/two-step/phone", recentlyVerified, pages, cheap, s.phoneSubmit},
		{"GET", "/account/two-step/phone/confirm", signedIn, pages, cheap, s.heldForm(s.phoneCode())},
		{"POST", "/account/two-step/phone/confirm", signedIn, pages, cheap, s.heldSubmit(s.phoneCode(), s.phoneConfirm)},
		{"POST", "/account/two-step/phone/resend", signedIn, pages, cheap, s.heldResend(s.phoneCode())},
		{"POST", "/account/two-step/phone/remove", recentlyVerified, pages, cheap, s.phoneRemove},
		{"GET", "/account/two-step/passkey", recentlyVerified, pages, cheap, s.passkeyForm},
		{"POST", "/account/two-step/passkey", recentlyVerified, pages, cheap, s.passkeySubmit},
		{"POST", "/account/two-step/passkey/remove", recentlyVerified, pages, cheap, s.passkeyRemove},

		{"GET", "/check", public, pages, cheap, s.checkForm},
		{"POST", "/check", public, pages, cheap, s.checkSubmit},
		{"POST", "/check/report", signedIn, pages, cheap, s.checkReport},
		{"POST", "/api/check", public, api, cheap, s.apiCheck},

		{"GET", "/why", public, pages, cheap, s.whyForm},
		{"GET", "/why/{reference}", public, pages, cheap, s.whyPage},
		{"POST", "/why/{reference}", public, pages, cheap, s.whyPost}, // the holder's answer (signed in) or a recipient's stop (see whyPost)

		{"GET", "/password/forgot", public, pages, cheap, s.forgotForm},
		{"POST", "/password/forgot", public, pages, cheap, s.forgotSubmit},
		{"GET", "/password/reset", public, pages, cheap, s.resetForm},
		{"POST", "/password/reset", public, pages, hashes, s.resetSubmit},
		{"POST", "/password/reset/resend", public, pages, cheap, s.resend("reset", "reset.title", request.ResetPassword, "/password/reset", s.Accounts.ResendReset)},

		{"GET", "/favicon.ico", public, pages, cheap, noFavicon},
		{"GET", "/healthz", public, api, cheap, s.healthz},
		{"GET", "/readyz", public, api, cheap, s.readyz},

		{"GET", "/dev/messages", public, pages, cheap, s.devMessages},
		{"GET", "/dev/messages.json", public, api, cheap, s.devMessagesJSON},
		{"GET", "/dev/messages/{file}", public, api, cheap, s.devMessageFile},
	}
}
