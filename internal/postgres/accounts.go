package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"gatehouse/internal/account"
)

var _ account.Store = (*DB)(nil)

const accountColumns = `id, email, phone, password_hash, language, time_zone, status, created_at, confirmed_at, password_changed_at, phone_confirmed_at`

// accountRead is what every read of an account selects: the inserted
// columns and those only later changes set.
const accountRead = accountColumns + `, password_compromised_at, alert_email, alert_sms`

// scanAccount reads one account; its errors are the driver's, for the
// caller to name.
func scanAccount(row pgx.Row) (*account.Account, error) {
	var a account.Account
	var created, confirmed, changed, phoneConfirmed, compromised *time.Time
	err := row.Scan(&a.ID, &a.Email, &a.Phone, &a.PasswordHash, &a.Language, &a.TimeZone, &a.Status, &created, &confirmed, &changed, &phoneConfirmed,
		&compromised, &a.Alerts.Email, &a.Alerts.SMS)
	if err != nil {
		return nil, err
	}
	a.CreatedAt, a.ConfirmedAt, a.PasswordChangedAt, a.PhoneConfirmedAt = utc(created), utc(confirmed), utc(changed), utc(phoneConfirmed)
	a.PasswordCompromisedAt = utc(compromised)
	return &a, nil
}

// insertAccount stores a, returning account.ErrEmailTaken for a taken
// address and the driver's error otherwise, for the caller to name.
func insertAccount(ctx context.Context, q querier, a *account.Account) error {
	_, err := q.Exec(ctx, `
		INSERT INTO accounts (`+accountColumns+`, email_key)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		a.ID, a.Email, a.Phone, a.PasswordHash, a.Language, a.TimeZone, a.Status,
		ts(a.CreatedAt), ts(a.ConfirmedAt), ts(a.PasswordChangedAt), ts(a.PhoneConfirmedAt), strings.ToLower(a.Email))
	if isUnique(err) {
		return account.ErrEmailTaken
	}
	return err
}

// CreateAccount implements account.Store. A new account has no sessions,
// so no node has anything cached to forget.
func (db *DB) CreateAccount(ctx context.Context, a *account.Account) error {
	err := insertAccount(ctx, db.conn(ctx), a)
	if err != nil && !errors.Is(err, account.ErrEmailTaken) {
		return fmt.Errorf("postgres: create account: %w", err)
	}
	return err
}

// AccountByEmail implements account.Store; the match ignores case.
func (db *DB) AccountByEmail(ctx context.Context, email string) (*account.Account, error) {
	a, err := scanAccount(db.conn(ctx).QueryRow(ctx, `SELECT `+accountRead+` FROM accounts WHERE email_key = $1`, strings.ToLower(email)))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, account.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: read account by address: %w", err)
	}
	return a, nil
}

// AccountByID implements account.Store.
func (db *DB) AccountByID(ctx context.Context, id string) (*account.Account, error) {
	a, err := scanAccount(db.conn(ctx).QueryRow(ctx, `SELECT `+accountRead+` FROM accounts WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, account.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: read account: %w", err)
	}
	return a, nil
}

// ListAccounts implements account.Store.
func (db *DB) ListAccounts(ctx context.Context) ([]*account.Account, error) {
	rows, err := db.conn(ctx).Query(ctx, `SELECT `+accountRead+` FROM accounts ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("postgres: list accounts: %w", err)
	}
	defer rows.Close()
	var out []*account.Account
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, fmt.Errorf("postgres: list accounts: %w", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: list accounts: %w", err)
	}
	return out, nil
}

// SetPreferences implements account.Store. Cached sessions carry the
// account, so every node is told to forget them.
func (db *DB) SetPreferences(ctx context.Context, id, language, timeZone string) error {
	return db.updateAccount(ctx, "set preferences", id, `
		UPDATE accounts SET language = $2, time_zone = $3
		WHERE id = $1`, language, timeZone)
}

// SetEmail implements address.Store. Cached sessions carry the account,
// so every node is told to forget them.
func (db *DB) SetEmail(ctx context.Context, id, email string) error {
	err := db.updateAccount(ctx, "set address", id, `
		UPDATE accounts SET email = $2, email_key = $3
		WHERE id = $1`, email, strings.ToLower(email))
	if isUnique(err) {
		return account.ErrEmailTaken
	}
	return err
}

// SetPhone implements phone.Store. Cached sessions carry the account, so
// every node is told to forget them.
func (db *DB) SetPhone(ctx context.Context, id, number string, confirmedAt time.Time) error {
	return db.updateAccount(ctx, "set phone", id, `
		UPDATE accounts SET phone = $2, phone_confirmed_at = $3
		WHERE id = $1`, number, ts(confirmedAt))
}

// updateAccount runs an UPDATE of one account (id is $1) and, in the same
// transaction, the notification that makes every node forget its cached
// sessions of it: it goes out when the write commits, and not at all if
// the write (or the flow around it) rolls back. It returns
// account.ErrNotFound for an unknown id, and names op in other errors.
func (db *DB) updateAccount(ctx context.Context, op, id, query string, args ...any) error {
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, query, append([]any{id}, args...)...)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return account.ErrNotFound
		}
		return notify(ctx, tx, "account", id)
	})
	if err != nil && !errors.Is(err, account.ErrNotFound) {
		return fmt.Errorf("postgres: %s: %w", op, err)
	}
	return err
}

const signupColumns = `id, email, phone, password_hash, language, device_id, created_at`

// CreateSignup implements account.Store.
func (db *DB) CreateSignup(ctx context.Context, s *account.Signup) error {
	_, err := db.conn(ctx).Exec(ctx, `
		INSERT INTO signups (`+signupColumns+`, email_key)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		s.ID, s.Email, s.Phone, s.PasswordHash, s.Language, s.DeviceID, ts(s.CreatedAt), strings.ToLower(s.Email))
	if err != nil {
		return fmt.Errorf("postgres: create sign-up: %w", err)
	}
	return nil
}

