package session_test

import (
	"fmt"
	"strings"
	"testing"

	"gatehouse/internal/account"
	"gatehouse/internal/session"
)

// TestKept_UsedWhileTheAccountsCountStands: what a page attached with a
// session over a counting store is returned while the account's count of
// changes is the one it was read at, never at another count (a change
// since, by any process), and never for another session; a value read
// before a change (its mark taken at the old count) is kept at the old
// count only, so the next view reads again; the map stays bounded.
func TestKept_UsedWhileTheAccountsCountStands(t *testing.T) {
	m := &session.Manager{Kept: session.NewKept(10)}
	at := func(count uint64, token string) *session.Session {
		return &session.Session{TokenHash: []byte(token), Account: &account.Account{ID: "acc", Changes: count}}
	}
	s := at(7, "a")
	mark := m.Mark(s)
	m.Attach(s, mark, "facts at 7")
	if got := m.Attached(at(7, "a")); got != "facts at 7" {
		t.Fatalf("at the same count: %v", got)
	}
	if got := m.Attached(at(8, "a")); got != nil {
		t.Fatalf("after a change: %v", got)
	}
	if got := m.Attached(at(7, "b")); got != nil {
		t.Fatalf("another session: %v", got)
	}
	// Read at 8 with a mark taken at 7 (the change committed meanwhile):
	// kept at 7, so the view at 8 reads again.
	m.Attach(at(8, "a"), mark, "read across a change")
	if got := m.Attached(at(8, "a")); got != nil {
		t.Fatalf("a value marked before a change was served after it: %v", got)
	}
	for i := range 50 {
		s := at(1, fmt.Sprint("session ", i))
		m.Attach(s, m.Mark(s), i)
	}
	if n := m.Kept.Len(); n > 10 {
		t.Fatalf("kept %d values, bound 10", n)
	}
	// Without a cache or a counting store, nothing is kept.
	plain := &session.Manager{}
	plain.Attach(s, plain.Mark(s), "facts")
	if got := plain.Attached(s); got != nil {
		t.Fatalf("kept without a place to keep: %v", got)
	}
}

// TestParseAMR: a stored list of method references reads back in order,
// each once, whatever the appends of step-ups repeated.
func TestParseAMR(t *testing.T) {
	for stored, want := range map[string]string{
		"": "", "pwd": "pwd", "pwd otp mfa": "pwd otp mfa", " pwd  otp mfa otp  mfa swk ": "pwd otp mfa swk",
	} {
		if got := strings.Join(session.ParseAMR(stored), " "); got != want {
			t.Errorf("ParseAMR(%q) = %q, want %q", stored, got, want)
		}
	}
}
