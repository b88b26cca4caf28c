// Package metrics is the operator's view of a running Gatehouse in the
// Prometheus exposition format, served at /metrics on its own address
// (metrics.listen) and never on the holders' one.
//
// Metrics owns every collector and the registry they are served from: one
// per server, built by the app and passed to nobody else — there is no
// global registry to fill from anywhere. The capability packages know
// nothing of it. Each tells an optional func what happened (signin's
// Ended, the outbox's Delivered, the checker's Judged, the limiter's
// Refused, …) and the app points those at the methods here; what is read
// rather than told (the outbox's backlog, the hashing pool's queue) is
// read at scrape time.
//
// Every label takes its value from a fixed list: an attempt's outcome, a
// method, a channel, a cause, a verdict, a limit's rule, a route of the
// table. A value off its list is counted as "other", so no caller can
// multiply the series; no label ever holds an account, an address or a
// network. The children of every fixed label set are resolved when
// Metrics is built, so counting on a request's path is a map read and an
// atomic add, with no lock and no allocation.
package metrics

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"gatehouse/internal/check"
	"gatehouse/internal/delivery"
	"gatehouse/internal/limit"
	"gatehouse/internal/outbox"
	"gatehouse/internal/request"
	"gatehouse/internal/signin"
)

// Other is the label value of anything off a label's list.
const Other = "other"

// Password is the method label of an attempt that involved no second
// step: the password alone (or the right password refused).
const Password = "password"

// NoCause is the cause label of a "this wasn't me" about a wrong password,
// which has no cause (it stops nothing).
const NoCause = "none"

// Label value lists. A value added to the product (a new outcome, cause or
// rule) is counted as Other until it is listed here.
var (
	outcomes = []string{string(signin.UnknownAccount), string(signin.WrongPassword), string(signin.Succeeded),
		string(signin.Pending), string(signin.Denied), string(signin.Failed), string(signin.Expired)}
	methods = []string{Password, string(signin.Passkey), string(signin.App), string(signin.SMS),
		string(signin.Email), string(signin.Backup), string(signin.Trusted)}
	channels = []string{string(request.Email), string(request.SMS)}
	causes   = func() []string {
		var out []string
		for _, c := range request.Causes {
			out = append(out, string(c))
		}
		return out
	}()
	kinds    = []string{"eml", "text", "reference"}
	verdicts = []string{string(check.Genuine), string(check.NotOurs), string(check.CannotTell)}
	rules    = []string{string(limit.GuessDelay), string(limit.GuessBudget), string(limit.NetworkFailures),
		string(limit.NetworkSubjects), string(limit.DestinationShort), string(limit.DestinationDay),
		string(limit.NetworkSends), string(limit.SMSCountry), string(limit.SMSCountryClosed), string(limit.SMSDay),
		string(limit.NetworkLookups), CheckLookups}
)

// CheckLookups is the limit label of a request refused for want of one of
// its network's lookups (check.lookups_per_minute): the limiter of the
// checker's and /why's routes, beside package limit's rules.
const CheckLookups = "check_lookups"

// Latency buckets, in seconds: page views take a millisecond or two, a
// sign-in an argon2 hash (tens of milliseconds), a slow database or a full
// hashing pool seconds.
var latencyBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// Metrics holds a server's collectors. Build it with New; its methods are
// safe for concurrent use.
type Metrics struct {
	reg       *prometheus.Registry
	signIns   *family
	codesSent *family
	notMe     *family
	verdicts  *family
	refusals  *family
	// poolWait is the hashing pool's wait, by result: [0] refused,
	// [1] admitted.
	poolWait [2]prometheus.Observer
	latency  *prometheus.HistogramVec

	mu     sync.Mutex // guards routes: Route is called at start, per route
	routes map[string]prometheus.Observer
}

