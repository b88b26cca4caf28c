package sqlite_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gatehouse/internal/account"
	"gatehouse/internal/session"
	"gatehouse/internal/signin"
	"gatehouse/internal/sqlite"
)

func openTemp(t *testing.T) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "gatehouse.db"), true)
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
	call func(context.Context, *sqlite.DB) error
}{
	{"create account", func(ctx context.Context, db *sqlite.DB) error {
		return db.CreateAccount(ctx, &account.Account{ID: "a-new", Email: "new@example.com", Status: account.Active, CreatedAt: time.Now()})
	}},
	{"read account by address", func(ctx context.Context, db *sqlite.DB) error {
		_, err := db.AccountByEmail(ctx, "a@example.com")
		return err
	}},
	{"read account", func(ctx context.Context, db *sqlite.DB) error { _, err := db.AccountByID(ctx, "a1"); return err }},
	{"list accounts", func(ctx context.Context, db *sqlite.DB) error { _, err := db.ListAccounts(ctx); return err }},
	{"set preferences", func(ctx context.Context, db *sqlite.DB) error { return db.SetPreferences(ctx, "a1", "en", "") }},
	{"create sign-up", func(ctx context.Context, db *sqlite.DB) error {
		return db.CreateSignup(ctx, &account.Signup{ID: "su-new", Email: "su@example.com", CreatedAt: time.Now()})
	}},
	{"read sign-up", func(ctx context.Context, db *sqlite.DB) error { _, err := db.Signup(ctx, "su1"); return err }},
	{"complete sign-up", func(ctx context.Context, db *sqlite.DB) error {
		return db.CompleteSignup(ctx, "su1", &account.Account{ID: "a-su", Email: "su@example.com", Status: account.Active})
	}},
	{"set account status", func(ctx context.Context, db *sqlite.DB) error { return db.SetStatus(ctx, "a1", account.Disabled) }},
	{"set password", func(ctx context.Context, db *sqlite.DB) error {
		return db.SetPasswordHash(ctx, "a1", "h2", time.Now(), true)
	}},
	{"read password history", func(ctx context.Context, db *sqlite.DB) error {
		_, err := db.PasswordHistory(ctx, "a1", 5)
		return err
	}},
	{"record sign-in attempt", func(ctx context.Context, db *sqlite.DB) error {
		return db.RecordAttempt(ctx, &signin.Attempt{ID: "at1", AccountID: "a1", Outcome: signin.UnknownAccount})
	}},
	{"list sign-in attempts", func(ctx context.Context, db *sqlite.DB) error {
		_, err := db.AttemptsByAccount(ctx, "a1", 5)
		return err
	}},
	{"create session", func(ctx context.Context, db *sqlite.DB) error {
		return db.CreateSession(ctx, &session.Session{ID: "s-new", TokenHash: []byte("t-new"), AccountID: "a1"})
	}},
	{"read session", func(ctx context.Context, db *sqlite.DB) error {
		_, err := db.SessionByTokenHash(ctx, []byte("t1"))
		return err
	}},
	{"touch session", func(ctx context.Context, db *sqlite.DB) error { return db.TouchSession(ctx, "s1", time.Now()) }},
	{"revoke session", func(ctx context.Context, db *sqlite.DB) error { return db.RevokeSession(ctx, "s1", time.Now()) }},
	{"revoke the account's sessions", func(ctx context.Context, db *sqlite.DB) error {
		return db.RevokeAccountSessions(ctx, "a1", time.Now())
	}},
	{"record installation key_fingerprint", func(ctx context.Context, db *sqlite.DB) error {
		_, err := db.Installation(ctx, "key_fingerprint", "fp")
		return err
	}},
	{"check for an installation", func(ctx context.Context, db *sqlite.DB) error { _, err := db.Installed(ctx); return err }},
	{"prune sessions", func(ctx context.Context, db *sqlite.DB) error {
		_, err := db.PruneSessions(ctx, time.Now(), 10)
		return err
	}},
	{"prune signin_attempts", func(ctx context.Context, db *sqlite.DB) error {
		_, err := db.PruneAttempts(ctx, time.Now(), 10)
		return err
	}},
	{"read schema version", func(ctx context.Context, db *sqlite.DB) error { _, _, err := db.Version(ctx); return err }},
	{"ping", func(ctx context.Context, db *sqlite.DB) error { return db.Ping(ctx) }},
	{"begin transaction", func(ctx context.Context, db *sqlite.DB) error {
		return db.InTx(ctx, func(context.Context) error { return nil })
	}},
}

