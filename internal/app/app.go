// Package app assembles a Gatehouse server from its configuration: the
// store, the capability services, the outbox worker and the web handler.
// cmd/gatehouse and the end-to-end tests both build the server through New,
// so what the tests exercise is exactly what runs.
package app

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"gatehouse/internal/account"
	"gatehouse/internal/activity"
	"gatehouse/internal/address"
	"gatehouse/internal/adminapi"
	"gatehouse/internal/apikey"
	"gatehouse/internal/backup"
	"gatehouse/internal/check"
	"gatehouse/internal/checkup"
	"gatehouse/internal/clock"
	"gatehouse/internal/code"
	"gatehouse/internal/config"
	"gatehouse/internal/console"
	"gatehouse/internal/crypt"
	"gatehouse/internal/delivery"
	"gatehouse/internal/device"
	"gatehouse/internal/dkimkeys"
	"gatehouse/internal/forwardauth"
	"gatehouse/internal/geo"
	"gatehouse/internal/httpcore"
	"gatehouse/internal/i18n"
	"gatehouse/internal/limit"
	"gatehouse/internal/method"
	"gatehouse/internal/metrics"
	"gatehouse/internal/notice"
	"gatehouse/internal/oidc"
	"gatehouse/internal/oidcdoor"
	"gatehouse/internal/operator"
	"gatehouse/internal/outbox"
	"gatehouse/internal/passkey"
	"gatehouse/internal/password"
	"gatehouse/internal/phone"
	"gatehouse/internal/postgres"
	"gatehouse/internal/random"
	"gatehouse/internal/ratelimit"
	"gatehouse/internal/request"
	"gatehouse/internal/retention"
	"gatehouse/internal/secevent"
	"gatehouse/internal/secrets"
	"gatehouse/internal/session"
	"gatehouse/internal/signin"
	"gatehouse/internal/sqlite"
	"gatehouse/internal/totp"
	"gatehouse/internal/twostep"
	"gatehouse/internal/web"
)

// App is an assembled server.
type App struct {
	Config   *config.Config
	DB       Store
	Secrets  *secrets.Secrets
	Pool     *password.Pool
	Hasher   *password.Hasher
	Accounts *account.Service
	SignIn   *signin.Service
	Sessions *session.Manager
	Outbox   *outbox.Outbox
	TwoStep  *twostep.Service
	// Deliveries posts to other programs — security event tokens, signed
	// JSON webhooks, back-channel logout tokens — from the deliveries
	// table (cmd/gatehouse serve runs its worker, Deliveries.Run);
	// Webhooks turns security events into deliveries for the configured
	// receivers (nil when none is configured).
	Deliveries *delivery.Sender
	Webhooks   *delivery.Webhooks
	// DKIM holds the keys every email is signed with; Checker answers
	// "is this message genuine?" for the pages, the API and the CLI.
	DKIM    *dkimkeys.Ring
	Checker *check.Checker
	Web     *web.Server
	// ForwardAuth answers reverse proxies (/auth/verify).
	ForwardAuth *forwardauth.Door
	// APIKeys are the operator's keys for the admin API; Admin is the
	// admin API (/api/admin/).
	APIKeys *apikey.Service
	// Operators gives and takes the console's roles and keeps the audit
	// trail of what operators do and see.
	Operators *operator.Service
	Admin     *adminapi.Door
	// SigningKeys sign the OpenID provider's tokens; Clients are the
	// applications registered with it; OIDC is its front door (today
	// discovery and the JWKS).
	SigningKeys *oidc.Keys
	Clients     *oidc.Clients
	OIDC        *oidcdoor.Door
	// Flow is the OpenID provider's authorization code flow; Apps what
	// the holder's pages ask of it.
	Flow *oidc.Flow
	Apps *oidc.Apps
	// HTTP is the core every front door's routes are served through
	// (Handler).
	HTTP *httpcore.Server
	Log  *slog.Logger
	// Limits counts guesses and sends (package limit).
	Limits *limit.Limiter
	// SecretsCreated is set when this start generated the secrets file.
	SecretsCreated bool
	// Pruner deletes data past its retention once Start has been called.
	Pruner *retention.Pruner
	// Metrics are the server's collectors, with a registry of their own;
	// nil unless metrics.listen is set (see MetricsHandler).
	Metrics *metrics.Metrics

	stopListening context.CancelFunc
	// places is the IP geolocation database, if one is configured.
	places      *geo.DB
	stopPruning context.CancelFunc
	userAgents  *device.UserAgents // compiled in the background after Start
	background  sync.WaitGroup
	clock       atomic.Pointer[clock.Clock]
}