// New builds the collectors and registers them, with the Go runtime's and
// the process's, in reg (a prometheus.NewRegistry of the caller's: never
// the default one).
func New(reg *prometheus.Registry) *Metrics {
	m := &Metrics{reg: reg, routes: map[string]prometheus.Observer{}}
	m.signIns = newFamily(reg, "gatehouse_signin_attempts_total",
		"Sign-in attempts by outcome and method, counted as each is recorded: a two-step sign-in once pending_second_step (method: the step asked for), then once more as it ends (method: the one that passed it). Method password: no second step was involved.",
		[]string{"outcome", "method"}, outcomes, methods)
	m.codesSent = newFamily(reg, "gatehouse_codes_sent_total",
		"Messages carrying a code that a driver accepted, by channel and cause (why the code was sent). Withheld codes (for addresses with no account) are never sent and not counted.",
		[]string{"channel", "cause"}, channels, causes)
	m.notMe = newFamily(reg, "gatehouse_not_me_total",
		`"This wasn't me" answers carried out, by the cause of the request answered (none: a wrong password's, which stops nothing).`,
		[]string{"cause"}, append(causes[:len(causes):len(causes)], NoCause))
	m.verdicts = newFamily(reg, "gatehouse_check_verdicts_total",
		`Verdicts of the "is this message genuine?" checker (pages, API), by what was checked and the verdict.`,
		[]string{"kind", "verdict"}, kinds, verdicts)
	m.refusals = newFamily(reg, "gatehouse_limit_refusals_total",
		"Requests refused by a limit, by its rule (package limit's rules, and check_lookups for check.lookups_per_minute).",
		[]string{"limit"}, rules)
	wait := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "gatehouse_hash_pool_wait_seconds",
		Help:    "How long a request that hashes waited for a place in the argon2 pool (zero when one was free), by result: admitted, or refused (busy, 503).",
		Buckets: []float64{0, .001, .01, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
	}, []string{"result"})
	reg.MustRegister(wait)
	m.poolWait[0], m.poolWait[1] = wait.WithLabelValues("refused"), wait.WithLabelValues("admitted")
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "gatehouse_http_request_duration_seconds",
		Help:    `How long requests took, by route: the route table's method and pattern ("POST /signin", "GET /why/{reference}"), or unrouted for a URL no route has.`,
		Buckets: latencyBuckets,
	}, []string{"route"})
	reg.MustRegister(m.latency)
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the registry's metrics (the exposition format a scraper
// asks for). An error reading a collector is logged by the scraper's
// answer, not by a 500: what could be read is still served.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// SignIn counts an attempt's outcome; used is the method that passed it or
// that it waits for, "" when the password alone was involved (signin's
// Ended).
func (m *Metrics) SignIn(outcome, used string) {
	if used == "" {
		used = Password
	}
	m.signIns.inc(outcome, used)
}

// CodeSent counts a message carrying a code that its driver accepted; a
// message with no cause is a notice, not a code, and is not counted.
func (m *Metrics) CodeSent(channel, cause string) {
	if cause == "" {
		return
	}
	m.codesSent.inc(channel, cause)
}

// NotMe counts a "this wasn't me" carried out, by its cause ("" is
// NoCause).
func (m *Metrics) NotMe(cause string) {
	if cause == "" {
		cause = NoCause
	}
	m.notMe.inc(cause, "")
}

// Verdict counts a verdict of the checker.
func (m *Metrics) Verdict(kind, verdict string) { m.verdicts.inc(kind, verdict) }

// Refused counts a request refused by the limit named rule.
func (m *Metrics) Refused(rule string) { m.refusals.inc(rule, "") }

// PoolWait records how long a request waited for a place in the hashing
// pool, and whether it got one (password.Pool's Waited).
func (m *Metrics) PoolWait(d time.Duration, admitted bool) {
	i := 0
	if admitted {
		i = 1
	}
	m.poolWait[i].Observe(d.Seconds())
}

// Route returns the function recording the latency of one route's
// requests (httpcore.Server's Timing). route is a pattern of the route
// table, never a requested URL: the server asks once per route as it
// starts, so the series are as many as the routes.
func (m *Metrics) Route(route string) func(time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	o, ok := m.routes[route]
	if !ok {
		o = m.latency.WithLabelValues(route)
		m.routes[route] = o
	}
	return func(d time.Duration) { o.Observe(d.Seconds()) }
}

// Pool is what the hashing pool tells at scrape time (password.Pool).
type Pool interface {
	Hashes() int64
	Refused() int64
	Waiting() int64
}

// WatchPool reads the hashing pool's counters at every scrape.
func (m *Metrics) WatchPool(p Pool) {
	m.reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "gatehouse_hashes_total", Help: "argon2 hashes computed by the pool."},
			func() float64 { return float64(p.Hashes()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "gatehouse_hash_pool_refusals_total", Help: "Hashes refused because the argon2 pool and its queue were full (503 with Retry-After)."},
			func() float64 { return float64(p.Refused()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "gatehouse_hash_pool_waiting", Help: "Requests waiting for a place in the argon2 pool now."},
			func() float64 { return float64(p.Waiting()) }),
	)
}

// WatchOutbox reads the outbox's backlog from the store at every scrape:
// one query, so that the depth is the installation's (every node's
// messages), not this node's view. now is the server's clock.
func (m *Metrics) WatchOutbox(store outbox.BacklogStore, now func() time.Time) {
	m.reg.MustRegister(&backlog{store: store, now: now})
}