// seedErrorCalls gives the calls above rows to find.
func seedErrorCalls(t *testing.T, db *sqlite.DB) {
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
// "context canceled" or "database is closed", and the cause stays
// matchable with errors.Is.
func TestErrors_NameTheDialectAndOperation(t *testing.T) {
	t.Parallel()
	check := func(t *testing.T, op string, err, cause error) {
		t.Helper()
		if want := "sqlite: " + op + ": "; err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%s: error %v, want it to start with %q", op, err, want)
		}
		if cause != nil && !errors.Is(err, cause) {
			t.Errorf("%s: error %v does not match %v", op, err, cause)
		}
	}
	t.Run("cancelled context", func(t *testing.T) {
		db := openTemp(t)
		seedErrorCalls(t, db)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		for _, c := range storeCalls {
			check(t, c.op, c.call(ctx, db), context.Canceled)
		}
	})
	t.Run("cancelled context, inside a flow's transaction", func(t *testing.T) {
		db := openTemp(t)
		seedErrorCalls(t, db)
		ctx, cancel := context.WithCancel(context.Background())
		err := db.InTx(ctx, func(ctx context.Context) error {
			cancel()
			check(t, "set password", db.SetPasswordHash(ctx, "a1", "h2", time.Now(), true), context.Canceled)
			_, err := db.AccountByID(ctx, "a1")
			check(t, "read account", err, context.Canceled)
			return err
		})
		// The flow's own error comes back as it is, not named again.
		if !strings.HasPrefix(err.Error(), "sqlite: read account: ") {
			t.Errorf("InTx returned %v, want the flow's error unchanged", err)
		}
	})
	t.Run("closed database", func(t *testing.T) {
		db := openTemp(t)
		seedErrorCalls(t, db)
		// Prepare the hot-path statements first, so that the closed
		// statements are what the reads meet.
		db.AccountByID(context.Background(), "a1")
		db.SessionByTokenHash(context.Background(), []byte("t1"))
		db.Close()
		for _, c := range storeCalls {
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
	// Inside a flow the same holds, and the flow's error comes back as is.
	err := db.InTx(ctx, func(ctx context.Context) error {
		_, err := db.AccountByID(ctx, "missing")
		return err
	})
	if !errors.Is(err, account.ErrNotFound) {
		t.Errorf("unknown account id in a flow: %v, want ErrNotFound", err)
	}
}

// TestInTx_PanicEndsTheTransaction: a flow that panics must not keep
// SQLite's one writer connection, or every later write would wait for
// ever.
func TestInTx_PanicEndsTheTransaction(t *testing.T) {
	t.Parallel()
	db := openTemp(t)
	seedErrorCalls(t, db)
	func() {
		defer func() { recover() }()
		db.InTx(context.Background(), func(ctx context.Context) error {
			if err := db.SetStatus(ctx, "a1", account.Disabled); err != nil {
				t.Error(err)
			}
			panic("flow bug")
		})
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := db.SetPreferences(ctx, "a1", "en", ""); err != nil {
		t.Fatalf("write after a panicking flow: %v", err)
	}
	a, err := db.AccountByID(ctx, "a1")
	if err != nil || a.Status != account.Active {
		t.Fatalf("the panicking flow's write was kept: %+v %v", a, err)
	}
}