// New opens the database and builds every service.
func New(ctx context.Context, cfg *config.Config, log *slog.Logger) (*App, error) {
	look, err := readLook(cfg, log)
	if err != nil {
		return nil, err
	}
	// The DKIM keys are opened on a second core while the database opens:
	// a few milliseconds each side of a start. They are still checked
	// before New returns: a broken key stops the start, as it always did.
	type opened struct {
		ring *dkimkeys.Ring
		err  error
	}
	dkimDone := make(chan opened, 1)
	dkimDir := cfg.DKIMDir()
	go func() {
		// Every email is DKIM-signed from the first one: the keys are made
		// on the first start, into the data dir. The real clock: no
		// SetClock can have run before New returns.
		ring, err := dkimkeys.Open(dkimDir, time.Now())
		dkimDone <- opened{ring, err}
	}()
	// The database first: whether it already belongs to an installation
	// decides whether a missing secrets file may be generated.
	db, err := OpenStore(ctx, cfg, true)
	if err != nil {
		<-dkimDone
		return nil, err
	}
	sec, created, err := loadSecrets(ctx, db, cfg)
	if err == nil {
		err = checkSecrets(ctx, db, sec, cfg.SecretsPath())
	}
	dkim := <-dkimDone
	if err == nil && dkim.err != nil {
		err = fmt.Errorf("dkim: %w", dkim.err)
	}
	if err != nil {
		db.Close()
		return nil, err
	}
	// The message catalog loads in the background: the first page or
	// message waits for it. It starts only now so as not to take the
	// second core from the keys, which the start waits for.
	cat := i18n.NewLoading()
	cat.SetDefaultZones(map[string]*time.Location{"ja": cfg.Location("time_zone.ja"), "en": cfg.Location("time_zone.en")})
	a := &App{Config: cfg, DB: db, Secrets: sec, Log: log, SecretsCreated: created}
	a.Pruner = &retention.Pruner{Store: db, History: cfg.Duration("retention.history"), Log: log, Now: a.now}

	workers := cfg.Int("argon2.workers")
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	queue := cfg.Int("argon2.queue")
	if queue <= 0 {
		queue = 4 * workers
	}
	a.Pool = password.NewPool(workers, queue)
	var pepper []byte
	if cfg.Bool("password.pepper") {
		pepper = sec.Pepper
	}
	a.Hasher = password.NewHasher(password.Params{
		MemoryKiB:   uint32(cfg.Int("argon2.memory_kib")),
		Iterations:  uint32(cfg.Int("argon2.iterations")),
		Parallelism: uint8(cfg.Int("argon2.parallelism")),
	}, pepper, a.Pool)
	if cfg.String("metrics.listen") != "" {
		// The server's own registry: nothing global, so two servers in one
		// process (the tests) count apart.
		a.Metrics = metrics.New(prometheus.NewRegistry())
		a.Pool.Waited = a.Metrics.PoolWait
		a.Metrics.WatchPool(a.Pool)
		a.Metrics.WatchOutbox(db, a.now)
		a.Metrics.WatchDeliveries(db, a.now)
	}

	// The one clock every service reads; SetClock moves it for all of them.
	clk := clock.Clock(a.now)
	serviceName := cfg.String("service_name")
	support := supportContact(cfg)
	box, err := crypt.New(sec.EncryptionKey)
	if err != nil {
		db.Close()
		return nil, err
	}
	dkimRing := dkim.ring
	a.DKIM = dkimRing
	mailer, err := outbox.NewMailer(cfg.String("mail.from"), cfg.MailDomain(), dkimRing)
	if err != nil {
		db.Close()
		return nil, err
	}
	mailer.Now = a.now
	devDriver := &outbox.DevDriver{Mailer: mailer, Raw: db, Box: box}
	var driver outbox.Driver = devDriver
	if cfg.String("mail.driver") == "smtp" {
		roots, err := caPool(cfg.String("smtp.ca_file"))
		if err != nil {
			db.Close()
			return nil, err
		}
		driver = &outbox.SMTPDriver{Config: outbox.SMTPConfig{
			Host: cfg.String("smtp.host"), Port: cfg.Int("smtp.port"), Username: cfg.String("smtp.username"),
			Password: cfg.String("smtp.password"), TLS: cfg.String("smtp.tls"), From: cfg.String("mail.from"),
			RootCAs: roots,
		}, Mailer: mailer}
		devDriver = nil
	}
	a.Outbox = &outbox.Outbox{
		Store: db, Drivers: map[request.Channel]outbox.Driver{request.Email: driver, request.SMS: smsDriver(cfg)}, Catalog: cat, Box: box,
		ServiceName: serviceName, PublicURL: cfg.PublicURL(), Support: support, Log: log, Clock: clk,
		MaxAttempts: cfg.Int("mail.max_attempts"), Lease: cfg.Duration("mail.lease"), Poll: outboxPoll,
	}
	a.SigningKeys = &oidc.Keys{Store: db, Box: box, Clock: clk}
	events := a.deliveries(cfg, db, clk, log)
	notices := &notice.Composer{Outbox: a.Outbox, Catalog: cat, ServiceName: serviceName, Holders: holders{db}}
	limits := limit.New(db, db, LimitPolicy(cfg), clk, log)
	limits.LogKey = sec.HMACKey
	a.Limits = limits
	if m := a.Metrics; m != nil {
		limits.Refused = func(r limit.Rule) { m.Refused(string(r)) }
		a.Outbox.Delivered = func(msg *outbox.Message) { m.CodeSent(string(msg.Channel), string(msg.Cause)) }
	}
	codes := &code.Service{
		Store: db, Key: sec.HMACKey, TTL: cfg.Duration("code.ttl"), Cooldown: cfg.Duration("code.cooldown"),
		MaxFailures: cfg.Int("code.max_failures"), MaxSends: cfg.Int("code.max_sends"), Clock: clk, Blocks: db,
		Limits: limits,
	}
	var places *geo.DB
	if path := cfg.String("geoip.database"); path != "" {
		if places, err = geo.Open(path); err != nil {
			db.Close()
			return nil, fmt.Errorf("geoip.database: %w", err)
		}
		a.places = places
	}
	a.Sessions = &session.Manager{Store: db, Devices: db, Clock: clk, Lifetimes: session.Lifetimes{
		Idle: cfg.Duration("session.idle_timeout"), Absolute: cfg.Duration("session.absolute_timeout"),
		Remember: cfg.Duration("session.remember_timeout"), RememberIdle: cfg.Duration("session.remember_idle"),
	}, Events: events, Tx: db}
	if pg, ok := db.(*postgres.DB); ok && cfg.Duration("session.cache_ttl") > 0 {
		// Several nodes share the database: cache session checks, and let
		// every node's revocations evict them everywhere via LISTEN/NOTIFY.
		cache := session.NewCache(cfg.Duration("session.cache_ttl"), sessionCacheSize)
		a.Sessions.Cache = cache
		lctx, cancel := context.WithCancel(context.Background())
		a.stopListening = cancel
		go pg.Listen(lctx, cache, log)
	}
	if sq, ok := db.(*sqlite.DB); ok {
		if ttl := cfg.Duration("session.cache_ttl"); ttl > 0 {
			// One node, but other processes (the gatehouse commands) may
			// write the same file: the change log its triggers keep tells
			// this process of its own changes as they commit and of
			// theirs within sqliteWatchEvery.
			cache := session.NewCache(ttl, sessionCacheSize)
			lctx, cancel := context.WithCancel(context.Background())
			if err := sq.Watch(lctx, cache, sqliteWatchEvery, log); err != nil {
				cancel()
				db.Close()
				return nil, err
			}
			a.Sessions.Cache = cache
			a.stopListening = cancel
		} else {
			// Sessions read on every check; what pages read about an
			// account is kept while its count of changes, read with the
			// session, stands.
			a.Sessions.Kept = session.NewKept(sessionCacheSize)
		}
	}
	uas := &device.UserAgents{}
	policy := password.Policy{MinLength: cfg.Int("password.min_length"), ServiceName: serviceName}
	limits.Ceiling = ceilingNotice(db, notices, log)
	apps := &totp.Service{Store: db, Box: box, Issuer: serviceName, Clock: clk}
	backups := &backup.Service{Store: db, Key: sec.HMACKey, Clock: clk}
	keys, localURL, err := passkeys(cfg.PublicURL(), serviceName, db, clk)
	if err != nil {
		log.Info("passkeys are off", "reason", err)
	}
	// The second-step methods, strongest first: the order a sign-in
	// offers an account's ways in. A new method is one file in package
	// method and one line here.
	var ways []method.Method
	if keys != nil {
		ways = append(ways, method.PasskeyMethod{Keys: keys})
	}
	ways = append(ways, method.AppMethod{Store: db, Codes: apps}, method.SMSMethod{Codes: codes},
		method.BackupMethod{Codes: backups}, method.EmailMethod{Codes: codes})
	methods := method.NewSet(ways...)
	a.TwoStep = &twostep.Service{
		Apps: apps, Backup: backups, Passkeys: keys,
		Phone:   &phone.Service{Store: db, Codes: codes, Notices: notices, Region: cfg.String("phone.default_region"), Clock: clk, Tx: db},
		Notices: notices, Tx: db, Forget: a.Sessions.Forget, Set: methods, Events: events,
		Resets: db, ResetWait: cfg.Duration("console.reset_wait"),
	}
	sd := signin.Deps{Accounts: db, Attempts: db, Hasher: a.Hasher, Sessions: a.Sessions, Tx: db, Log: log, Clock: clk,
		Devices: db, Codes: codes, Notices: notices, Methods: methods, Reauth: a.Sessions, Limits: limits}
	if keys != nil {
		// A nil *passkey.Service in the interface would not read as "off".
		sd.Passkeys = keys
	}
	if m := a.Metrics; m != nil {
		sd.Ended = func(k signin.Kind, o signin.Outcome, used signin.Method) {
			// Sign-ins only: a re-verification or a password typed on the
			// password page is not one.
			if k == signin.SignInKind {
				m.SignIn(string(o), string(used))
			}
		}
	}
	a.SignIn = signin.New(sd, signin.Settings{
		NewDeviceCheck: cfg.String("signin.new_device_check") == "email",
		EmailFallback:  cfg.Bool("signin.email_fallback"),
		TrustFor:       cfg.Duration("signin.trust_days"),
		CodeSignIn:     cfg.Bool("signin.code_signin"),
	})
	a.Accounts = &account.Service{
		Store: db, Hasher: a.Hasher, Policy: policy, Codes: codes, Notices: notices, Sessions: a.Sessions,
		Clock: clk, Catalog: cat, PhoneRegion: cfg.String("phone.default_region"),
		HistoryLength: cfg.Int("password.history"), Limits: limits,
		Trust: db, Guesses: a.SignIn, Pending: a.SignIn, Tx: db, Events: events, Erase: db,
	}
	a.Checker = &check.Checker{
		Messages: db, Keys: dkimRing, Catalog: cat, ServiceName: serviceName, MailDomain: cfg.MailDomain(), FromDomain: strings.ToLower(mailer.From.Address[strings.LastIndexByte(mailer.From.Address, '@')+1:]), PublicURL: cfg.PublicURL(),
		SupportURL: cfg.String("support.url"),
		Zone:       func(lang string) *time.Location { return cat.Zone(lang, "") },
	}
	region := cfg.String("phone.default_region")
	proxies, _ := cfg.TrustedProxies() // validated by config.Load
	act := &activity.Service{
		Store: db, Messages: db, Challenges: db, Codes: codes, Attempts: db, Accounts: db, Sessions: a.Sessions,
		Devices: db, Blocks: db, Notices: notices, Tx: db, Clock: clk, Log: log, Events: events,
	}
	if m := a.Metrics; m != nil {
		act.NotMe = func(c request.Cause) { m.NotMe(string(c)) }
		a.Checker.Judged = func(kind string, v check.Verdict) { m.Verdict(kind, string(v)) }
	}
	a.Web = &web.Server{
		Accounts: a.Accounts, SignIn: a.SignIn, Sessions: a.Sessions, TwoStep: a.TwoStep,
		Addresses: &address.Service{Store: db, Codes: codes, Notices: notices, Tx: db, Forget: a.Sessions.Forget},
		Devices:   &device.Devices{Store: db, UserAgents: uas, Clock: clk}, Codes: codes, Outbox: a.Outbox, Catalog: cat, Log: log,
		Clock:       clk,
		ServiceName: serviceName, Support: support, MinPasswordLength: policy.MinLength, RememberFor: cfg.Duration("session.remember_timeout"),
		DevMessages:     driver.Name() == "dev",
		PhoneRegion:     region,
		PhoneExample:    account.PhoneExample(region),
		Passkeys:        keys,
		PasskeyLocalURL: localURL,
		TrustFor:        cfg.Duration("signin.trust_days"),
		Places:          places,
		Checker:         a.Checker,
		Reports:         &check.Reports{Checker: a.Checker, Store: db, Box: box, Now: a.now, NewID: random.ID}, DevRaw: devDriver, Limits: limits,
		Checkup:  &checkup.Service{Limits: limits, TwoStep: a.TwoStep, Backup: a.TwoStep.Backup, Devices: db, Activity: act, Clock: clk},
		Activity: act,
		Look:     look,
	}
	if err := a.useLook(look); err != nil {
		db.Close()
		return nil, err
	}
	if a.ForwardAuth, err = forwardAuth(cfg, a.Sessions, box, a.Web.Pages()); err != nil {
		db.Close()
		return nil, err
	}
	a.APIKeys = &apikey.Service{Store: db, Clock: clk}
	a.Operators = &operator.Service{Store: db, Accounts: db, Clock: clk,
		// A passkey or an authenticator app: not SMS alone.
		Strong: func(ctx context.Context, acct *account.Account) (bool, error) {
			m, err := a.TwoStep.Methods(ctx, acct)
			if err != nil {
				return false, err
			}
			return len(m.Passkeys) > 0 || len(m.Apps) > 0, nil
		}}
	a.Web.Console = &console.Service{Operators: a.Operators, Accounts: db, Changes: a.Accounts, Messages: db, Activity: db,
		Stories: act, Devices: a.Web.Devices, TwoStep: a.TwoStep, Limits: limits, ReportStore: db, Box: box, Clock: clk, Tx: db}
	consoleDoor := &web.ConsoleDoor{Service: a.Web.Console, Proofs: db, FreshWithin: cfg.Duration("console.fresh_within")}
	a.Clients = &oidc.Clients{Store: db, Key: sec.HMACKey, Clock: clk}
	a.Admin = &adminapi.Door{Keys: a.APIKeys, Accounts: a.Accounts, Sessions: a.Sessions,
		Attempts: db, Messages: db, Devices: a.Web.Devices, Clients: a.Clients, Deliveries: db, Retrier: a.Deliveries, Log: log}
	if err := a.openFlow(cfg, db, box, log, clk); err != nil {
		db.Close()
		return nil, err
	}
	a.HTTP = &httpcore.Server{
		Catalog: cat, Log: log, Clock: clk, Sessions: a.Sessions, Devices: a.Web.Devices, Places: places,
		TrustCopied: a.SignIn.TrustCopied,
		Lookups:     &ratelimit.Limiter{Burst: cfg.Int("check.lookups_per_minute"), Per: time.Minute, Now: a.now},
		Admit: func(ctx context.Context, network string) (context.Context, func(), time.Duration, bool) {
			return a.Pool.AdmitFrom(ctx, network, cfg.Duration("argon2.wait"))
		},
		Ready:        db.Ping,
		StepUpWithin: cfg.Duration("session.step_up_within"),
		// On TLS here, or behind a TLS proxy (public_url https): the browser is on HTTPS.
		HSTS:           cfg.TLS() || strings.HasPrefix(cfg.PublicURL(), "https://"),
		TrustedProxies: proxies,
		Hosts:          cfg.Hosts(),
		Gates: map[httpcore.Access]httpcore.Gate{httpcore.PasswordChecked: a.Web.RequirePending, adminapi.Access: a.Admin.Gate,
			web.ConsoleViewer: consoleDoor.Gate, web.ConsoleActing: consoleDoor.Gate},
		Unrouted: map[string]*httpcore.Chain{"/": a.Web.Pages(), "/api/": httpcore.NewJSON()},
	}
	if m := a.Metrics; m != nil {
		a.HTTP.Timing = m.Route
		a.HTTP.LookupRefused = func() { m.Refused(metrics.CheckLookups) }
	}
	a.userAgents = uas
	return a, nil
}

