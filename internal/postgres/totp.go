package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"gatehouse/internal/totp"
)

var _ totp.Store = (*DB)(nil)

const totpColumns = `id, account_id, name, secret, created_at, confirmed_at, last_used_at`

func scanApp(row pgx.Row) (*totp.App, error) {
	var a totp.App
	var created, confirmed, used *time.Time
	if err := row.Scan(&a.ID, &a.AccountID, &a.Name, &a.Secret, &created, &confirmed, &used); err != nil {
		return nil, err
	}
	a.CreatedAt, a.ConfirmedAt, a.LastUsedAt = utc(created), utc(confirmed), utc(used)
	return &a, nil
}

// CreateApp implements totp.Store.
func (db *DB) CreateApp(ctx context.Context, a *totp.App) error {
	_, err := db.conn(ctx).Exec(ctx, `
		INSERT INTO totp_apps (`+totpColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		a.ID, a.AccountID, a.Name, a.Secret, ts(a.CreatedAt), ts(a.ConfirmedAt), ts(a.LastUsedAt))
	if err != nil {
		return fmt.Errorf("postgres: create authenticator app: %w", err)
	}
	return nil
}

// App implements totp.Store.
func (db *DB) App(ctx context.Context, id string) (*totp.App, error) {
	a, err := scanApp(db.conn(ctx).QueryRow(ctx, `SELECT `+totpColumns+` FROM totp_apps WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, totp.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: read authenticator app: %w", err)
	}
	return a, nil
}

// Apps implements totp.Store.
func (db *DB) Apps(ctx context.Context, accountID string) ([]*totp.App, error) {
	rows, err := db.conn(ctx).Query(ctx, `
		SELECT `+totpColumns+`
		FROM totp_apps
		WHERE account_id = $1
		ORDER BY created_at, id`, accountID)
	if err != nil {
		return nil, fmt.Errorf("postgres: list authenticator apps: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*totp.App, error) { return scanApp(r) })
	if err != nil {
		return nil, fmt.Errorf("postgres: list authenticator apps: %w", err)
	}
	return out, nil
}

// ConfirmApp implements totp.Store.
func (db *DB) ConfirmApp(ctx context.Context, id, name string, at time.Time) error {
	tag, err := db.conn(ctx).Exec(ctx, `
		UPDATE totp_apps SET name = $1, confirmed_at = $2
		WHERE id = $3 AND confirmed_at IS NULL`, name, ts(at), id)
	if err != nil {
		return fmt.Errorf("postgres: confirm authenticator app: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return totp.ErrNotFound
	}
	return nil
}

// DeleteApp implements totp.Store.
func (db *DB) DeleteApp(ctx context.Context, accountID, id string) error {
	tag, err := db.conn(ctx).Exec(ctx, `DELETE FROM totp_apps WHERE id = $1 AND account_id = $2`, id, accountID)
	if err != nil {
		return fmt.Errorf("postgres: delete authenticator app: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return totp.ErrNotFound
	}
	return nil
}

// LastStep implements totp.Store.
func (db *DB) LastStep(ctx context.Context, accountID string) (int64, error) {
	var step int64
	err := db.conn(ctx).QueryRow(ctx, `SELECT last_step FROM totp_steps WHERE account_id = $1`, accountID).Scan(&step)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("postgres: read last TOTP step: %w", err)
	}
	return step, nil
}

// UseStep implements totp.Store: the upsert only writes a newer step, and
// the row lock it takes makes two nodes' attempts at one step wait for each
// other — only the first is recorded.
func (db *DB) UseStep(ctx context.Context, accountID, appID string, step int64, at time.Time) (bool, error) {
	var won bool
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `
			INSERT INTO totp_steps (account_id, last_step) VALUES ($1, $2)
			ON CONFLICT (account_id) DO UPDATE SET last_step = excluded.last_step
			WHERE totp_steps.last_step < excluded.last_step`, accountID, step)
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		won = true
		_, err = tx.Exec(ctx, `UPDATE totp_apps SET last_used_at = $1 WHERE id = $2`, ts(at), appID)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("postgres: use TOTP step: %w", err)
	}
	return won, nil
}
