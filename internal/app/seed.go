package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gatehouse/internal/account"
	"gatehouse/internal/outbox"
	"gatehouse/internal/random"
	"gatehouse/internal/request"
	"gatehouse/internal/session"
	"gatehouse/internal/signin"
)

// SeedEmail is the address of seeded account i: the benchmarks sign in as
// one of them.
func SeedEmail(i int) string { return fmt.Sprintf("seed-%d@example.test", i) }

// SeedPassword is every seeded account's password.
const SeedPassword = "seeded accounts share this passphrase"

// Seed fills the database with accounts from…accounts-1 (from > 0
// resumes an interrupted seed) and, spread over them
// and over the last 89 days, perAccount sign-in attempts and as many
// messages each: a database the size the activity and message-center
// benchmarks are measured on (100,000 accounts and 10,000,000 attempts and
// messages: perAccount 50 gives 5,000,000 of each). Rows are written in
// batches of one transaction each; progress is told the accounts done.
// Message bodies are short: the pages read one account's rows by index,
// and the size of a body changes little but the file size.
//
// With more set, the accounts exist already (an earlier seed made them)
// and only their attempts and messages are added, between the earlier
// ones: two seeds of 50 give 10,000,000 attempts and as many messages.
func (a *App) Seed(ctx context.Context, from, accounts, perAccount int, more bool, progress func(done int)) error {
	hash, err := a.Hasher.Hash(ctx, SeedPassword)
	if err != nil {
		return err
	}
	now := a.now().UTC()
	const batch = 200 // accounts per transaction
	outcomes := []signin.Outcome{signin.Succeeded, signin.Succeeded, signin.Succeeded, signin.WrongPassword, signin.Pending, signin.Denied}
	purposes := []request.Purpose{request.SecondStep, request.PasswordChanged, request.ResetPassword, request.BackupUsed}
	for start := from; start < accounts; start += batch {
		err := a.seedBatch(ctx, func(ctx context.Context) error {
			for i := start; i < min(start+batch, accounts); i++ {
				acc := &account.Account{ID: random.ID(), Email: SeedEmail(i), PasswordHash: hash, Language: []string{"en", "ja"}[i%2],
					Status: account.Active, CreatedAt: now.Add(-100 * 24 * time.Hour), ConfirmedAt: now.Add(-100 * 24 * time.Hour),
					PasswordChangedAt: now.Add(-100 * 24 * time.Hour)}
				if more {
					var err error
					if acc, err = a.DB.AccountByEmail(ctx, acc.Email); err != nil {
						return err
					}
				} else if err := a.DB.CreateAccount(ctx, acc); err != nil {
					return err
				}
				step := 89 * 24 * time.Hour / time.Duration(perAccount+1)
				offset := time.Duration(0)
				if more {
					offset = step / 2 // between the earlier seed's rows
				}
				for j := range perAccount {
					at := now.Add(-time.Duration(j+1)*step + offset)
					att := &signin.Attempt{ID: random.ID(), Kind: signin.SignInKind, Identifier: acc.Email, AccountID: acc.ID,
						Origin: request.Origin{DeviceID: random.ID(), IP: fmt.Sprintf("203.0.113.%d", j%250+1),
							UserAgent: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36", Time: at},
						Outcome: outcomes[j%len(outcomes)]}
					if att.Outcome == signin.Pending {
						att.Cause = request.PasswordKnown
					}
					if err := a.DB.RecordAttempt(ctx, att); err != nil {
						return err
					}
					p := purposes[j%len(purposes)]
					m := &outbox.Message{ID: random.ID(), Reference: random.Reference(), AccountID: acc.ID, Purpose: p,
						Channel: request.Email, To: acc.Email, Language: acc.Language, Subject: "Gatehouse: " + string(p),
						Text: "Seeded message " + string(p) + " for the benchmarks.", CreatedAt: at, SentAt: at,
						Status: outbox.Sent, NextAttemptAt: at}
					if p.HasCode() {
						m.Cause = request.PasswordKnown
					}
					// References are short (they are typed); among millions
					// two can collide, as Outbox.Enqueue also allows for.
					for try := 0; ; try++ {
						err := a.DB.EnqueueMessage(ctx, m)
						if err == nil {
							break
						}
						if !errors.Is(err, outbox.ErrDuplicateReference) || try == 4 {
							return err
						}
						m.Reference = random.Reference()
					}
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("seed accounts %d–%d: %w", start, start+batch, err)
		}
		if progress != nil {
			progress(min(start+batch, accounts))
		}
	}
	return nil
}

// seedBatch runs one batch's transaction, again from the start when a
// message reference collided: on PostgreSQL the failed insert has aborted
// the transaction, so the retry inside it (enough on SQLite) cannot help.
func (a *App) seedBatch(ctx context.Context, fn func(ctx context.Context) error) error {
	for try := 0; ; try++ {
		err := a.DB.InTx(ctx, fn)
		if !errors.Is(err, outbox.ErrDuplicateReference) || try == 4 {
			return err
		}
	}
}

// SeedSessions starts n sessions, spread over the seeded accounts 0 to
// accounts-1 (made by Seed before), as a password sign-in would, in
// batches of one transaction each, and hands each token to token: the
// forward-auth and session-check benchmarks keep some and send them as
// cookies. Nothing records where the sessions came from: they are load,
// not history.
func (a *App) SeedSessions(ctx context.Context, accounts, n int, token func(string) error) error {
	if accounts <= 0 {
		return errors.New("seed sessions: no accounts to give them to")
	}
	ids := make([]string, accounts)
	for i := range ids {
		acc, err := a.DB.AccountByEmail(ctx, SeedEmail(i))
		if err != nil {
			return fmt.Errorf("seed sessions: account %d: %w", i, err)
		}
		ids[i] = acc.ID
	}
	now := a.now().UTC()
	lt := a.Sessions.Lifetimes
	const batch = 5000
	for start := 0; start < n; start += batch {
		var tokens []string
		err := a.DB.InTx(ctx, func(ctx context.Context) error {
			tokens = tokens[:0]
			for i := start; i < min(start+batch, n); i++ {
				t := random.Token()
				s := &session.Session{ID: random.ID(), TokenHash: session.HashToken(t), AccountID: ids[i%accounts],
					CreatedAt: now, LastSeenAt: now, AuthenticatedAt: now, IdleTimeout: lt.Remember,
					AbsoluteExpiresAt: now.Add(lt.Remember), Remember: true, IP: "203.0.113.7", AMR: []string{"pwd"}}
				if err := a.DB.CreateSession(ctx, s); err != nil {
					return err
				}
				tokens = append(tokens, t)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("seed sessions %d–%d: %w", start, start+batch, err)
		}
		for _, t := range tokens {
			if err := token(t); err != nil {
				return err
			}
		}
	}
	return nil
}