// deliveries builds the deliveries outbox (a.Deliveries) with an encoder
// for each kind, and the webhooks for the configured receivers
// (a.Webhooks). It returns the sink the capabilities record security
// events in: nil when no receiver is configured, so that no capability
// does the work of recording events nobody receives.
func (a *App) deliveries(cfg *config.Config, db Store, clk clock.Clock, log *slog.Logger) secevent.Sink {
	keys := firstKey{a.SigningKeys}
	a.Deliveries = &delivery.Sender{
		Store: db, Clock: clk, Log: log, MaxAttempts: cfg.Int("webhooks.max_attempts"), Lease: deliveryLease, Poll: outboxPoll,
		Kinds: map[delivery.Kind]delivery.Encoder{
			delivery.SET: delivery.SignedJWT{Keys: keys, Typ: "secevent+jwt", ContentType: "application/secevent+jwt"},
			// OpenID Connect Back-Channel Logout 1.0: the logout token
			// is posted as a form field, and expires (exp) soon.
			delivery.BackchannelLogout: delivery.SignedJWT{Keys: keys, Typ: "logout+jwt", FormField: "logout_token", TTL: 2 * time.Minute},
		},
	}
	var receivers []delivery.Receiver
	for _, r := range cfg.SETReceivers() {
		receivers = append(receivers, delivery.Receiver{Kind: delivery.SET, URL: r.URL, Audience: r.Audience})
	}
	for _, r := range cfg.JSONReceivers() {
		receivers = append(receivers, delivery.Receiver{Kind: delivery.WebhookJSON, URL: r.URL, Secret: []byte(r.Secret)})
	}
	hooks := &delivery.Webhooks{Sender: a.Deliveries, Receivers: receivers, Issuer: oidcdoor.Issuer(cfg.PublicURL())}
	// Registered even without receivers: a JSON delivery stored while its
	// receiver was configured fails as "no longer configured".
	a.Deliveries.Kinds[delivery.WebhookJSON] = delivery.HMACJSON{Secret: hooks.Secrets()}
	if len(receivers) == 0 {
		return nil
	}
	a.Webhooks = hooks
	return hooks
}

