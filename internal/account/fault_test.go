package account_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"gatehouse/internal/limit"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"gatehouse/internal/account"
	"gatehouse/internal/code"
	"gatehouse/internal/crypt"
	"gatehouse/internal/i18n"
	"gatehouse/internal/method"
	"gatehouse/internal/notice"
	"gatehouse/internal/outbox"
	"gatehouse/internal/password"
	"gatehouse/internal/pgtest"
	"gatehouse/internal/postgres"
	"gatehouse/internal/request"
	"gatehouse/internal/session"
	"gatehouse/internal/signin"
	"gatehouse/internal/sqlite"
	"gatehouse/internal/storetest"
)

// store is everything one database implements, as the flows use it.
type store = storetest.Store

var errInjected = errors.New("injected write failure")

// faulty passes every call to the real store but fails the n-th write
// (counting from 1; 0 never fails), so that a flow can be cut at each of its
// writes in turn.
type faulty struct {
	store
	failAt, writes int
}

func (f *faulty) write() error {
	f.writes++
	if f.writes == f.failAt {
		return errInjected
	}
	return nil
}

func (f *faulty) CreateAccount(ctx context.Context, a *account.Account) error {
	if err := f.write(); err != nil {
		return err
	}
	return f.store.CreateAccount(ctx, a)
}
func (f *faulty) SetStatus(ctx context.Context, id string, s account.Status) error {
	if err := f.write(); err != nil {
		return err
	}
	return f.store.SetStatus(ctx, id, s)
}
func (f *faulty) CreateSignup(ctx context.Context, s *account.Signup) error {
	if err := f.write(); err != nil {
		return err
	}
	return f.store.CreateSignup(ctx, s)
}
func (f *faulty) CompleteSignup(ctx context.Context, id string, a *account.Account) error {
	if err := f.write(); err != nil {
		return err
	}
	return f.store.CompleteSignup(ctx, id, a)
}
func (f *faulty) SetPasswordHash(ctx context.Context, id, hash string, at time.Time, remember bool) error {
	if err := f.write(); err != nil {
		return err
	}
	return f.store.SetPasswordHash(ctx, id, hash, at, remember)
}
func (f *faulty) CreateChallenge(ctx context.Context, c *code.Challenge) error {
	if err := f.write(); err != nil {
		return err
	}
	return f.store.CreateChallenge(ctx, c)
}
func (f *faulty) Consume(ctx context.Context, id string, at time.Time) (bool, error) {
	if err := f.write(); err != nil {
		return false, err
	}
	return f.store.Consume(ctx, id, at)
}
func (f *faulty) Resend(ctx context.Context, id string, hash []byte, sentAt, expiresAt time.Time) error {
	if err := f.write(); err != nil {
		return err
	}
	return f.store.Resend(ctx, id, hash, sentAt, expiresAt)
}
func (f *faulty) CreateSession(ctx context.Context, s *session.Session) error {
	if err := f.write(); err != nil {
		return err
	}
	return f.store.CreateSession(ctx, s)
}
func (f *faulty) RevokeSession(ctx context.Context, id string, at time.Time) error {
	if err := f.write(); err != nil {
		return err
	}
	return f.store.RevokeSession(ctx, id, at)
}
func (f *faulty) RevokeAccountSessions(ctx context.Context, accountID string, at time.Time) error {
	if err := f.write(); err != nil {
		return err
	}
	return f.store.RevokeAccountSessions(ctx, accountID, at)
}
func (f *faulty) RecordAttempt(ctx context.Context, a *signin.Attempt) error {
	if err := f.write(); err != nil {
		return err
	}
	return f.store.RecordAttempt(ctx, a)
}
func (f *faulty) EnqueueMessage(ctx context.Context, m *outbox.Message) error {
	if err := f.write(); err != nil {
		return err
	}
	return f.store.EnqueueMessage(ctx, m)
}

// world is the services of one installation over a faulty store.
type world struct {
	f        *faulty
	accounts *account.Service
	signin   *signin.Service
	sessions *session.Manager
	outbox   *outbox.Outbox
	dump     func() string
}

const pw = "a long enough phrase"

