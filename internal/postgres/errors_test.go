package postgres_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"gatehouse/internal/account"
	"gatehouse/internal/pgtest"
	"gatehouse/internal/postgres"
	"gatehouse/internal/session"
	"gatehouse/internal/signin"
)

func openTemp(t *testing.T) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), pgtest.NewDatabase(t), 4, true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// storeCalls calls each store method of this file's owner (accounts,
// attempts, sessions, installation, pruning, the DB itself) once, under
// the operation name its errors must carry.
var storeCalls = []struct {
	op   string
	call func(context.Context, *postgres.DB) error
}{
	{"create account", func(ctx context.Context, db *postgres.DB) error {
		return db.CreateAccount(ctx, &account.Account{ID: "a-new", Email: "new@example.com", Status: account.Active, CreatedAt: time.Now()})
	}},
	{"read account by address", func(ctx context.Context, db *postgres.DB) error {
		_, err := db.AccountByEmail(ctx, "a@example.com")
		return err
	}},
	{"read account", func(ctx context.Context, db *postgres.DB) error { _, err := db.AccountByID(ctx, "a1"); return err }},
	{"list accounts", func(ctx context.Context, db *postgres.DB) error { _, err := db.ListAccounts(ctx); return err }},
	{"set preferences", func(ctx context.Context, db *postgres.DB) error { return db.SetPreferences(ctx, "a1", "en", "") }},
	{"create sign-up", func(ctx context.Context, db *postgres.DB) error {
		return db.CreateSignup(ctx, &account.Signup{ID: "su-new", Email: "su@example.com", CreatedAt: time.Now()})
	}},
	{"read sign-up", func(ctx context.Context, db *postgres.DB) error { _, err := db.Signup(ctx, "su1"); return err }},
	{"complete sign-up", func(ctx context.Context, db *postgres.DB) error {
		return db.CompleteSignup(ctx, "su1", &account.Account{ID: "a-su", Email: "su@example.com", Status: account.Active})
	}},
	{"set account status", func(ctx context.Context, db *postgres.DB) error { return db.SetStatus(ctx, "a1", account.Disabled) }},
	{"set password", func(ctx context.Context, db *postgres.DB) error {
		return db.SetPasswordHash(ctx, "a1", "h2", time.Now(), true)
	}},
	{"read password history", func(ctx context.Context, db *postgres.DB) error {
		_, err := db.PasswordHistory(ctx, "a1", 5)
		return err
	}},
	{"record sign-in attempt", func(ctx context.Context, db *postgres.DB) error {
		return db.RecordAttempt(ctx, &signin.Attempt{ID: "at1", AccountID: "a1", Outcome: signin.UnknownAccount})
	}},
	{"list sign-in attempts", func(ctx context.Context, db *postgres.DB) error {
		_, err := db.AttemptsByAccount(ctx, "a1", 5)
		return err
	}},
	{"create session", func(ctx context.Context, db *postgres.DB) error {
		return db.CreateSession(ctx, &session.Session{ID: "s-new", TokenHash: []byte("t-new"), AccountID: "a1"})
	}},
	{"read session", func(ctx context.Context, db *postgres.DB) error {
		_, err := db.SessionByTokenHash(ctx, []byte("t1"))
		return err
	}},
	{"touch session", func(ctx context.Context, db *postgres.DB) error { return db.TouchSession(ctx, "s1", time.Now()) }},
	{"revoke session", func(ctx context.Context, db *postgres.DB) error { return db.RevokeSession(ctx, "s1", time.Now()) }},
	{"revoke the account's sessions", func(ctx context.Context, db *postgres.DB) error {
		return db.RevokeAccountSessions(ctx, "a1", time.Now())
	}},
	{"record installation key_fingerprint", func(ctx context.Context, db *postgres.DB) error {
		_, err := db.Installation(ctx, "key_fingerprint", "fp")
		return err
	}},
	{"check for an installation", func(ctx context.Context, db *postgres.DB) error { _, err := db.Installed(ctx); return err }},
	{"lock pruning", func(ctx context.Context, db *postgres.DB) error {
		unlock, _, err := db.LockPruning(ctx)
		if unlock != nil {
			unlock()
		}
		return err
	}},
	{"prune sessions", func(ctx context.Context, db *postgres.DB) error {
		_, err := db.PruneSessions(ctx, time.Now(), 10)
		return err
	}},
	{"prune signin_attempts", func(ctx context.Context, db *postgres.DB) error {
		_, err := db.PruneAttempts(ctx, time.Now(), 10)
		return err
	}},
	{"read schema version", func(ctx context.Context, db *postgres.DB) error { _, _, err := db.Version(ctx); return err }},
	{"ping", func(ctx context.Context, db *postgres.DB) error { return db.Ping(ctx) }},
	{"begin transaction", func(ctx context.Context, db *postgres.DB) error {
		return db.InTx(ctx, func(context.Context) error { return nil })
	}},
}

