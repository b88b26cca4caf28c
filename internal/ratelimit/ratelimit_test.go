package ratelimit

import (
	"net/netip"
	"testing"
	"time"
)

func TestLimiter_AllowsTheBurstThenRefillsPerNetwork(t *testing.T) {
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	l := &Limiter{Burst: 3, Per: time.Minute, Now: func() time.Time { return now }}
	home := Network(netip.MustParseAddr("192.0.2.10"))
	if Network(netip.MustParseAddr("192.0.2.200")) != home || Network(netip.MustParseAddr("::ffff:192.0.2.7")) != home {
		t.Fatalf("one /24 is one network")
	}
	for i := range 3 {
		if !l.Allow(home) {
			t.Fatalf("lookup %d refused", i+1)
		}
	}
	if l.Allow(home) {
		t.Fatal("fourth lookup in a minute allowed")
	}
	if other := Network(netip.MustParseAddr("2001:db8:1:2::5")); other != "2001:db8:1:2::/64" || !l.Allow(other) {
		t.Fatalf("another network is not limited: %s", other)
	}
	now = now.Add(20 * time.Second) // one token back
	if !l.Allow(home) || l.Allow(home) {
		t.Fatal("after a third of the period one lookup, and only one")
	}
}

// Take says how long until the next token: what Retry-After and the
// refusal's sentence tell the network.
func TestLimiter_TakeSaysHowLongUntilTheNextToken(t *testing.T) {
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	l := &Limiter{Burst: 3, Per: time.Minute, Now: func() time.Time { return now }}
	for range 3 {
		if ok, wait := l.Take("n"); !ok || wait != 0 {
			t.Fatalf("within the burst: %v %v", ok, wait)
		}
	}
	if ok, wait := l.Take("n"); ok || wait != 20*time.Second {
		t.Fatalf("empty bucket: %v, wait %v (want 20s)", ok, wait)
	}
	now = now.Add(15 * time.Second)
	if ok, wait := l.Take("n"); ok || wait < 4900*time.Millisecond || wait > 5100*time.Millisecond {
		t.Fatalf("three quarters refilled: %v, wait %v (want 5s)", ok, wait)
	}
	now = now.Add(5 * time.Second)
	if ok, _ := l.Take("n"); !ok {
		t.Fatal("refilled, still refused")
	}
}