func newWorld(t *testing.T, open func(t *testing.T) (store, func() string)) *world {
	s, dump := open(t)
	f := &faulty{store: s}
	box, err := crypt.New(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	pool := password.NewPool(2, 8)
	hasher := password.NewHasher(password.Params{MemoryKiB: 8 * 1024, Iterations: 1, Parallelism: 1}, nil, pool)
	cat := i18n.New()
	codes := &code.Service{Store: f, Blocks: code.NoBlocks{}, Key: make([]byte, 32), TTL: 10 * time.Minute, Cooldown: 0, MaxFailures: 5, Limits: limit.None()}
	sessions := &session.Manager{Store: f, Lifetimes: session.Lifetimes{Idle: time.Hour, Absolute: 24 * time.Hour, Remember: 720 * time.Hour}}
	mail := &outbox.Outbox{Store: f, Drivers: map[request.Channel]outbox.Driver{request.Email: outbox.DevDriver{}}, Catalog: cat, Box: box,
		ServiceName: "Gatehouse", PublicURL: "http://127.0.0.1"}
	notices := &notice.Composer{Outbox: mail, Catalog: cat, ServiceName: "Gatehouse"}
	w := &world{f: f, sessions: sessions, outbox: mail, dump: dump}
	w.signin = signin.New(signin.Deps{Accounts: f, Attempts: f, Hasher: hasher, Sessions: sessions, Tx: f, Limits: limit.None(),
		Log: slog.New(slog.DiscardHandler), Devices: knownDevices{f}, Codes: codes, Notices: notices, Reauth: sessions,
		Methods: method.NewSet(method.EmailMethod{Codes: codes})}, signin.Settings{})
	w.accounts = &account.Service{Store: f, Hasher: hasher, Policy: password.Policy{MinLength: 12, ServiceName: "Gatehouse"},
		Codes: codes, Notices: notices, Sessions: sessions, Guesses: w.signin, Pending: w.signin, Trust: f, Catalog: cat,
		PhoneRegion: "JP", HistoryLength: 5, Tx: f, Limits: limit.None()}
	return w
}

// knownDevices says every device is one the account has used: a sign-in's
// new-device alert is sent after its transaction commits, outside the
// writes this test cuts.
type knownDevices struct{ store }

func (knownDevices) UsedBy(context.Context, string, string) (bool, error) { return true, nil }

func openSQLite(t *testing.T) (store, func() string) {
	path := filepath.Join(t.TempDir(), "t.db")
	db, err := sqlite.Open(context.Background(), path, true)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close(); db.Close() })
	return db, func() string { return dumpSQL(t, raw) }
}

func dumpSQL(t *testing.T, raw *sql.DB) string {
	return dumpTables(t, func(query string) ([][]any, error) {
		rs, err := raw.Query(query)
		if err != nil {
			return nil, err
		}
		defer rs.Close()
		cols, _ := rs.Columns()
		var out [][]any
		for rs.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rs.Scan(ptrs...); err != nil {
				return nil, err
			}
			out = append(out, vals)
		}
		return out, rs.Err()
	}, `SELECT name FROM sqlite_master WHERE type = 'table' AND name <> 'schema_migrations' ORDER BY name`)
}

// dumpTables writes every row of every table that listTables names, each
// table's rows sorted, so two dumps are equal exactly when the data is.
func dumpTables(t *testing.T, query func(string) ([][]any, error), listTables string) string {
	t.Helper()
	names, err := query(listTables)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	for _, n := range names {
		table := fmt.Sprint(n[0])
		rows, err := query(`SELECT * FROM ` + table)
		if err != nil {
			t.Fatal(err)
		}
		lines := make([]string, 0, len(rows))
		for _, r := range rows {
			lines = append(lines, fmt.Sprint(r...))
		}
		slices.Sort(lines)
		fmt.Fprintf(&out, "%s: %d rows\n%s\n", table, len(lines), strings.Join(lines, "\n"))
	}
	return out.String()
}

func openPostgres(t *testing.T) (store, func() string) {
	url := pgtest.NewDatabase(t)
	db, err := postgres.Open(context.Background(), url, 4, true)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close(); db.Close() })
	return db, func() string {
		return dumpTables(t, func(query string) ([][]any, error) {
			rs, err := raw.Query(context.Background(), query)
			if err != nil {
				return nil, err
			}
			defer rs.Close()
			var out [][]any
			for rs.Next() {
				vals, err := rs.Values()
				if err != nil {
					return nil, err
				}
				out = append(out, vals)
			}
			return out, rs.Err()
		}, `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_name <> 'schema_migrations' ORDER BY 1`)
	}
}

var origin = request.Origin{DeviceID: "dev-1", UserAgent: "UA", IP: "192.0.2.1", Browser: "Chrome 156", OS: "Linux"}

