// Package clock is the one source of "now" for every capability.
//
// app.New makes one Clock and hands it to every service, so a test can move
// time for the whole server at once (code expiry, session timeouts, cool-
// downs, later TOTP steps and "trusted for 30 days") instead of each
// package keeping its own copy of a Now func and calling time.Now behind it.
package clock

import (
	"sync"
	"time"
)

// Clock returns the current time. The zero value (nil) is the real clock, so
// a struct that embeds a Clock field works without wiring.
type Clock func() time.Time

// Now returns the current time in UTC: stored times are UTC, and times are
// put in a holder's zone only when shown.
func (c Clock) Now() time.Time {
	if c == nil {
		return time.Now().UTC()
	}
	return c().UTC()
}

// Fake is a clock for tests that moves only when told to. It is safe for
// concurrent use.
type Fake struct {
	mu sync.Mutex
	t  time.Time
}

// NewFake returns a fake clock showing t.
func NewFake(t time.Time) *Fake { return &Fake{t: t} }

// Now returns the fake time.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.t
}

// Clock returns f as a Clock to inject.
func (f *Fake) Clock() Clock { return f.Now }

// Advance moves the fake time forward by d.
func (f *Fake) Advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.t = f.t.Add(d)
}

// Set moves the fake time to t.
func (f *Fake) Set(t time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.t = t
}
