// Package ratelimit bounds how often one network may do something: for the
// lookups that must not be tried by brute force (message references on
// /why and the checker).
//
// It is a token bucket per network, in memory: each node limits on its own,
// so an installation of N nodes allows up to N times the rate. That is
// enough for its purpose — a reference has about 58 bits, and even a
// thousand times the rate finds nothing — and keeps every lookup off the
// database.
package ratelimit

import (
	"net/netip"
	"sync"
	"time"
)

// Limiter allows each key Burst events at once, refilled at Burst per Per.
type Limiter struct {
	Burst int
	Per   time.Duration
	// Now is the clock (time.Now when nil).
	Now func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

// maxKeys bounds the memory a flood of distinct networks can take: past
// it, full buckets (networks idle for a whole period) are dropped.
const maxKeys = 100_000

// Allow takes one token of key's bucket, reporting whether there was one.
func (l *Limiter) Allow(key string) bool {
	ok, _ := l.Take(key)
	return ok
}

// Take is Allow that also says, when there was no token, how long until
// the bucket holds one again (what a Retry-After should say).
func (l *Limiter) Take(key string) (ok bool, wait time.Duration) {
	now := time.Now()
	if l.Now != nil {
		now = l.Now()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.buckets == nil {
		l.buckets = map[string]*bucket{}
	}
	rate := float64(l.Burst) / l.Per.Seconds()
	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) >= maxKeys {
			l.sweep(now, rate)
		}
		b = &bucket{tokens: float64(l.Burst), at: now}
		l.buckets[key] = b
	}
	b.tokens = min(float64(l.Burst), b.tokens+now.Sub(b.at).Seconds()*rate)
	b.at = now
	if b.tokens < 1 {
		return false, time.Duration((1 - b.tokens) / rate * float64(time.Second))
	}
	b.tokens--
	return true, 0
}

// sweep drops the buckets that have refilled: forgetting them changes
// nothing.
func (l *Limiter) sweep(now time.Time, rate float64) {
	for k, b := range l.buckets {
		if b.tokens+now.Sub(b.at).Seconds()*rate >= float64(l.Burst) {
			delete(l.buckets, k)
		}
	}
}

// Network is the key of an address's network: its IPv4 /24 or IPv6 /64,
// the block one household or one attacker's machine usually has.
func Network(a netip.Addr) string {
	a = a.Unmap()
	bits := 64
	if a.Is4() {
		bits = 24
	}
	p, err := a.Prefix(bits)
	if err != nil {
		return a.String()
	}
	return p.String()
}