// deliveryLease is how long a worker's claim on a delivery lasts: longer
// than an attempt (delivery.Timeout), short enough that a node that died
// delays its deliveries by about a minute.
const deliveryLease = time.Minute

// firstKey makes the installation's first signing key if a delivery
// needs one before Start made it (a token is signed by a worker that
// started at once).
type firstKey struct{ keys *oidc.Keys }

// Signing implements delivery.Keys.
func (k firstKey) Signing(ctx context.Context) (*oidc.Signer, error) {
	s, err := k.keys.Signing(ctx)
	if errors.Is(err, oidc.ErrNoSigningKey) {
		if err := k.keys.Ensure(ctx); err != nil {
			return nil, err
		}
		return k.keys.Signing(ctx)
	}
	return s, err
}

// warmAfter is how long after Start the user-agent parser is compiled. It
// allocates tens of megabytes compiling a thousand regular expressions:
// alongside start-up, on a two-core machine, it took the second core and
// brought collections that slowed the first answer more than anything
// start-up itself does. A browser that comes sooner compiles it itself
// (device.UserAgents builds on first use).
const warmAfter = time.Second

// passkeys builds the passkey service for the public URL. Browsers offer
// passkeys only to a domain name (https, or http at localhost), never to
// an IP address; a public URL at a loopback address — the out-of-the-box
// http://127.0.0.1:8080 — therefore gets them at localhost on the same
// port, and localURL is that address, for the pages to point to. Any other
// URL that cannot hold them turns passkeys off (err says why); every other
// method works without them.
func passkeys(publicURL, serviceName string, store passkey.Store, clk clock.Clock) (svc *passkey.Service, localURL string, err error) {
	u, err := url.Parse(publicURL)
	if err != nil {
		return nil, "", err
	}
	if ip, err := netip.ParseAddr(u.Hostname()); err == nil && ip.IsLoopback() && u.Scheme == "http" {
		port := u.Port()
		u.Host = "localhost"
		if port != "" {
			u.Host += ":" + port
		}
		localURL = u.String()
	}
	rpID, origin, err := passkey.RelyingParty(u.String())
	if err != nil {
		return nil, "", err
	}
	svc, err = passkey.New(passkey.Config{RPID: rpID, Origin: origin, DisplayName: serviceName, Store: store, Clock: clk})
	if err != nil {
		return nil, "", err
	}
	return svc, localURL, nil
}

