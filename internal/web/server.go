// Package web serves Gatehouse's pages: server-rendered HTML that works
// without JavaScript, in English and Japanese.
//
// The pages are one front door of the HTTP core (package httpcore): they
// list their URLs in routes.go, with every fact about each, and the core
// serves them through its chain (host check, headers, language,
// cross-origin rule, hashing pool, body, session, lookups, origin) before
// the page's handler runs. chain.go is the pages' chain: errors as pages in
// the holder's language, a missing session sent to the sign-in page.
// Handlers answer with a page, the form again with the error next to its
// field (422), or a redirect after success (303); any other error goes to
// the core's one error mapper (httpcore.Fail).
package web

import (
	"embed"
	"gatehouse/internal/oidc"
	"log/slog"
	"sync"
	"time"

	"gatehouse/internal/account"
	"gatehouse/internal/activity"
	"gatehouse/internal/address"
	"gatehouse/internal/brand"
	"gatehouse/internal/check"
	"gatehouse/internal/checkup"
	"gatehouse/internal/clock"
	"gatehouse/internal/code"
	"gatehouse/internal/console"
	"gatehouse/internal/device"
	"gatehouse/internal/geo"
	"gatehouse/internal/httpcore"
	"gatehouse/internal/i18n"
	"gatehouse/internal/limit"
	"gatehouse/internal/outbox"
	"gatehouse/internal/passkey"
	"gatehouse/internal/session"
	"gatehouse/internal/signin"
	"gatehouse/internal/twostep"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Server holds what the pages need. internal/app builds it.
type Server struct {
	Accounts *account.Service
	SignIn   *signin.Service
	Sessions *session.Manager
	Devices  *device.Devices
	Codes    *code.Service
	Outbox   *outbox.Outbox
	TwoStep  *twostep.Service
	// Apps are the applications connected through OpenID Connect:
	// consent, /account/apps, disconnecting.
	Apps *oidc.Apps
	// Addresses changes the account's email address.
	Addresses *address.Service
	// Passkeys begins passkey ceremonies for the pages; nil when the
	// public URL cannot hold passkeys (PasskeyLocalURL then says where
	// they work on this machine, if anywhere).
	Passkeys        *passkey.Service
	PasskeyLocalURL string
	Catalog         *i18n.Catalog
	Log             *slog.Logger
	// Activity tells a message's story and carries out "this wasn't me";
	// it reads sign-in activity too.
	Activity *activity.Service
	// Checkup is the security checkup's list (package checkup).
	Checkup *checkup.Service
	// Checker answers "is this message genuine?" on /check and
	// POST /api/check; Reports files and lists what holders chose to
	// report.
	Checker *check.Checker
	Reports *check.Reports
	// Limits counts guesses and sends (package limit); the pages use it
	// for anonymous writes and the account's state. Required.
	Limits *limit.Limiter
	// DevRaw serves the development driver's raw emails at
	// /dev/messages/{reference}.eml; nil with any other driver.
	DevRaw *outbox.DevDriver
	// Places finds the approximate place of an address; nil when no
	// database is configured (places are then left out).
	Places *geo.DB
	// Console is the operator console's work (package console); its
	// pages are drawn here, with the holder's templates. Nil: no console
	// routes (tests of the holder's pages alone).
	Console *console.Service

	ServiceName string
	// Look is the service's own look (package brand): logo, colours,
	// footer links, the operator's page templates. nil: the built-in
	// look, with ServiceName. CheckLook checks it before serving.
	Look *brand.Look
	// Support is where holders reach the operator's support (support.url
	// and/or support.email), or "": then no page tells anyone to contact
	// us.
	Support           string
	MinPasswordLength int
	RememberFor       time.Duration
	// DevMessages enables /dev/messages (only with the dev mail driver,
	// and only answered for loopback clients).
	DevMessages bool
	// TrustFor is how long "don't ask again on this browser" lasts
	// (signin.trust_days).
	TrustFor time.Duration
	// Clock is the server's one clock (nil: the real one).
	Clock clock.Clock
	// PhoneRegion is the region of numbers typed without a country code
	// (phone.default_region); PhoneExample is a number of it as people
	// write it, shown in hints and errors.
	PhoneRegion, PhoneExample string

	known map[string]bool // the GET paths, for the language switch
	// The templates, static files and busy pages are built in the
	// background from the first call to Pages (see startAssets); built is
	// set before ready is closed, and read only after.
	assetsOnce sync.Once
	ready      chan struct{}
	built      *assets
	// zoneOptions holds the account page's time-zone options, drawn once
	// per language and chosen zone (lang + "\x00" + zone → template.HTML).
	zoneOptions sync.Map
	// renderBufs are render's buffers (*bytes.Buffer), kept between pages.
	renderBufs sync.Pool
	// lookMade is the look's files and URLs, made once (look).
	lookOnce     sync.Once
	lookMade     *lookFiles
	pagesChain   *httpcore.Chain
	apiChain     *httpcore.Chain
	consoleChain *httpcore.Chain
}

func (s *Server) now() time.Time { return s.Clock.Now() }
