package web_test

import (
	"context"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gatehouse/internal/pgtest"
)

// TestMultiNode_AccountPageFollowsChangesMadeOnTheOtherNode: two nodes on
// one PostgreSQL database, each keeping the account page's facts (two-step
// on or off, trusted browsers, the requests waiting for an answer) with its
// cached session, so that a view there reads nothing. Each change made
// through node A — a sign-in by someone else left at the second step, the
// first authenticator app, a browser trusted — shows on node B's next view
// once the database's notification has arrived, and B kept the facts
// between the changes.
func TestMultiNode_AccountPageFollowsChangesMadeOnTheOtherNode(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.NewDatabase(t)
	secrets := filepath.Join(t.TempDir(), "secrets.json")
	cfg := withCheck(map[string]string{"database": dbURL, "secrets_file": secrets, "session.cache_ttl": "1m"})
	accountPageFollowsTheOtherNode(t, newHarness(t, cfg), newHarness(t, cfg))
}

// TestSQLite_AccountPageFollowsChangesMadeByAnotherProcess: two servers on
// one SQLite file (as a `gatehouse` command beside the server would be),
// each keeping the account page's facts by the account's count of changes,
// read with the session; every change made through A shows on B's next
// view, and B kept the facts between the changes.
func TestSQLite_AccountPageFollowsChangesMadeByAnotherProcess(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := withCheck(map[string]string{"database": "sqlite:" + filepath.Join(dir, "gatehouse.db"), "data": dir})
	accountPageFollowsTheOtherNode(t, newHarness(t, cfg), newHarness(t, cfg))
}

func accountPageFollowsTheOtherNode(t *testing.T, a, b *harness) {
	t.Helper()

	const email = "facts@example.com"
	holder := a.browser("en")
	holder.signUp(email, goodPassword)
	u, _ := url.Parse(a.base)
	var token string
	for _, c := range holder.client.Jar.Cookies(u) {
		if c.Name == "__Host-gh_session" {
			token = c.Value
		}
	}
	if token == "" {
		t.Fatal("no session cookie")
	}
	onB := func() string {
		t.Helper()
		req, _ := http.NewRequest("GET", b.base+"/account", nil)
		r := holder.do(req)
		if r.status != 200 {
			t.Fatalf("/account on node B: %d", r.status)
		}
		return r.body
	}
	// kept: after a view, node B holds the facts with the cached session.
	// A change's later commits (its notice leaving the outbox, say) may
	// still reach B after the view that showed it and evict the session
	// once more, so the next view attaches them again: poll view and check
	// together; a node that never keeps them still fails.
	kept := func(when string) {
		t.Helper()
		deadline := time.Now().Add(3 * time.Second)
		for {
			s, err := b.app.Sessions.Check(context.Background(), token)
			if err != nil {
				t.Fatalf("%s: %v", when, err)
			}
			if b.app.Sessions.Attached(s) != nil {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: node B keeps no facts with the holder's session", when)
			}
			time.Sleep(20 * time.Millisecond)
			onB()
		}
	}
	// until polls node B's account page until it shows what changed.
	until := func(what string, shows func(body string) bool) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for body := onB(); !shows(body); body = onB() {
			if time.Now().After(deadline) {
				t.Fatalf("node B's account page never showed %s:\n%s", what, body)
			}
			time.Sleep(20 * time.Millisecond)
		}
		onB() // kept again, from the fresh read
		kept("after " + what)
	}

	if body := onB(); !strings.Contains(body, "Two-step verification is off") || strings.Contains(body, `id="waiting"`) ||
		strings.Contains(body, `id="trusted-browsers"`) {
		t.Fatalf("the account page at first:\n%s", body)
	}
	onB()
	kept("at first")

	// Someone else types the password on node A and stops at the code.
	someone := a.browser("en")
	someone.signInTo2ndStep(email, goodPassword)
	until("the waiting request", func(body string) bool { return strings.Contains(body, `id="waiting"`) })

	// The holder turns two-step verification on through node A.
	secret, _ := holder.turnOnApp(t)
	until("two-step verification on", func(body string) bool {
		return strings.Contains(body, "Two-step verification is on")
	})

	// The holder signs in on another browser through node A, with the
	// app's next code, and trusts it.
	next := time.Now().Add(30 * time.Second) // the current step was used
	a.app.SetClock(func() time.Time { return next })
	laptop := a.browser("en")
	c := laptop.signInTo2ndStep(email, goodPassword)
	if r := laptop.post("/signin/verify", url.Values{"c": {c}, "method": {"app"}, "code": {nowCode(t, secret, next)}, "trust": {"on"}}); r.status != http.StatusSeeOther {
		t.Fatalf("second sign-in: %d\n%s", r.status, r.body)
	}
	until("the trusted browser", func(body string) bool { return strings.Contains(body, `id="trusted-browsers"`) })
}
