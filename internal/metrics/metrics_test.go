package metrics

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestLabelsStayOnTheirLists: a value off a label's list is counted as
// other, so a caller's mistake (or a stored value from a newer version)
// cannot add series; the series are the same before and after.
func TestLabelsStayOnTheirLists(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := New(reg)
	series := testutil.CollectAndCount(m.signIns.kids[[2]string{"succeeded", "password"}])
	if series != 1 {
		t.Fatalf("%d", series)
	}
	before, err := testutil.GatherAndCount(reg, "gatehouse_signin_attempts_total", "gatehouse_not_me_total", "gatehouse_limit_refusals_total")
	if err != nil {
		t.Fatal(err)
	}
	m.SignIn("succeeded", "")
	m.SignIn("someone@example.com", "203.0.113.9")
	m.NotMe("")
	m.NotMe("password_known")
	m.Refused("guess_delay")
	m.Refused("a rule of a newer version")
	m.CodeSent("email", "") // a notice, not a code
	after, err := testutil.GatherAndCount(reg, "gatehouse_signin_attempts_total", "gatehouse_not_me_total", "gatehouse_limit_refusals_total")
	if err != nil {
		t.Fatal(err)
	}
	if before != after {
		t.Fatalf("series %d before, %d after", before, after)
	}
	want := `
# HELP gatehouse_limit_refusals_total Requests refused by a limit, by its rule (package limit's rules, and check_lookups for check.lookups_per_minute).
# TYPE gatehouse_limit_refusals_total counter
`
	for _, r := range rules {
		v := "0"
		if r == "guess_delay" {
			v = "1"
		}
		want += `gatehouse_limit_refusals_total{limit="` + r + `"} ` + v + "\n"
	}
	want += `gatehouse_limit_refusals_total{limit="other"} 1` + "\n"
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "gatehouse_limit_refusals_total"); err != nil {
		t.Error(err)
	}
	for _, c := range []struct {
		c    prometheus.Counter
		want float64
	}{
		{m.signIns.kids[[2]string{"succeeded", "password"}], 1},
		{m.signIns.kids[[2]string{Other, Other}], 1},
		{m.notMe.kids[[2]string{NoCause, ""}], 1},
		{m.notMe.kids[[2]string{"password_known", ""}], 1},
	} {
		if v := testutil.ToFloat64(c.c); v != c.want {
			t.Errorf("%v: %v, want %v", c.c.Desc(), v, c.want)
		}
	}
	if n, _ := testutil.GatherAndCount(reg, "gatehouse_codes_sent_total"); n != 3*(len(causes)+1) {
		t.Errorf("codes sent series: %d", n)
	}
	if v := testutil.ToFloat64(m.codesSent.kids[[2]string{"email", Other}]); v != 0 {
		t.Errorf("a notice was counted as a code: %v", v)
	}
}

// TestRouteIsResolvedOncePerPattern: the same pattern asked twice shares
// its series, and observing allocates nothing.
func TestRouteIsResolvedOncePerPattern(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := New(reg)
	a, b := m.Route("GET /signin"), m.Route("GET /signin")
	a(time.Millisecond)
	b(2 * time.Millisecond)
	if n := testing.AllocsPerRun(100, func() { a(time.Millisecond) }); n != 0 {
		t.Errorf("%v allocations per observation", n)
	}
	if n, _ := testutil.GatherAndCount(reg, "gatehouse_http_request_duration_seconds"); n != 1 {
		t.Errorf("%d series for one pattern", n)
	}
	if n := testing.AllocsPerRun(100, func() { m.SignIn("wrong_password", "") }); n != 0 {
		t.Errorf("%v allocations per sign-in count", n)
	}
}
