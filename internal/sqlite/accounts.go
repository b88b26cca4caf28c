package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"gatehouse/internal/account"
)

var _ account.Store = (*DB)(nil)

const accountColumns = `id, email, phone, password_hash, language, time_zone, status, created_at, confirmed_at, password_changed_at, phone_confirmed_at`

// accountRead is what every read of an account selects: the inserted
// columns and those only later changes set.
const accountRead = accountColumns + `, password_compromised_at, alert_email, alert_sms`

// scanAccount reads one account; its errors are the driver's, for the
// caller to name.
func scanAccount(row interface{ Scan(...any) error }) (*account.Account, error) {
	var a account.Account
	var created, confirmed, changed, phoneConfirmed, compromised sql.NullInt64
	err := row.Scan(&a.ID, &a.Email, &a.Phone, &a.PasswordHash, &a.Language, &a.TimeZone, &a.Status, &created, &confirmed, &changed, &phoneConfirmed,
		&compromised, &a.Alerts.Email, &a.Alerts.SMS)
	if err != nil {
		return nil, err
	}
	a.CreatedAt, a.ConfirmedAt, a.PasswordChangedAt, a.PhoneConfirmedAt = tm(created), tm(confirmed), tm(changed), tm(phoneConfirmed)
	a.PasswordCompromisedAt = tm(compromised)
	return &a, nil
}

// insertAccount stores a, returning account.ErrEmailTaken for a taken
// address and the driver's error otherwise, for the caller to name.
func insertAccount(ctx context.Context, x interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}, a *account.Account) error {
	_, err := x.ExecContext(ctx, `
		INSERT INTO accounts (`+accountColumns+`, email_key)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		a.ID, a.Email, a.Phone, a.PasswordHash, a.Language, a.TimeZone, a.Status,
		us(a.CreatedAt), us(a.ConfirmedAt), us(a.PasswordChangedAt), us(a.PhoneConfirmedAt), strings.ToLower(a.Email))
	if isUnique(err) {
		return account.ErrEmailTaken
	}
	return err
}

// CreateAccount implements account.Store.
func (db *DB) CreateAccount(ctx context.Context, a *account.Account) error {
	var err error
	if tx := flowTx(ctx); tx != nil {
		err = insertAccount(ctx, tx, a)
	} else {
		err = insertAccount(ctx, db.write, a)
	}
	if err != nil && !errors.Is(err, account.ErrEmailTaken) {
		return fmt.Errorf("sqlite: create account: %w", err)
	}
	return err
}

// AccountByEmail implements account.Store; the match ignores case.
func (db *DB) AccountByEmail(ctx context.Context, email string) (*account.Account, error) {
	a, err := scanAccount(db.readRow(ctx, `SELECT `+accountRead+` FROM accounts WHERE email_key = ?`, strings.ToLower(email)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, account.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: read account by address: %w", err)
	}
	return a, nil
}

// AccountByID implements account.Store.
func (db *DB) AccountByID(ctx context.Context, id string) (*account.Account, error) {
	a, err := scanAccount(db.readRow(ctx, `SELECT `+accountRead+` FROM accounts WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, account.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: read account: %w", err)
	}
	return a, nil
}

// ListAccounts implements account.Store.
func (db *DB) ListAccounts(ctx context.Context) ([]*account.Account, error) {
	rows, err := db.query(ctx, `SELECT `+accountRead+` FROM accounts ORDER BY created_at`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list accounts: %w", err)
	}
	defer rows.Close()
	var out []*account.Account
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: list accounts: %w", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list accounts: %w", err)
	}
	return out, nil
}