// flows are the multi-write flows, each with the state it starts from.
var flows = []struct {
	name  string
	setup func(t *testing.T, w *world) any
	run   func(w *world, state any) error
}{
	{"sign-up, new address", nil, func(w *world, _ any) error {
		_, err := w.accounts.Register(context.Background(), account.Registration{Email: "new@example.com", Password: pw, Language: "en", Origin: at()})
		return err
	}},
	{"sign-up, address with an account", seedAccount, func(w *world, _ any) error {
		_, err := w.accounts.Register(context.Background(), account.Registration{Email: "holder@example.com", Password: pw, Language: "en", Origin: at()})
		return err
	}},
	{"confirm from the same browser", seedSignup, func(w *world, st any) error {
		s := st.(signupState)
		_, err := w.accounts.Confirm(context.Background(), account.ConfirmRequest{ChallengeID: s.id, Code: s.code, Origin: at()})
		return err
	}},
	{"confirm from another browser with a new password", seedSignup, func(w *world, st any) error {
		s := st.(signupState)
		o := at()
		o.DeviceID = "other-device"
		_, err := w.accounts.Confirm(context.Background(), account.ConfirmRequest{ChallengeID: s.id, Code: s.code,
			NewPassword: "the owner's own phrase", Origin: o})
		return err
	}},
	{"reset request, known address", seedAccount, func(w *world, _ any) error {
		_, err := w.accounts.RequestReset(context.Background(), "holder@example.com", "en", at())
		return err
	}},
	{"reset request, unknown address", nil, func(w *world, _ any) error {
		_, err := w.accounts.RequestReset(context.Background(), "nobody@example.com", "en", at())
		return err
	}},
	{"reset", seedReset, func(w *world, st any) error {
		s := st.(signupState)
		return w.accounts.Reset(context.Background(), s.id, s.code, "a brand new phrase", at())
	}},
	{"change password", seedAccount, func(w *world, st any) error {
		_, err := w.accounts.ChangePassword(context.Background(), account.PasswordChange{AccountID: st.(string), Current: pw,
			Next: "a brand new phrase", Origin: at()})
		return err
	}},
	{"change password, signing out every other session", seedAccount, func(w *world, st any) error {
		_, err := w.accounts.ChangePassword(context.Background(), account.PasswordChange{AccountID: st.(string), Current: pw,
			Next: "a brand new phrase", SignOutOthers: true, Origin: at()})
		return err
	}},

	{"disable", seedAccount, func(w *world, st any) error {
		return w.accounts.Disable(context.Background(), st.(string))
	}},
	{"sign-in, replacing the browser's session", seedSession, func(w *world, st any) error {
		_, err := w.signin.SignIn(context.Background(), signin.Request{Email: "holder@example.com", Password: pw, Previous: st.(string),
			Origin: at()})
		return err
	}},
}

func at() request.Origin { o := origin; o.Time = time.Now(); return o }

type signupState struct{ id, code string }

func seedAccount(t *testing.T, w *world) any {
	a, err := w.accounts.Create(context.Background(), "holder@example.com", pw, "en")
	if err != nil {
		t.Fatal(err)
	}
	// A live session, so that flows which end sessions have one to end.
	if _, _, err := w.sessions.Start(context.Background(), a.ID, "dev-0", "192.0.2.9", false); err != nil {
		t.Fatal(err)
	}
	return a.ID
}

func seedSession(t *testing.T, w *world) any {
	id := seedAccount(t, w).(string)
	token, _, err := w.sessions.Start(context.Background(), id, origin.DeviceID, origin.IP, false)
	if err != nil {
		t.Fatal(err)
	}
	return token
}

// lastCode reads the newest code the outbox sealed.
func lastCode(t *testing.T, w *world) string {
	ms, err := w.f.RecentMessages(context.Background(), 1)
	if err != nil || len(ms) == 0 {
		t.Fatal("no message", err)
	}
	shown, err := w.outbox.Reveal(ms[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range strings.Fields(shown.Text) {
		if len(f) == code.Digits && strings.Trim(f, "0123456789") == "" {
			return f
		}
	}
	t.Fatalf("no code in %q", shown.Text)
	return ""
}

func seedSignup(t *testing.T, w *world) any {
	id, err := w.accounts.Register(context.Background(), account.Registration{Email: "new@example.com", Password: pw, Language: "en", Origin: at()})
	if err != nil {
		t.Fatal(err)
	}
	return signupState{id, lastCode(t, w)}
}

func seedReset(t *testing.T, w *world) any {
	seedAccount(t, w)
	id, err := w.accounts.RequestReset(context.Background(), "holder@example.com", "en", at())
	if err != nil {
		t.Fatal(err)
	}
	return signupState{id, lastCode(t, w)}
}

// TestFlows_AWriteThatFailsLeavesTheDatabaseAsBefore cuts every multi-write
// flow at each of its writes in turn, on both databases: the flow reports
// the failure and the database is exactly as it was before the flow began
// (a reset whose notice cannot be queued must not leave the password
// changed and the sessions alive).
func TestFlows_AWriteThatFailsLeavesTheDatabaseAsBefore(t *testing.T) {
	for _, db := range []struct {
		name string
		open func(t *testing.T) (store, func() string)
	}{{"sqlite", openSQLite}, {"postgres", openPostgres}} {
		t.Run(db.name, func(t *testing.T) {
			for _, fl := range flows {
				t.Run(fl.name, func(t *testing.T) {
					prepare := func() (*world, any) {
						w := newWorld(t, db.open)
						var st any
						if fl.setup != nil {
							st = fl.setup(t, w)
						}
						w.f.writes = 0
						return w, st
					}
					w, st := prepare()
					if err := fl.run(w, st); err != nil {
						t.Fatalf("the flow fails without any injected failure: %v", err)
					}
					n := w.f.writes
					if n < 2 {
						t.Fatalf("only %d writes: not a multi-write flow", n)
					}
					for k := 1; k <= n; k++ {
						w, st := prepare()
						before := w.dump()
						w.f.failAt = k
						if err := fl.run(w, st); !errors.Is(err, errInjected) {
							t.Fatalf("write %d of %d failed but the flow answered %v", k, n, err)
						}
						if after := w.dump(); after != before {
							t.Fatalf("write %d of %d failed and the database changed:\nbefore:\n%s\nafter:\n%s", k, n, before, after)
						}
					}
				})
			}
		})
	}
}
