package web

import (
	"net/http"

	"gatehouse/internal/code"
)

// route is one URL of the server.
type route struct {
	method  string
	path    string
	auth    bool // requires a signed-in session
	handler http.HandlerFunc
}

// routes is the one table of every URL Gatehouse serves (besides /static/).
func (s *Server) routes() []route {
	return []route{
		{"GET", "/{$}", false, s.home},
		{"GET", "/lang", false, s.language},

		{"GET", "/signup", false, s.signupForm},
		{"POST", "/signup", false, s.signupSubmit},
		{"GET", "/signup/confirm", false, s.confirmForm},
		{"POST", "/signup/confirm", false, s.confirmSubmit},
		{"POST", "/signup/confirm/resend", false, s.resend("confirm", "confirm.title", code.ConfirmEmail, "/signup/confirm", s.Accounts.ResendConfirmation)},

		{"GET", "/signin", false, s.signinForm},
		{"POST", "/signin", false, s.signinSubmit},
		{"POST", "/signout", false, s.signout},

		{"GET", "/account", true, s.accountPage},
		{"POST", "/account/signout-everywhere", true, s.signoutEverywhere},
		{"GET", "/account/password", true, s.passwordForm},
		{"POST", "/account/password", true, s.passwordSubmit},

		{"GET", "/password/forgot", false, s.forgotForm},
		{"POST", "/password/forgot", false, s.forgotSubmit},
		{"GET", "/password/reset", false, s.resetForm},
		{"POST", "/password/reset", false, s.resetSubmit},
		{"POST", "/password/reset/resend", false, s.resend("reset", "reset.title", code.ResetPassword, "/password/reset", s.Accounts.ResendReset)},

		{"GET", "/favicon.ico", false, noFavicon},
		{"GET", "/healthz", false, s.healthz},
		{"GET", "/readyz", false, s.readyz},

		{"GET", "/dev/messages", false, s.devMessages},
		{"GET", "/dev/messages.json", false, s.devMessagesJSON},
	}
}
