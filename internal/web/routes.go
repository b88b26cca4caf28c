package web

import (
	"gatehouse/internal/httpcore"
	"gatehouse/internal/request"
)

// Routes is the holder's pages' part of the one route table (the HTTP
// core, httpcore, serves it with the other front doors'). Every fact about
// a route is here: who may use it, its chain (pages, or JSON for the pages'
// own scripts and programs), whether it hashes, reads the session of a
// visitor, takes a body of its own, may be used while the password is
// compromised, belongs to another page's form, counts as a lookup, or
// records where it came from.
func (s *Server) Routes() []httpcore.Route {
	if s.pagesChain == nil {
		s.prepare()
	}
	table := s.routes()
	// The GET addresses, for the language switcher (see newPage).
	s.known = map[string]bool{}
	for _, rt := range table {
		if rt.Method == "GET" {
			s.known[rt.Path] = true
		}
	}
	if s.Console != nil {
		// Not among the known paths: a holder's 404 there must read as
		// at an address no route has (its language switch returns to
		// "/"); the console's own pages set their way back themselves.
		table = append(table, s.consoleRoutes()...)
	}
	return table
}

func (s *Server) routes() []httpcore.Route {
	pages, api := s.pagesChain, s.apiChain
	return []httpcore.Route{
		{Method: "GET", Path: "/{$}", Access: httpcore.Public, Chain: pages, Handler: s.home},
		{Method: "GET", Path: "/lang", Access: httpcore.Public, Chain: pages, Handler: s.language},

		{Method: "GET", Path: "/signup", Access: httpcore.Public, Chain: pages, Handler: s.signupForm},
		{Method: "POST", Path: "/signup", Access: httpcore.Public, Chain: pages, Cost: httpcore.Hashes, Origin: true, Handler: s.signupSubmit},
		{Method: "GET", Path: "/signup/confirm", Access: httpcore.Public, Chain: pages, Handler: s.confirmForm},
		{Method: "POST", Path: "/signup/confirm", Access: httpcore.Public, Chain: pages, Cost: httpcore.Hashes, Origin: true, Handler: s.confirmSubmit},
		{Method: "POST", Path: "/signup/confirm/resend", Access: httpcore.Public, Chain: pages, Page: "/signup/confirm", Origin: true, Handler: s.resend("confirm", "confirm.title", request.ConfirmEmail, "/signup/confirm", s.Accounts.ResendConfirmation)},

		{Method: "GET", Path: "/signin", Access: httpcore.Public, Chain: pages, Handler: s.signinForm},
		{Method: "POST", Path: "/signin", Access: httpcore.Public, Chain: pages, Cost: httpcore.Hashes, Origin: true, Handler: s.signinSubmit},
		{Method: "GET", Path: "/signin/verify", Access: httpcore.PasswordChecked, Chain: pages, Origin: true, Handler: s.verifyForm},
		{Method: "POST", Path: "/signin/verify", Access: httpcore.PasswordChecked, Chain: pages, Origin: true, Handler: s.verifySubmit},
		{Method: "POST", Path: "/signin/verify/resend", Access: httpcore.PasswordChecked, Chain: pages, Page: "/signin/verify", Origin: true, Handler: s.verifyResend},
		{Method: "POST", Path: "/signin/passkey", Access: httpcore.Public, Chain: pages, Page: "/signin", Origin: true, Handler: s.passkeySignIn},
		{Method: "POST", Path: "/signin/passkey/options", Access: httpcore.Public, Chain: api, Origin: true, Handler: s.passkeySignInOptions},
		{Method: "GET", Path: "/signin/code", Access: httpcore.Public, Chain: pages, Handler: s.codeSigninForm},
		{Method: "POST", Path: "/signin/code", Access: httpcore.Public, Chain: pages, Origin: true, Handler: s.codeSigninSubmit},
		{Method: "GET", Path: "/signin/code/verify", Access: httpcore.Public, Chain: pages, Origin: true, Handler: s.codeVerifyForm},
		{Method: "POST", Path: "/signin/code/verify", Access: httpcore.Public, Chain: pages, Origin: true, Handler: s.codeVerifySubmit},
		{Method: "POST", Path: "/signout", Access: httpcore.Public, Chain: pages, Handler: s.signout},

		{Method: "GET", Path: "/account", Access: httpcore.SignedIn, Chain: pages, Handler: s.accountPage},
		{Method: "GET", Path: "/account/messages", Access: httpcore.SignedIn, Chain: pages, Handler: s.messagesPage},
		{Method: "GET", Path: "/account/activity", Access: httpcore.SignedIn, Chain: pages, Handler: s.activityPage},
		{Method: "POST", Path: "/account/activity/answer", Access: httpcore.SignedIn, Chain: pages, Origin: true, Handler: s.activityAnswer},
		{Method: "GET", Path: "/account/devices", Access: httpcore.SignedIn, Chain: pages, Handler: s.devicesPage},
		{Method: "POST", Path: "/account/devices/rename", Access: httpcore.SignedIn, Chain: pages, Handler: s.deviceRename},
		{Method: "POST", Path: "/account/devices/signout", Access: httpcore.SignedIn, Chain: pages, Handler: s.deviceSignout},
		{Method: "GET", Path: "/account/apps", Access: httpcore.SignedIn, Chain: pages, Handler: s.appsPage},
		{Method: "POST", Path: "/account/apps/disconnect", Access: httpcore.SignedIn, Chain: pages, Page: "/account/apps", Handler: s.appsDisconnect},
		{Method: "GET", Path: "/oidc/logout", Access: httpcore.Public, Chain: pages, Session: true, Handler: s.logoutPage},
		{Method: "POST", Path: "/oidc/logout", Access: httpcore.Public, Chain: pages, Handler: s.logoutSubmit},
		{Method: "GET", Path: "/oidc/consent", Access: httpcore.SignedIn, Chain: pages, Origin: true, Handler: s.consentForm},
		{Method: "POST", Path: "/oidc/consent", Access: httpcore.SignedIn, Chain: pages, Origin: true, Handler: s.consentSubmit},
		{Method: "POST", Path: "/account/devices/signout-others", Access: httpcore.SignedIn, Chain: pages, Handler: s.signoutOthers},
		{Method: "POST", Path: "/account/sessions/signout", Access: httpcore.SignedIn, Chain: pages, Handler: s.sessionSignout},
		{Method: "GET", Path: "/account/security", Access: httpcore.SignedIn, Chain: pages, Handler: s.securityPage},
		{Method: "POST", Path: "/account/alerts", Access: httpcore.SignedIn, Chain: pages, Origin: true, Handler: s.alertsSubmit},
		{Method: "POST", Path: "/account/preferences", Access: httpcore.SignedIn, Chain: pages, Page: "/account", Handler: s.preferencesSubmit},
		{Method: "POST", Path: "/account/signout-everywhere", Access: httpcore.SignedIn, Chain: pages, Handler: s.signoutEverywhere},
		{Method: "POST", Path: "/account/trusted/stop", Access: httpcore.SignedIn, Chain: pages, Page: "/account", Handler: s.stopTrusting},
		{Method: "GET", Path: "/account/password", Access: httpcore.RecentlyVerified, Chain: pages, WhileCompromised: true, Handler: s.passwordForm},
		{Method: "POST", Path: "/account/password", Access: httpcore.RecentlyVerified, Chain: pages, Cost: httpcore.Hashes, WhileCompromised: true, Origin: true, Handler: s.passwordSubmit},
		{Method: "GET", Path: "/account/email", Access: httpcore.RecentlyVerified, Chain: pages, Handler: s.emailForm},
		{Method: "POST", Path: "/account/email", Access: httpcore.RecentlyVerified, Chain: pages, Origin: true, Handler: s.emailSubmit},
		{Method: "GET", Path: "/account/email/confirm", Access: httpcore.SignedIn, Chain: pages, Handler: s.heldForm(s.emailCode())},
		{Method: "POST", Path: "/account/email/confirm", Access: httpcore.SignedIn, Chain: pages, Origin: true, Handler: s.heldSubmit(s.emailCode(), s.emailConfirm)},
		{Method: "POST", Path: "/account/email/resend", Access: httpcore.SignedIn, Chain: pages, Page: "/account/email/confirm", Origin: true, Handler: s.heldResend(s.emailCode())},
		{Method: "GET", Path: "/account/reverify", Access: httpcore.SignedIn, Chain: pages, WhileCompromised: true, Handler: s.reverifyForm},
		{Method: "POST", Path: "/account/reverify", Access: httpcore.SignedIn, Chain: pages, Cost: httpcore.Hashes, WhileCompromised: true, Origin: true, Handler: s.reverifySubmit},
		{Method: "GET", Path: "/account/two-step", Access: httpcore.SignedIn, Chain: pages, Handler: s.twoStepPage},
		{Method: "GET", Path: "/account/two-step/app", Access: httpcore.RecentlyVerified, Chain: pages, Handler: s.appForm},
		{Method: "POST", Path: "/account/two-step/app", Access: httpcore.RecentlyVerified, Chain: pages, Origin: true, Handler: s.appSubmit},
		{Method: "POST", Path: "/account/two-step/app/remove", Access: httpcore.RecentlyVerified, Chain: pages, Page: "/account/two-step", Origin: true, Handler: s.appRemove},
		{Method: "GET", Path: "/account/two-step/off", Access: httpcore.RecentlyVerified, Chain: pages, Page: "/account/two-step/off", Handler: s.twoStepOffForm},
		{Method: "POST", Path: "/account/two-step/off", Access: httpcore.RecentlyVerified, Chain: pages, Page: "/account/two-step/off", Origin: true, Handler: s.twoStepOff},
		{Method: "POST", Path: "/account/two-step/backup", Access: httpcore.RecentlyVerified, Chain: pages, Page: "/account/two-step", Origin: true, Handler: s.backupRenew},
		{Method: "GET", Path: "/account/two-step/phone", Access: httpcore.RecentlyVerified, Chain: pages, Handler: s.phoneForm},
		{Method: "POST", Path: "/account/two-step/phone", Access: httpcore.RecentlyVerified, Chain: pages, Origin: true, Handler: s.phoneSubmit},
		{Method: "GET", Path: "/account/two-step/phone/confirm", Access: httpcore.SignedIn, Chain: pages, Handler: s.heldForm(s.phoneCode())},
		{Method: "POST", Path: "/account/two-step/phone/confirm", Access: httpcore.SignedIn, Chain: pages, Origin: true, Handler: s.heldSubmit(s.phoneCode(), s.phoneConfirm)},
		{Method: "POST", Path: "/account/two-step/phone/resend", Access: httpcore.SignedIn, Chain: pages, Page: "/account/two-step/phone/confirm", Origin: true, Handler: s.heldResend(s.phoneCode())},
		{Method: "POST", Path: "/account/two-step/phone/remove", Access: httpcore.RecentlyVerified, Chain: pages, Page: "/account/two-step", Origin: true, Handler: s.phoneRemove},
		{Method: "GET", Path: "/account/two-step/passkey", Access: httpcore.RecentlyVerified, Chain: pages, Handler: s.passkeyForm},
		{Method: "POST", Path: "/account/two-step/passkey", Access: httpcore.RecentlyVerified, Chain: pages, Origin: true, Handler: s.passkeySubmit},
		{Method: "POST", Path: "/account/two-step/passkey/remove", Access: httpcore.RecentlyVerified, Chain: pages, Page: "/account/two-step", Origin: true, Handler: s.passkeyRemove},

		{Method: "GET", Path: "/check", Access: httpcore.Public, Chain: pages, Session: true, Handler: s.checkForm},
		{Method: "POST", Path: "/check", Access: httpcore.Public, Chain: pages, Session: true, Body: s.uploadOK, Lookups: true, Handler: s.checkSubmit},
		{Method: "POST", Path: "/check/report", Access: httpcore.SignedIn, Chain: pages, Body: s.uploadOK, Lookups: true, Handler: s.checkReport},
		{Method: "POST", Path: "/api/check", Access: httpcore.Public, Chain: api, Body: s.checkBodyOK, Lookups: true, Handler: s.apiCheck},

		{Method: "GET", Path: "/why", Access: httpcore.Public, Chain: pages, Session: true, Handler: s.whyForm},
		{Method: "GET", Path: "/why/{reference}", Access: httpcore.Public, Chain: pages, Session: true, Lookups: true, Handler: s.whyPage},
		{Method: "POST", Path: "/why/{reference}", Access: httpcore.Public, Chain: pages, Session: true, Lookups: true, Origin: true, Handler: s.whyPost}, // the holder's answer (signed in) or a recipient's stop (see whyPost)

		{Method: "GET", Path: "/password/forgot", Access: httpcore.Public, Chain: pages, Handler: s.forgotForm},
		{Method: "POST", Path: "/password/forgot", Access: httpcore.Public, Chain: pages, Origin: true, Handler: s.forgotSubmit},
		{Method: "GET", Path: "/password/reset", Access: httpcore.Public, Chain: pages, Handler: s.resetForm},
		{Method: "POST", Path: "/password/reset", Access: httpcore.Public, Chain: pages, Cost: httpcore.Hashes, Origin: true, Handler: s.resetSubmit},
		{Method: "POST", Path: "/password/reset/resend", Access: httpcore.Public, Chain: pages, Page: "/password/reset", Origin: true, Handler: s.resend("reset", "reset.title", request.ResetPassword, "/password/reset", s.Accounts.ResendReset)},

		{Method: "GET", Path: "/static/", Access: httpcore.Public, Chain: pages, Handler: s.serveStatic},
		{Method: "GET", Path: "/favicon.ico", Access: httpcore.Public, Chain: pages, Handler: noFavicon},

		{Method: "GET", Path: "/dev/messages", Access: httpcore.Public, Chain: pages, Handler: s.devMessages},
		{Method: "GET", Path: "/dev/messages.json", Access: httpcore.Public, Chain: api, Handler: s.devMessagesJSON},
		{Method: "GET", Path: "/dev/messages/{file}", Access: httpcore.Public, Chain: api, Handler: s.devMessageFile},
	}
}
