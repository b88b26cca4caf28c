package web

import (
	"net/http"

	"gatehouse/internal/request"
)

// access says who may use a route.
type access int

const (
	public   access = iota
	signedIn        // a live session; everyone else is sent to sign in
)

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
	cost    cost
	handler http.HandlerFunc
}

// routes is the one table of every URL Gatehouse serves (besides /static/).
func (s *Server) routes() []route {
	return []route{
		{"GET", "/{$}", public, cheap, s.home},
		{"GET", "/lang", public, cheap, s.language},

		{"GET", "/signup", public, cheap, s.signupForm},
		{"POST", "/signup", public, hashes, s.signupSubmit},
		{"GET", "/signup/confirm", public, cheap, s.confirmForm},
		{"POST", "/signup/confirm", public, hashes, s.confirmSubmit},
		{"POST", "/signup/confirm/resend", public, cheap, s.resend("confirm", "confirm.title", request.ConfirmEmail, "/signup/confirm", s.Accounts.ResendConfirmation)},

		{"GET", "/signin", public, cheap, s.signinForm},
		{"POST", "/signin", public, hashes, s.signinSubmit},
		{"POST", "/signout", public, cheap, s.signout},

		{"GET", "/account", signedIn, cheap, s.accountPage},
		{"POST", "/account/preferences", signedIn, cheap, s.preferencesSubmit},
		{"POST", "/account/signout-everywhere", signedIn, cheap, s.signoutEverywhere},
		{"GET", "/account/password", signedIn, cheap, s.passwordForm},
		{"POST", "/account/password", signedIn, hashes, s.passwordSubmit},

		{"GET", "/password/forgot", public, cheap, s.forgotForm},
		{"POST", "/password/forgot", public, cheap, s.forgotSubmit},
		{"GET", "/password/reset", public, cheap, s.resetForm},
		{"POST", "/password/reset", public, hashes, s.resetSubmit},
		{"POST", "/password/reset/resend", public, cheap, s.resend("reset", "reset.title", request.ResetPassword, "/password/reset", s.Accounts.ResendReset)},

		{"GET", "/favicon.ico", public, cheap, noFavicon},
		{"GET", "/healthz", public, cheap, s.healthz},
		{"GET", "/readyz", public, cheap, s.readyz},

		{"GET", "/dev/messages", public, cheap, s.devMessages},
		{"GET", "/dev/messages.json", public, cheap, s.devMessagesJSON},
	}
}