// now is the server's clock: the real one unless SetClock replaced it.
func (a *App) now() time.Time {
	if c := a.clock.Load(); c != nil {
		return (*c)()
	}
	return time.Now()
}

// SetClock makes every service of the app read time from c (tests: code
// expiry, cool-downs, session timeouts move together). Nil restores the
// real clock.
func (a *App) SetClock(c clock.Clock) {
	if c == nil {
		a.clock.Store(nil)
		return
	}
	a.clock.Store(&c)
}

// smsDriver is the configured SMS driver (sms.driver, validated by Load).
func smsDriver(cfg *config.Config) outbox.Driver {
	switch cfg.String("sms.driver") {
	case "http":
		return &outbox.HTTPSMS{URL: cfg.String("sms.http.url"), Secret: []byte(cfg.String("sms.http.secret"))}
	case "twilio":
		return &outbox.TwilioSMS{
			BaseURL: cfg.String("sms.twilio.base_url"), AccountSID: cfg.String("sms.twilio.account_sid"),
			AuthToken: cfg.String("sms.twilio.auth_token"), From: cfg.String("sms.twilio.from"),
		}
	}
	return outbox.DevDriver{}
}

// sqliteWatchEvery is how soon a change another process makes to an
// SQLite file (a `gatehouse` command beside the server) reaches the
// server's session cache.
const sqliteWatchEvery = 5 * time.Millisecond