// SetPreferences implements account.Store.
func (db *DB) SetPreferences(ctx context.Context, id, language, timeZone string) error {
	res, err := db.exec(ctx, `UPDATE accounts SET language = ?, time_zone = ? WHERE id = ?`, language, timeZone, id)
	if err != nil {
		return fmt.Errorf("sqlite: set preferences: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return account.ErrNotFound
	}
	return nil
}

// SetEmail implements address.Store.
func (db *DB) SetEmail(ctx context.Context, id, email string) error {
	res, err := db.exec(ctx, `
		UPDATE accounts SET email = ?, email_key = ?
		WHERE id = ?`, email, strings.ToLower(email), id)
	if isUnique(err) {
		return account.ErrEmailTaken
	}
	if err != nil {
		return fmt.Errorf("sqlite: set address: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return account.ErrNotFound
	}
	return nil
}

// SetPhone implements phone.Store.
func (db *DB) SetPhone(ctx context.Context, id, number string, confirmedAt time.Time) error {
	res, err := db.exec(ctx, `
		UPDATE accounts SET phone = ?, phone_confirmed_at = ?
		WHERE id = ?`, number, us(confirmedAt), id)
	if err != nil {
		return fmt.Errorf("sqlite: set phone: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return account.ErrNotFound
	}
	return nil
}

const signupColumns = `id, email, phone, password_hash, language, device_id, created_at`

// CreateSignup implements account.Store.
func (db *DB) CreateSignup(ctx context.Context, s *account.Signup) error {
	_, err := db.exec(ctx, `
		INSERT INTO signups (`+signupColumns+`, email_key)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		s.ID, s.Email, s.Phone, s.PasswordHash, s.Language, s.DeviceID, us(s.CreatedAt), strings.ToLower(s.Email))
	if err != nil {
		return fmt.Errorf("sqlite: create sign-up: %w", err)
	}
	return nil
}

// Signup implements account.Store.
func (db *DB) Signup(ctx context.Context, id string) (*account.Signup, error) {
	var s account.Signup
	var created sql.NullInt64
	err := db.readRow(ctx, `SELECT `+signupColumns+` FROM signups WHERE id = ?`, id).
		Scan(&s.ID, &s.Email, &s.Phone, &s.PasswordHash, &s.Language, &s.DeviceID, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, account.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: read sign-up: %w", err)
	}
	s.CreatedAt = tm(created)
	return &s, nil
}

// CompleteSignup implements account.Store.
func (db *DB) CompleteSignup(ctx context.Context, id string, a *account.Account) error {
	err := db.tx(ctx, func(tx *sql.Tx) error {
		// The codes every sign-up for the address was sent (this one's and
		// any stranger's) were sent to the holder: their message center
		// lists them. Done before the sign-ups go.
		if _, err := tx.ExecContext(ctx, `
			UPDATE messages SET account_id = ?
			WHERE challenge_id IN (SELECT id FROM signups WHERE email_key = (SELECT email_key FROM signups WHERE id = ?))
				AND challenge_id <> '' AND account_id = ''`, a.ID, id); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `
			DELETE FROM signups
			WHERE email_key = (SELECT email_key FROM signups WHERE id = ?)`, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return account.ErrNotFound
		}
		return insertAccount(ctx, tx, a)
	})
	if err != nil && !errors.Is(err, account.ErrNotFound) && !errors.Is(err, account.ErrEmailTaken) {
		return fmt.Errorf("sqlite: complete sign-up: %w", err)
	}
	return err
}

// SetStatus implements account.Store.
func (db *DB) SetStatus(ctx context.Context, id string, s account.Status) error {
	res, err := db.exec(ctx, `UPDATE accounts SET status = ? WHERE id = ?`, s, id)
	if err != nil {
		return fmt.Errorf("sqlite: set account status: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return account.ErrNotFound
	}
	return nil
}

// SetPasswordHash implements account.Store.
func (db *DB) SetPasswordHash(ctx context.Context, id, hash string, at time.Time, remember bool) error {
	err := db.tx(ctx, func(tx *sql.Tx) error {
		if remember {
			_, err := tx.ExecContext(ctx, `
				INSERT INTO password_history (account_id, password_hash, replaced_at)
				SELECT id, password_hash, ? FROM accounts
				WHERE id = ?`, us(at), id)
			if err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `
			UPDATE accounts SET password_hash = ?, password_changed_at = ?,
				password_compromised_at = CASE WHEN ? THEN NULL ELSE password_compromised_at END
			WHERE id = ?`, hash, us(at), remember, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: set password: %w", err)
	}
	return nil
}

// PasswordHistory implements account.Store.
func (db *DB) PasswordHistory(ctx context.Context, id string, n int) ([]string, error) {
	rows, err := db.query(ctx, `
		SELECT password_hash FROM password_history
		WHERE account_id = ?
		ORDER BY replaced_at DESC, rowid DESC
		LIMIT ?`, id, n)
	if err != nil {
		return nil, fmt.Errorf("sqlite: read password history: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var h string
		if err := rows.Scan(&h); err != nil {
			return nil, fmt.Errorf("sqlite: read password history: %w", err)
		}
		out = append(out, h)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: read password history: %w", err)
	}
	return out, nil
}

// SearchAccounts implements account.Store: a range on the unique index of
// lower-cased addresses.
func (db *DB) SearchAccounts(ctx context.Context, prefix, after string, limit int) ([]*account.Account, error) {
	rows, err := db.query(ctx, `
		SELECT `+accountRead+` FROM accounts
		WHERE email_key > ? AND email_key >= ? AND substr(email_key, 1, length(?)) = ?
		ORDER BY email_key LIMIT ?`, after, prefix, prefix, prefix, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: search accounts: %w", err)
	}
	defer rows.Close()
	var out []*account.Account
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: search accounts: %w", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: search accounts: %w", err)
	}
	return out, nil
}

// AccountsByPhoneEnding implements console.Accounts: the accounts whose
// confirmed number for codes ends with digits, by address. It reads every
// account with a number (no index serves a suffix): the console's search,
// not a hot path.
func (db *DB) AccountsByPhoneEnding(ctx context.Context, digits string, limit int) ([]*account.Account, error) {
	rows, err := db.query(ctx, `
		SELECT `+accountRead+` FROM accounts
		WHERE phone_confirmed_at IS NOT NULL AND phone <> '' AND substr(phone, -length(?)) = ?
		ORDER BY email_key LIMIT ?`, digits, digits, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: find accounts by phone: %w", err)
	}
	defer rows.Close()
	var out []*account.Account
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: find accounts by phone: %w", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: find accounts by phone: %w", err)
	}
	return out, nil
}