// seedErrorCalls gives the calls above rows to find.
func seedErrorCalls(t *testing.T, db *postgres.DB) {
	t.Helper()
	ctx := context.Background()
	now := time.Now()
	if err := db.CreateAccount(ctx, &account.Account{ID: "a1", Email: "a@example.com", PasswordHash: "h1", Status: account.Active, CreatedAt: now, PasswordChangedAt: now}); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateSignup(ctx, &account.Signup{ID: "su1", Email: "su@example.com", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	s := &session.Session{ID: "s1", TokenHash: []byte("t1"), AccountID: "a1", CreatedAt: now, LastSeenAt: now, AuthenticatedAt: now,
		IdleTimeout: time.Hour, AbsoluteExpiresAt: now.Add(time.Hour)}
	if err := db.CreateSession(ctx, s); err != nil {
		t.Fatal(err)
	}
}

// TestErrors_NameTheDialectAndOperation: an operator reading "request
// failed" in the log learns which store operation failed, not only
// "context canceled" or "closed pool", and the cause stays matchable with
// errors.Is.
func TestErrors_NameTheDialectAndOperation(t *testing.T) {
	t.Parallel()
	check := func(t *testing.T, op string, err, cause error) {
		t.Helper()
		if want := "postgres: " + op + ": "; err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%s: error %v, want it to start with %q", op, err, want)
		}
		if cause != nil && !errors.Is(err, cause) {
			t.Errorf("%s: error %v does not match %v", op, err, cause)
		}
	}
	db := openTemp(t)
	seedErrorCalls(t, db)
	t.Run("cancelled context", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		for _, c := range storeCalls {
			check(t, c.op, c.call(ctx, db), context.Canceled)
		}
	})
	t.Run("cancelled context, inside a flow's transaction", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		err := db.InTx(ctx, func(ctx context.Context) error {
			cancel()
			err := db.SetPasswordHash(ctx, "a1", "h2", time.Now(), true)
			check(t, "set password", err, context.Canceled)
			return err
		})
		// The flow's own error comes back as it is, not named again.
		if err == nil || !strings.HasPrefix(err.Error(), "postgres: set password: ") {
			t.Errorf("InTx returned %v, want the flow's error unchanged", err)
		}
	})
	t.Run("closed database", func(t *testing.T) {
		db.Close()
		for _, c := range storeCalls {
			if c.op == "lock pruning" {
				continue // its own connection, outside the pool
			}
			check(t, c.op, c.call(context.Background(), db), nil)
		}
	})
}

// TestErrors_SentinelsStayMatchable: what callers compare with errors.Is
// still matches once errors carry their operation.
func TestErrors_SentinelsStayMatchable(t *testing.T) {
	t.Parallel()
	db := openTemp(t)
	seedErrorCalls(t, db)
	ctx := context.Background()
	if _, err := db.AccountByID(ctx, "missing"); !errors.Is(err, account.ErrNotFound) {
		t.Errorf("unknown account id: %v, want ErrNotFound", err)
	}
	if _, err := db.AccountByEmail(ctx, "nobody@example.com"); !errors.Is(err, account.ErrNotFound) {
		t.Errorf("unknown address: %v, want ErrNotFound", err)
	}
	if err := db.SetStatus(ctx, "missing", account.Disabled); !errors.Is(err, account.ErrNotFound) {
		t.Errorf("status of an unknown account: %v, want ErrNotFound", err)
	}
	if err := db.SetPreferences(ctx, "missing", "en", ""); !errors.Is(err, account.ErrNotFound) {
		t.Errorf("preferences of an unknown account: %v, want ErrNotFound", err)
	}
	if _, err := db.Signup(ctx, "missing"); !errors.Is(err, account.ErrNotFound) {
		t.Errorf("unknown sign-up: %v, want ErrNotFound", err)
	}
	if err := db.CompleteSignup(ctx, "missing", &account.Account{ID: "x", Email: "x@example.com"}); !errors.Is(err, account.ErrNotFound) {
		t.Errorf("completing an unknown sign-up: %v, want ErrNotFound", err)
	}
	if err := db.CreateAccount(ctx, &account.Account{ID: "a2", Email: "A@example.com", Status: account.Active, CreatedAt: time.Now(), PasswordChangedAt: time.Now()}); !errors.Is(err, account.ErrEmailTaken) {
		t.Errorf("taken address: %v, want ErrEmailTaken", err)
	}
	if _, err := db.SessionByTokenHash(ctx, []byte("nope")); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("unknown session: %v, want session.ErrNotFound", err)
	}
	err := db.InTx(ctx, func(ctx context.Context) error {
		_, err := db.AccountByID(ctx, "missing")
		return err
	})
	if !errors.Is(err, account.ErrNotFound) {
		t.Errorf("unknown account id in a flow: %v, want ErrNotFound", err)
	}
}