// sessionCacheSize bounds the session cache (about 1 KB per entry).
const sessionCacheSize = 100_000

// Start starts the background work of a running server: pruning data past
// its retention, shortly after the start and then hourly. New does not
// start it, so that one-shot commands (gatehouse user) do no such work.
func (a *App) Start() {
	if a.stopPruning != nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	a.stopPruning = cancel
	a.background.Go(func() { a.Pruner.Run(ctx) })
	// The first start makes the first signing key, in the background: an
	// RSA key takes a core for a moment, and nothing signs before a
	// relying party has registered and sent someone here. A JWKS request
	// that comes sooner makes it itself (Keys.Published). Not during the
	// start itself: reading and parsing the keys a later start finds
	// would take that core from the first requests (cold start).
	a.background.Go(func() {
		select {
		case <-time.After(warmAfter):
		case <-ctx.Done():
			return
		}
		if err := a.SigningKeys.Ensure(ctx); err != nil && ctx.Err() == nil {
			a.Log.Error("oidc: make the first signing key", "err", err)
		}
	})
	if a.userAgents != nil {
		a.background.Go(func() {
			select {
			case <-time.After(warmAfter):
				a.userAgents.Warm()
			case <-ctx.Done():
			}
		})
	}
}

// Close stops background work, waiting for a pruning batch in progress to
// finish, and closes the database.
func (a *App) Close() error {
	if a.stopListening != nil {
		a.stopListening()
	}
	if a.stopPruning != nil {
		a.stopPruning()
	}
	a.background.Wait()
	if a.places != nil {
		a.places.Close()
	}
	return a.DB.Close()
}

