package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"gatehouse/internal/totp"
)

var _ totp.Store = (*DB)(nil)

const totpColumns = `id, account_id, name, secret, created_at, confirmed_at, last_used_at`

func scanApp(row interface{ Scan(...any) error }) (*totp.App, error) {
	var a totp.App
	var created, confirmed, used sql.NullInt64
	if err := row.Scan(&a.ID, &a.AccountID, &a.Name, &a.Secret, &created, &confirmed, &used); err != nil {
		return nil, err
	}
	a.CreatedAt, a.ConfirmedAt, a.LastUsedAt = tm(created), tm(confirmed), tm(used)
	return &a, nil
}

// CreateApp implements totp.Store.
func (db *DB) CreateApp(ctx context.Context, a *totp.App) error {
	_, err := db.exec(ctx, `
		INSERT INTO totp_apps (`+totpColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?)`,
		a.ID, a.AccountID, a.Name, a.Secret, us(a.CreatedAt), us(a.ConfirmedAt), us(a.LastUsedAt))
	if err != nil {
		return fmt.Errorf("sqlite: create authenticator app: %w", err)
	}
	return nil
}

// App implements totp.Store.
func (db *DB) App(ctx context.Context, id string) (*totp.App, error) {
	a, err := scanApp(db.readRow(ctx, `SELECT `+totpColumns+` FROM totp_apps WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, totp.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: read authenticator app: %w", err)
	}
	return a, nil
}

// Apps implements totp.Store.
func (db *DB) Apps(ctx context.Context, accountID string) ([]*totp.App, error) {
	rows, err := db.query(ctx, `
		SELECT `+totpColumns+`
		FROM totp_apps
		WHERE account_id = ?
		ORDER BY created_at, id`, accountID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list authenticator apps: %w", err)
	}
	defer rows.Close()
	var out []*totp.App
	for rows.Next() {
		a, err := scanApp(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: list authenticator apps: %w", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list authenticator apps: %w", err)
	}
	return out, nil
}

// ConfirmApp implements totp.Store.
func (db *DB) ConfirmApp(ctx context.Context, id, name string, at time.Time) error {
	res, err := db.exec(ctx, `
		UPDATE totp_apps SET name = ?, confirmed_at = ?
		WHERE id = ? AND confirmed_at IS NULL`, name, us(at), id)
	if err != nil {
		return fmt.Errorf("sqlite: confirm authenticator app: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return totp.ErrNotFound
	}
	return nil
}

// DeleteApp implements totp.Store.
func (db *DB) DeleteApp(ctx context.Context, accountID, id string) error {
	res, err := db.exec(ctx, `DELETE FROM totp_apps WHERE id = ? AND account_id = ?`, id, accountID)
	if err != nil {
		return fmt.Errorf("sqlite: delete authenticator app: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return totp.ErrNotFound
	}
	return nil
}

// LastStep implements totp.Store.
func (db *DB) LastStep(ctx context.Context, accountID string) (int64, error) {
	var step int64
	err := db.readRow(ctx, `SELECT last_step FROM totp_steps WHERE account_id = ?`, accountID).Scan(&step)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("sqlite: read last TOTP step: %w", err)
	}
	return step, nil
}

// UseStep implements totp.Store: the upsert only writes a newer step.
func (db *DB) UseStep(ctx context.Context, accountID, appID string, step int64, at time.Time) (bool, error) {
	var won bool
	err := db.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `
			INSERT INTO totp_steps (account_id, last_step) VALUES (?, ?)
			ON CONFLICT (account_id) DO UPDATE SET last_step = excluded.last_step
			WHERE totp_steps.last_step < excluded.last_step`, accountID, step)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil || n == 0 {
			return err
		}
		won = true
		_, err = tx.ExecContext(ctx, `UPDATE totp_apps SET last_used_at = ? WHERE id = ?`, us(at), appID)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("sqlite: use TOTP step: %w", err)
	}
	return won, nil
}