var (
	depthDesc = prometheus.NewDesc("gatehouse_outbox_depth",
		"Messages waiting for delivery (queued, or claimed and being sent), on every node.", nil, nil)
	oldestDesc = prometheus.NewDesc("gatehouse_outbox_oldest_age_seconds",
		"Age of the oldest message waiting for delivery; 0 when none waits.", nil, nil)
)

// backlog is the collector of the outbox's backlog.
type backlog struct {
	store outbox.BacklogStore
	now   func() time.Time
}

// Describe implements prometheus.Collector.
func (b *backlog) Describe(ch chan<- *prometheus.Desc) {
	ch <- depthDesc
	ch <- oldestDesc
}

// Collect implements prometheus.Collector. A scrape must not hang on a
// database that does not answer: the read has five seconds, after which
// both metrics are reported invalid (the scrape still serves the rest).
func (b *backlog) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	bl, err := b.store.Backlog(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(depthDesc, err)
		ch <- prometheus.NewInvalidMetric(oldestDesc, err)
		return
	}
	age := 0.0
	if !bl.Oldest.IsZero() {
		age = max(0, b.now().Sub(bl.Oldest).Seconds())
	}
	ch <- prometheus.MustNewConstMetric(depthDesc, prometheus.GaugeValue, float64(bl.Depth))
	ch <- prometheus.MustNewConstMetric(oldestDesc, prometheus.GaugeValue, age)
}

// family is a counter vector of one or two labels whose every child, one
// per combination of the labels' lists (each with Other), is resolved
// when it is built: the map is only read afterwards, without a lock.
type family struct {
	lists [2]map[string]bool
	kids  map[[2]string]prometheus.Counter
}

func newFamily(reg *prometheus.Registry, name, help string, labels []string, lists ...[]string) *family {
	vec := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	reg.MustRegister(vec)
	f := &family{kids: map[[2]string]prometheus.Counter{}}
	values := [2][]string{{""}, {""}}
	for i, list := range lists {
		f.lists[i] = map[string]bool{}
		for _, v := range list {
			f.lists[i][v] = true
		}
		values[i] = append(list[:len(list):len(list)], Other)
	}
	for _, a := range values[0] {
		for _, b := range values[1] {
			if len(lists) == 1 {
				f.kids[[2]string{a, ""}] = vec.WithLabelValues(a)
			} else {
				f.kids[[2]string{a, b}] = vec.WithLabelValues(a, b)
			}
		}
	}
	return f
}

// inc adds one to the child of (a, b); b is "" for a one-label family.
func (f *family) inc(a, b string) {
	if !f.lists[0][a] {
		a = Other
	}
	if f.lists[1] != nil && !f.lists[1][b] {
		b = Other
	}
	f.kids[[2]string{a, b}].Inc()
}

// WatchDeliveries reads the deliveries outbox's backlog (webhooks,
// security event tokens) from the store at every scrape, like
// WatchOutbox.
func (m *Metrics) WatchDeliveries(store delivery.BacklogStore, now func() time.Time) {
	m.reg.MustRegister(&deliveryBacklog{store: store, now: now})
}

var (
	deliveryDepthDesc = prometheus.NewDesc("gatehouse_deliveries_depth",
		"Deliveries to other programs (webhooks, security event tokens) waiting (queued, or claimed and being sent), on every node.", nil, nil)
	deliveryOldestDesc = prometheus.NewDesc("gatehouse_deliveries_oldest_age_seconds",
		"Age of the oldest delivery waiting; 0 when none waits.", nil, nil)
)

// deliveryBacklog is the collector of the deliveries outbox's backlog.
type deliveryBacklog struct {
	store delivery.BacklogStore
	now   func() time.Time
}

// Describe implements prometheus.Collector.
func (b *deliveryBacklog) Describe(ch chan<- *prometheus.Desc) {
	ch <- deliveryDepthDesc
	ch <- deliveryOldestDesc
}

// Collect implements prometheus.Collector (five seconds at most, as for
// the outbox).
func (b *deliveryBacklog) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	bl, err := b.store.DeliveryBacklog(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(deliveryDepthDesc, err)
		ch <- prometheus.NewInvalidMetric(deliveryOldestDesc, err)
		return
	}
	age := 0.0
	if !bl.Oldest.IsZero() {
		age = max(0, b.now().Sub(bl.Oldest).Seconds())
	}
	ch <- prometheus.MustNewConstMetric(deliveryDepthDesc, prometheus.GaugeValue, float64(bl.Depth))
	ch <- prometheus.MustNewConstMetric(deliveryOldestDesc, prometheus.GaugeValue, age)
}
