package console

import (
	"testing"
	"time"

	"gatehouse/internal/check"
)

// TestDomainsOf_MostReportedFirst: the takedown list counts each host's
// reports, keeps the newest time, marks a host phishing once any report
// naming it was judged so, and lists the most reported first (ties by
// name).
func TestDomainsOf_MostReportedFirst(t *testing.T) {
	t0 := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	reps := []*check.Report{
		{CreatedAt: t0.Add(2 * time.Hour), Lookalikes: []string{"gatehouse-login.example", "xn--gatehuse-7za.example"}},
		{CreatedAt: t0, Lookalikes: []string{"gatehouse-login.example"}, Review: check.ReviewPhishing},
		{CreatedAt: t0.Add(time.Hour), Lookalikes: []string{"b-gatehouse.example"}},
		{CreatedAt: t0.Add(3 * time.Hour)},
	}
	got := domainsOf(reps)
	want := []Domain{
		{Host: "gatehouse-login.example", Reports: 2, Last: t0.Add(2 * time.Hour), Phishing: true},
		{Host: "b-gatehouse.example", Reports: 1, Last: t0.Add(time.Hour)},
		{Host: "xn--gatehuse-7za.example", Reports: 1, Last: t0.Add(2 * time.Hour)},
	}
	if len(got) != len(want) {
		t.Fatalf("domains %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("domain %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}