// caPool loads extra CA certificates for the SMTP connection.
func caPool(file string) (*x509.CertPool, error) {
	if file == "" {
		return nil, nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("smtp.ca_file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("smtp.ca_file: %s holds no PEM certificate", file)
	}
	return pool, nil
}

// holders tells the notice composer where an account's messages go.
type holders struct{ store account.Store }

// Reach implements notice.Holders.
func (h holders) Reach(ctx context.Context, accountID string) (string, string, error) {
	a, err := h.store.AccountByID(ctx, accountID)
	if errors.Is(err, account.ErrNotFound) {
		return "", "", nil
	}
	if err != nil {
		return "", "", err
	}
	if a.PhoneConfirmedAt.IsZero() {
		return a.Email, "", nil
	}
	return a.Email, a.Phone, nil
}

// LimitPolicy reads the limit.* keys.
func LimitPolicy(cfg *config.Config) limit.Policy {
	p := limit.Defaults()
	p.FreeFailures = cfg.Int("limit.guess_free")
	p.FirstDelay, p.MaxDelay = cfg.Duration("limit.guess_delay"), cfg.Duration("limit.guess_max_delay")
	p.Budget, p.Ceiling = cfg.Int("limit.guess_budget"), cfg.Int("limit.guess_ceiling")
	p.NetFailuresIP, p.NetFailuresNet = cfg.Int("limit.network_failures_ip"), cfg.Int("limit.network_failures")
	p.NetSubjectsIP, p.NetSubjectsNet = cfg.Int("limit.network_accounts_ip"), cfg.Int("limit.network_accounts")
	p.PerDestination10m, p.PerDestinationDay = cfg.Int("limit.sends_per_10m"), cfg.Int("limit.sends_per_day")
	p.PerNetworkHour = cfg.Int("limit.sends_per_network")
	p.CodeTTL = cfg.Duration("code.ttl")
	p.SMSPerCountryDay, p.SMSPerDay = cfg.Int("limit.sms_per_country"), cfg.Int("limit.sms_per_day")
	p.SMSCountries = cfg.SMSCountries()
	p.AnonymousPerMinute = cfg.Int("limit.anonymous_per_minute")
	return p
}

// ceilingNotice tells a holder, on every channel they have, that a run
// of wrong guesses at one of their secrets reached the ceiling.
func ceilingNotice(accounts interface {
	AccountByID(ctx context.Context, id string) (*account.Account, error)
}, notices *notice.Composer, log *slog.Logger) func(context.Context, string, limit.Secret, int, request.Origin) {
	return func(ctx context.Context, accountID string, s limit.Secret, n int, o request.Origin) {
		a, err := accounts.AccountByID(ctx, accountID)
		if err == nil {
			_, err = notices.Send(ctx, notice.Notice{
				Purpose: request.GuessCeiling, AccountID: a.ID, To: a.Email, Language: a.Language, TimeZone: a.TimeZone,
				Origin: o, Secret: string(s), Failures: n,
			})
		}
		if err != nil {
			log.ErrorContext(ctx, "limit: tell the holder of the ceiling", "account", accountID, "err", err)
		}
	}
}

// Handler serves every front door's routes through the HTTP core: the one
// route table of the installation.
func (a *App) Handler() http.Handler { return a.HTTP.Handler(a.Routes()) }

// MetricsHandler serves the metrics (metrics.listen); nil when they are
// off. It is a handler of its own, for a listener of its own: /metrics is
// not a route of the table, and the holders' address never serves it.
func (a *App) MetricsHandler() http.Handler {
	if a.Metrics == nil {
		return nil
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", a.Metrics.Handler())
	return mux
}

// Routes is the installation's one route table: every front door's routes.
func (a *App) Routes() []httpcore.Route {
	var table []httpcore.Route
	table = append(table, a.HTTP.Health()...)
	table = append(table, a.Web.Routes()...)
	table = append(table, a.ForwardAuth.Routes()...)
	table = append(table, a.Admin.Routes()...)
	table = append(table, a.OIDC.Routes()...)
	return table
}

// forwardAuth builds the forward-auth door from its settings (checked by
// config.Load).
func forwardAuth(cfg *config.Config, sessions *session.Manager, box *crypt.Box, pages *httpcore.Chain) (*forwardauth.Door, error) {
	policy, err := forwardauth.ParsePolicy(cfg.String("forward_auth.policy"))
	if err != nil {
		return nil, err
	}
	return &forwardauth.Door{Sessions: sessions, Box: box, Domains: cfg.ForwardAuthDomains(),
		CookieDomain: cfg.ForwardAuthCookieDomain(), Policy: policy, Pages: pages}, nil
}

// openFlow builds the OpenID provider's flow and its front door. The
// holder's pages get the connected applications, and ending every
// session of an account (sign out everywhere, "this wasn't me", a
// password reset, disabling) revokes the applications' tokens too.
func (a *App) openFlow(cfg *config.Config, db Store, box *crypt.Box, log *slog.Logger, clk clock.Clock) error {
	var flowStore oidc.FlowStore = db
	issuer := oidcdoor.Issuer(cfg.PublicURL())
	flow, err := oidc.NewFlow(&oidc.Flow{Store: flowStore, Clients: a.Clients, Keys: a.SigningKeys, Holders: db,
		Clock: clk, Log: log, LoginURL: oidcdoor.ContinueURL}, issuer, box)
	if err != nil {
		return err
	}
	a.Flow = flow
	a.Apps = &oidc.Apps{Store: flowStore, Clients: db, Now: a.now, Box: box}
	a.Web.Apps = a.Apps
	a.Sessions.AllEnded = func(ctx context.Context, accountID string) error {
		return a.Apps.RevokeAll(ctx, accountID, oidc.ReasonSessionsEnded)
	}
	// Back-channel logout (OpenID Connect Back-Channel Logout 1.0): a
	// logout token for each application sign-in of an ended session,
	// queued in the ending's transaction and signed when it is sent.
	a.Apps.Logout = func(ctx context.Context, accountID string, c *oidc.Client, sid string) error {
		claims, err := json.Marshal(map[string]any{
			"iss": issuer, "aud": c.ID, "sub": accountID, "sid": sid,
			"events": map[string]any{"http://schemas.openid.net/event/backchannel-logout": map[string]any{}},
		})
		if err != nil {
			return err
		}
		return a.Deliveries.Enqueue(ctx, &delivery.Delivery{Kind: delivery.BackchannelLogout, Target: c.BackchannelLogoutURI,
			Receiver: c.ID, AccountID: accountID, Payload: claims})
	}
	a.Sessions.Ended = a.Apps.SessionsEnded
	// "This wasn't me" about a code an application caused disconnects it.
	a.Web.Activity.DisconnectApp = func(ctx context.Context, accountID, clientID string) error {
		err := a.Apps.Disconnect(ctx, accountID, clientID, oidc.ReasonNotMe)
		if errors.Is(err, oidc.ErrClientNotFound) {
			return nil // removed since: it reaches the account no more
		}
		return err
	}
	a.OIDC = &oidcdoor.Door{Issuer: issuer, Keys: a.SigningKeys, Flow: flow, Pages: a.Web.Pages(), Hop: a.Web.Hop,
		Proofs: func(ctx context.Context, acct *account.Account) (oidcdoor.Proofs, error) {
			m, err := a.TwoStep.Methods(ctx, acct)
			if err != nil {
				return oidcdoor.Proofs{}, err
			}
			return oidcdoor.Proofs{Factor: m.On(), Passkey: len(m.Passkeys) > 0}, nil
		}}
	return nil
}
