package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"gatehouse/internal/app"
	"gatehouse/internal/httpcore"
)

// load drives the installation's server over HTTP as browsers would.
type load struct {
	base     string
	client   *http.Client
	accounts int
	// sessions are live session cookies, one per account, for the
	// checks; devices are the browsers they were signed in from.
	sessions []*http.Cookie
	devices  []*http.Cookie
}

// userAgent is a browser's: the server parses it for every sign-in.
const userAgent = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36"

// newLoad makes accounts for clients (one each, as the seed makes them:
// the configured hash of app.SeedPassword) and signs each in once over
// HTTP, keeping its session for the checks. conns is the most
// connections the phases hold open at once.
func newLoad(ctx context.Context, inst *installation, clients, conns int) (*load, error) {
	tr := &http.Transport{MaxIdleConnsPerHost: conns + 1, DisableCompression: true}
	l := &load{base: inst.base, accounts: clients, client: &http.Client{
		Transport: tr,
		Timeout:   2 * time.Minute,
		// A sign-in answers 303: its cookies are read, not followed.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
	if err := inst.app.Seed(ctx, 0, clients, 0, false, nil); err != nil {
		return nil, fmt.Errorf("bench: make the accounts: %w", err)
	}
	for i := range clients {
		a := l.signIn(ctx, i, nil)
		if !a.ok || a.session == nil {
			l.close()
			return nil, fmt.Errorf("bench: sign in as %s: answered %s", app.SeedEmail(i), a.status)
		}
		l.sessions = append(l.sessions, a.session)
		l.devices = append(l.devices, a.device)
	}
	return l, nil
}

func (l *load) close() { l.client.CloseIdleConnections() }

// answer is one request's outcome: its status ("error" when there was no
// answer), whether it did what was asked, how long it took, and for a
// sign-in the cookies it set and how long the server asked to wait.
type answer struct {
	status          string
	ok              bool
	took, wait      time.Duration
	session, device *http.Cookie
}

// signIn posts the password sign-in of account i from the browser whose
// device cookie is device (nil: one never seen).
func (l *load) signIn(ctx context.Context, i int, device *http.Cookie) answer {
	form := url.Values{"email": {app.SeedEmail(i % l.accounts)}, "password": {app.SeedPassword}}
	req, _ := http.NewRequestWithContext(ctx, "POST", l.base+"/signin", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", l.base)
	if device != nil {
		req.AddCookie(device)
	}
	a, resp := l.do(req)
	if resp == nil {
		return a
	}
	a.ok = resp.StatusCode == http.StatusSeeOther && strings.HasSuffix(resp.Header.Get("Location"), "/account")
	if a.ok {
		for _, c := range resp.Cookies() {
			switch c.Name {
			case httpcore.SessionCookie:
				a.session = &http.Cookie{Name: c.Name, Value: c.Value}
			case httpcore.DeviceCookie:
				a.device = &http.Cookie{Name: c.Name, Value: c.Value}
			}
		}
	}
	if resp.StatusCode == http.StatusServiceUnavailable || resp.StatusCode == http.StatusTooManyRequests {
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
			a.wait = time.Duration(s) * time.Second
		}
	}
	return a
}

// check gets path with session i's cookie: a 200 is a live session.
func (l *load) check(ctx context.Context, path string, i int) answer {
	req, _ := http.NewRequestWithContext(ctx, "GET", l.base+path, nil)
	req.AddCookie(l.sessions[i%len(l.sessions)])
	req.AddCookie(l.devices[i%len(l.devices)])
	a, resp := l.do(req)
	if resp != nil {
		a.ok = resp.StatusCode == http.StatusOK
	}
	return a
}

// do sends req as a browser would and reads the whole answer.
func (l *load) do(req *http.Request) (answer, *http.Response) {
	req.Header.Set("User-Agent", userAgent)
	req.Header.Set("Accept-Language", "en")
	t0 := time.Now()
	resp, err := l.client.Do(req)
	if err != nil {
		return answer{status: "error", took: time.Since(t0)}, nil
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return answer{status: strconv.Itoa(resp.StatusCode), took: time.Since(t0)}, resp
}

// signIns has clients browsers sign in over and over for d, each keeping
// its device cookie (so that only its first sign-in is from a new device,
// as for a holder), and each waiting as long as a 503 or 429 asks, as a
// browser whose holder presses again would at best.
func (l *load) signIns(ctx context.Context, clients int, d time.Duration) *tally {
	devices := make([]*http.Cookie, clients)
	copy(devices, l.devices)
	return drive(ctx, clients, d, func(w int) answer {
		a := l.signIn(ctx, w, devices[w])
		if a.device != nil {
			devices[w] = a.device
		}
		return a
	})
}

// checks has clients get path with the live sessions for d.
func (l *load) checks(ctx context.Context, path string, clients int, d time.Duration) *tally {
	return drive(ctx, clients, d, func(w int) answer { return l.check(ctx, path, w) })
}

// flood posts posts sign-ins at once for d, each posted again as soon as
// it is answered (a flood does not wait when told to), while clients
// check sessions with GET /account.
func (l *load) flood(ctx context.Context, posts, clients int, d time.Duration) (signIns, checks *tally) {
	var wg sync.WaitGroup
	wg.Go(func() {
		checks = drive(ctx, clients, d, func(w int) answer { return l.check(ctx, "/account", w) })
	})
	devices := make([]*http.Cookie, posts)
	signIns = drive(ctx, posts, d, func(w int) answer {
		a := l.signIn(ctx, w, devices[w])
		if a.device != nil {
			devices[w] = a.device
		}
		a.wait = 0
		return a
	})
	wg.Wait()
	return signIns, checks
}

// tally is what the requests of one phase got.
type tally struct {
	ok       int
	took     []time.Duration
	statuses map[string]int
	elapsed  time.Duration
}

// drive runs workers loops of do, worker w calling do(w), until d has
// passed (or ctx ends). A loop sleeps as long as an answer asks, up to
// the end of the phase. The phase lasts until the last request in flight
// was answered.
func drive(ctx context.Context, workers int, d time.Duration, do func(w int) answer) *tally {
	start := time.Now()
	deadline := start.Add(d)
	parts := make([]tally, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			t := &parts[w]
			t.statuses = map[string]int{}
			for time.Now().Before(deadline) && ctx.Err() == nil {
				a := do(w)
				if ctx.Err() != nil {
					return // cancelled: not an answer
				}
				t.statuses[a.status]++
				t.took = append(t.took, a.took)
				if a.ok {
					t.ok++
				}
				if a.wait > 0 {
					select {
					case <-time.After(min(a.wait, time.Until(deadline))):
					case <-ctx.Done():
					}
				}
			}
		})
	}
	wg.Wait()
	all := &tally{statuses: map[string]int{}, elapsed: time.Since(start)}
	for _, p := range parts {
		all.ok += p.ok
		all.took = append(all.took, p.took...)
		for s, n := range p.statuses {
			all.statuses[s] += n
		}
	}
	return all
}

// rate is the tally as a Rate: successes a second, and the latency
// percentiles of every request (nearest rank).
func (t *tally) rate() Rate {
	r := Rate{Statuses: t.statuses}
	if t.elapsed > 0 {
		r.PerSecond = round(float64(t.ok)/t.elapsed.Seconds(), 2)
	}
	if len(t.took) > 0 {
		slices.Sort(t.took)
		r.P50MS = ms(percentile(t.took, 50))
		r.P99MS = ms(percentile(t.took, 99))
	}
	return r
}

// percentile is the nearest-rank percentile of sorted.
func percentile(sorted []time.Duration, p int) time.Duration {
	rank := (p*len(sorted) + 99) / 100 // ⌈p/100 × n⌉
	return sorted[max(rank, 1)-1]
}
