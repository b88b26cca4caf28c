package app_test

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"gatehouse/internal/app"
	"gatehouse/internal/outbox"
	"gatehouse/internal/request"
	"gatehouse/internal/signin"
)

// scrape reads a /metrics answer over HTTP and parses it the way a
// scraper does.
func scrape(t *testing.T, u string) map[string]*dto.MetricFamily {
	t.Helper()
	r, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	if r.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d", u, r.StatusCode)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	return fams
}

// sample is the value of the series of name with exactly labels: a
// counter's or gauge's value, a histogram's count; -1 when there is none.
func sample(fams map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	f := fams[name]
	if f == nil {
		return -1
	}
	want := map[string]string{}
	for i := 0; i+1 < len(labels); i += 2 {
		want[labels[i]] = labels[i+1]
	}
next:
	for _, m := range f.GetMetric() {
		if len(m.GetLabel()) != len(want) {
			continue
		}
		for _, l := range m.GetLabel() {
			if want[l.GetName()] != l.GetValue() {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount())
		}
	}
	return -1
}

type client struct {
	t    *testing.T
	base string
	c    *http.Client
}

func newClient(t *testing.T, base string) *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: t, base: base, c: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (c *client) do(method, path, contentType, body string) *http.Response {
	c.t.Helper()
	req, _ := http.NewRequest(method, c.base+path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", contentType)
		req.Header.Set("Origin", c.base)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	r, err := c.c.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	r.Body.Close()
	return r
}

func (c *client) post(path string, form url.Values) *http.Response {
	c.t.Helper()
	return c.do("POST", path, "application/x-www-form-urlencoded", form.Encode())
}

var sixDigits = regexp.MustCompile(`(?m)^    (\d{6})$`)

// TestMetrics_CountRealFlowsOnTheirOwnListener drives a running server
// through a sign-up, a wrong then a right password, a check, a lookup
// refused, guesses refused by the limiter and a "this wasn't me", and
// reads /metrics over HTTP after each, the way a scraper does: every
// counter moved by exactly what happened, under the right labels, and the
// holders' address has no /metrics.
func TestMetrics_CountRealFlowsOnTheirOwnListener(t *testing.T) {
	dir := t.TempDir()
	cfg := load(t, map[string]string{
		"data": dir, "metrics.listen": "127.0.0.1:0", "signin.new_device_check": "off",
		"check.lookups_per_minute": "1", "limit.guess_free": "1",
	})
	a, err := start(t, cfg)
	if err != nil {
		t.Fatal(err)
	}
	site := httptest.NewServer(a.Handler())
	defer site.Close()
	mon := httptest.NewServer(a.MetricsHandler())
	defer mon.Close()
	metricsURL := mon.URL + "/metrics"

	if r := newClient(t, site.URL).do("GET", "/metrics", "", ""); r.StatusCode != http.StatusNotFound {
		t.Fatalf("/metrics on the holders' address: %d, want 404", r.StatusCode)
	}

	// Sign-up: its confirmation code waits in the outbox (no worker yet).
	const email, pw = "holder@example.com", "correct horse battery staple"
	ctx := context.Background()
	b := newClient(t, site.URL)
	r := b.post("/signup", url.Values{"email": {email}, "password": {pw}})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("signup: %d", r.StatusCode)
	}
	loc, _ := url.Parse(r.Header.Get("Location"))
	ms, err := a.DB.RecentMessages(ctx, 10)
	if err != nil || len(ms) != 1 {
		t.Fatalf("messages: %d %v", len(ms), err)
	}
	signupCode := ms[0]
	fams := scrape(t, metricsURL)
	if d := sample(fams, "gatehouse_outbox_depth"); d != 1 {
		t.Errorf("outbox depth %v with one message queued, want 1", d)
	}
	if age := sample(fams, "gatehouse_outbox_oldest_age_seconds"); age < 0 || age > 60 {
		t.Errorf("oldest age %v", age)
	}
	shown, err := a.Outbox.Reveal(signupCode)
	if err != nil {
		t.Fatal(err)
	}
	code := sixDigits.FindStringSubmatch(shown.Text)
	if code == nil {
		t.Fatalf("no code in %q", shown.Text)
	}
	if r := b.post("/signup/confirm", url.Values{"c": {loc.Query().Get("c")}, "code": {code[1]}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("confirm: %d", r.StatusCode)
	}

	// The worker delivers it: one code sent, by email, for its cause.
	wctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { a.Outbox.Run(wctx); close(done) }()
	defer func() { stop(); <-done }()
	cause := string(signupCode.Cause)
	if cause != string(request.Mistyped) {
		t.Fatalf("sign-up code's cause %q", cause)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		fams = scrape(t, metricsURL)
		if sample(fams, "gatehouse_codes_sent_total", "channel", "email", "cause", cause) == 1 &&
			sample(fams, "gatehouse_outbox_depth") == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("codes sent %v, depth %v after delivery", sample(fams, "gatehouse_codes_sent_total", "channel", "email", "cause", cause),
				sample(fams, "gatehouse_outbox_depth"))
		}
		time.Sleep(20 * time.Millisecond)
	}
	if v := sample(fams, "gatehouse_outbox_oldest_age_seconds"); v != 0 {
		t.Errorf("oldest age with nothing waiting: %v", v)
	}
	if v := sample(fams, "gatehouse_codes_sent_total", "channel", "sms", "cause", cause); v != 0 {
		t.Errorf("sms codes %v (every fixed series is there from the start, at 0)", v)
	}

	// A wrong password, then the right one, from another browser.
	before := scrape(t, metricsURL)
	s := newClient(t, site.URL)
	if r := s.post("/signin", url.Values{"email": {email}, "password": {"not the password"}}); r.StatusCode == http.StatusSeeOther {
		t.Fatal("wrong password signed in")
	}
	if r := s.post("/signin", url.Values{"email": {email}, "password": {pw}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in: %d", r.StatusCode)
	}
	after := scrape(t, metricsURL)
	moved := func(name string, labels ...string) float64 {
		return sample(after, name, labels...) - sample(before, name, labels...)
	}
	for _, c := range []struct {
		outcome string
		want    float64
	}{{"wrong_password", 1}, {"succeeded", 1}, {"unknown_account", 0}, {"pending_second_step", 0}} {
		if d := moved("gatehouse_signin_attempts_total", "outcome", c.outcome, "method", "password"); d != c.want {
			t.Errorf("sign-ins %s/password moved by %v, want %v", c.outcome, d, c.want)
		}
	}
	if d := moved("gatehouse_http_request_duration_seconds", "route", "POST /signin"); d != 2 {
		t.Errorf("POST /signin timed %v times, want 2", d)
	}
	if d := moved("gatehouse_hash_pool_wait_seconds", "result", "admitted"); d != 2 {
		t.Errorf("hash pool admissions moved by %v, want 2", d)
	}
	if v := sample(after, "gatehouse_hashes_total"); v < 3 {
		t.Errorf("hashes %v after a sign-up and two sign-ins", v)
	}

	// The checker, asked about a reference of ours; the next lookup from
	// the same network is refused (check.lookups_per_minute is 1).
	api := newClient(t, site.URL)
	if r := api.do("POST", "/api/check", "application/json", `{"reference":"`+signupCode.Reference+`"}`); r.StatusCode != http.StatusOK {
		t.Fatalf("api/check: %d", r.StatusCode)
	}
	if r := api.do("POST", "/api/check", "application/json", `{"reference":"`+signupCode.Reference+`"}`); r.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("second api/check: %d, want 429", r.StatusCode)
	}

	// Guesses at an address nobody holds, until the limiter refuses one.
	g := newClient(t, site.URL)
	refused := false
	for range 5 {
		if r := g.post("/signin", url.Values{"email": {"nobody@example.com"}, "password": {"guess guess guess"}}); r.StatusCode == http.StatusTooManyRequests {
			refused = true
			break
		}
	}
	if !refused {
		t.Fatal("the limiter never refused a guess")
	}

	// "This wasn't me" about the right password's sign-in.
	acc, err := a.DB.AccountByEmail(ctx, email)
	if err != nil {
		t.Fatal(err)
	}
	ats, err := a.DB.AttemptsByAccount(ctx, acc.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	var ok string
	for _, at := range ats {
		if at.Outcome == signin.Succeeded {
			ok = at.ID
		}
	}
	// Its page says what was done (200).
	if r := s.post("/account/activity/answer", url.Values{"attempt": {ok}, "answer": {"not_me"}}); r.StatusCode != http.StatusOK {
		t.Fatalf("answer: %d", r.StatusCode)
	}

	fams = scrape(t, metricsURL)
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		// A reference alone is ours, but what the reader holds could say
		// anything: the checker cannot tell.
		{"gatehouse_check_verdicts_total", []string{"kind", "reference", "verdict", "cannot_tell"}, 1},
		{"gatehouse_check_verdicts_total", []string{"kind", "reference", "verdict", "genuine"}, 0},
		{"gatehouse_limit_refusals_total", []string{"limit", "check_lookups"}, 1},
		{"gatehouse_limit_refusals_total", []string{"limit", "guess_delay"}, 1},
		{"gatehouse_limit_refusals_total", []string{"limit", "guess_budget"}, 0},
		{"gatehouse_not_me_total", []string{"cause", "password_known"}, 1},
		{"gatehouse_not_me_total", []string{"cause", "none"}, 0},
		{"gatehouse_signin_attempts_total", []string{"outcome", "unknown_account", "method", "password"}, 2},
		{"gatehouse_http_request_duration_seconds", []string{"route", "POST /api/check"}, 2},
	} {
		if v := sample(fams, c.name, c.labels...); v != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, v, c.want)
		}
	}

	// A URL no route has is timed as unrouted, never by its path; every
	// route label is a pattern of the table.
	newClient(t, site.URL).do("GET", "/no-such-page-12345", "", "")
	fams = scrape(t, metricsURL)
	if v := sample(fams, "gatehouse_http_request_duration_seconds", "route", "unrouted"); v < 2 {
		t.Errorf("unrouted requests timed %v times, want the /metrics probe and this one", v)
	}
	patterns := map[string]bool{"unrouted": true}
	for _, rt := range a.Routes() {
		patterns[rt.Method+" "+rt.Path] = true
	}
	for _, m := range fams["gatehouse_http_request_duration_seconds"].GetMetric() {
		if v := m.GetLabel()[0].GetValue(); !patterns[v] {
			t.Errorf("route label %q is not a pattern of the table", v)
		}
	}
}

// TestMetrics_OffByDefault: without metrics.listen there are no
// collectors, no handler, and the hooks stay nil.
func TestMetrics_OffByDefault(t *testing.T) {
	a, err := start(t, load(t, map[string]string{"data": t.TempDir()}))
	if err != nil {
		t.Fatal(err)
	}
	if a.Metrics != nil || a.MetricsHandler() != nil || a.HTTP.Timing != nil || a.Pool.Waited != nil || a.Outbox.Delivered != nil {
		t.Fatal("metrics are on without metrics.listen")
	}
	var _ *app.App = a
	var _ outbox.BacklogStore = a.DB
}