// Signup implements account.Store.
func (db *DB) Signup(ctx context.Context, id string) (*account.Signup, error) {
	var s account.Signup
	var created *time.Time
	err := db.conn(ctx).QueryRow(ctx, `SELECT `+signupColumns+` FROM signups WHERE id = $1`, id).
		Scan(&s.ID, &s.Email, &s.Phone, &s.PasswordHash, &s.Language, &s.DeviceID, &created)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, account.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: read sign-up: %w", err)
	}
	s.CreatedAt = utc(created)
	return &s, nil
}

// CompleteSignup implements account.Store. Like CreateAccount, it makes an
// account no session can have cached yet.
func (db *DB) CompleteSignup(ctx context.Context, id string, a *account.Account) error {
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		// The codes every sign-up for the address was sent (this one's and
		// any stranger's) were sent to the holder: their message center
		// lists them.
		if _, err := tx.Exec(ctx, `
			UPDATE messages SET account_id = $1
			WHERE challenge_id IN (SELECT id FROM signups WHERE email_key = (SELECT email_key FROM signups WHERE id = $2))
				AND challenge_id <> '' AND account_id = ''`, a.ID, id); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `
			DELETE FROM signups
			WHERE email_key = (SELECT email_key FROM signups WHERE id = $1)`, id)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return account.ErrNotFound
		}
		return insertAccount(ctx, tx, a)
	})
	if err != nil && !errors.Is(err, account.ErrNotFound) && !errors.Is(err, account.ErrEmailTaken) {
		return fmt.Errorf("postgres: complete sign-up: %w", err)
	}
	return err
}

// SetStatus implements account.Store. Cached sessions carry the account,
// whose status decides whether they are honoured, so every node is told
// to forget them.
func (db *DB) SetStatus(ctx context.Context, id string, st account.Status) error {
	return db.updateAccount(ctx, "set account status", id, `UPDATE accounts SET status = $2 WHERE id = $1`, st)
}

// SetPasswordHash implements account.Store. Cached sessions carry the
// account, hash and time of the last change included, so every node is
// told to forget them, in the same transaction as the change (see
// updateAccount). An unknown id changes nothing and is not an error, as
// in SQLite.
func (db *DB) SetPasswordHash(ctx context.Context, id, hash string, at time.Time, remember bool) error {
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		if remember {
			_, err := tx.Exec(ctx, `
				INSERT INTO password_history (account_id, password_hash, replaced_at)
				SELECT id, password_hash, $1 FROM accounts
				WHERE id = $2`, ts(at), id)
			if err != nil {
				return err
			}
		}
		tag, err := tx.Exec(ctx, `
			UPDATE accounts SET password_hash = $1, password_changed_at = $2,
				password_compromised_at = CASE WHEN $4 THEN NULL ELSE password_compromised_at END
			WHERE id = $3`, hash, ts(at), id, remember)
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		return notify(ctx, tx, "account", id)
	})
	if err != nil {
		return fmt.Errorf("postgres: set password: %w", err)
	}
	return nil
}

// PasswordHistory implements account.Store.
func (db *DB) PasswordHistory(ctx context.Context, id string, n int) ([]string, error) {
	rows, err := db.conn(ctx).Query(ctx, `
		SELECT password_hash FROM password_history
		WHERE account_id = $1
		ORDER BY replaced_at DESC, id DESC
		LIMIT $2`, id, n)
	if err != nil {
		return nil, fmt.Errorf("postgres: read password history: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("postgres: read password history: %w", err)
	}
	return out, nil
}

// SearchAccounts implements account.Store. Addresses are compared byte by
// byte (COLLATE "C"), as SQLite does, so a page ends where the next begins
// whatever the database's collation.
func (db *DB) SearchAccounts(ctx context.Context, prefix, after string, limit int) ([]*account.Account, error) {
	rows, err := db.conn(ctx).Query(ctx, `
		SELECT `+accountRead+` FROM accounts
		WHERE email_key COLLATE "C" > $1 AND starts_with(email_key, $2)
		ORDER BY email_key COLLATE "C" LIMIT $3`, after, prefix, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: search accounts: %w", err)
	}
	defer rows.Close()
	var out []*account.Account
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, fmt.Errorf("postgres: search accounts: %w", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: search accounts: %w", err)
	}
	return out, nil
}

// AccountsByPhoneEnding implements console.Accounts: the accounts whose
// confirmed number for codes ends with digits, by address. It reads every
// account with a number (no index serves a suffix): the console's search,
// not a hot path.
func (db *DB) AccountsByPhoneEnding(ctx context.Context, digits string, limit int) ([]*account.Account, error) {
	rows, err := db.conn(ctx).Query(ctx, `
		SELECT `+accountRead+` FROM accounts
		WHERE phone_confirmed_at IS NOT NULL AND phone <> '' AND right(phone, length($1)) = $1
		ORDER BY email_key COLLATE "C" LIMIT $2`, digits, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: find accounts by phone: %w", err)
	}
	defer rows.Close()
	var out []*account.Account
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, fmt.Errorf("postgres: find accounts by phone: %w", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: find accounts by phone: %w", err)
	}
	return out, nil
}
