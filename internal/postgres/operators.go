package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"gatehouse/internal/operator"
)

var _ operator.Store = (*DB)(nil)

// SetOperator implements operator.Store.
func (db *DB) SetOperator(ctx context.Context, accountID string, role operator.Role, at time.Time) error {
	_, err := db.conn(ctx).Exec(ctx, `
		INSERT INTO operators (account_id, role, added_at) VALUES ($1, $2, $3)
		ON CONFLICT (account_id) DO UPDATE SET role = excluded.role`, accountID, string(role), ts(at))
	if err != nil {
		return fmt.Errorf("postgres: set operator: %w", err)
	}
	return nil
}

// RemoveOperator implements operator.Store.
func (db *DB) RemoveOperator(ctx context.Context, accountID string) (bool, error) {
	tag, err := db.conn(ctx).Exec(ctx, `DELETE FROM operators WHERE account_id = $1`, accountID)
	if err != nil {
		return false, fmt.Errorf("postgres: remove operator: %w", err)
	}
	return tag.RowsAffected() > 0, nil
}

const operatorRead = `o.account_id, a.email, o.role, o.added_at FROM operators o JOIN accounts a ON a.id = o.account_id`

func scanOperator(row pgx.Row) (*operator.Operator, error) {
	var o operator.Operator
	var role string
	var added *time.Time
	if err := row.Scan(&o.AccountID, &o.Email, &role, &added); err != nil {
		return nil, err
	}
	o.Role, o.AddedAt = operator.Role(role), utc(added)
	return &o, nil
}

// OperatorByAccount implements operator.Store.
func (db *DB) OperatorByAccount(ctx context.Context, accountID string) (*operator.Operator, error) {
	o, err := scanOperator(db.conn(ctx).QueryRow(ctx, `SELECT `+operatorRead+` WHERE o.account_id = $1`, accountID))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, operator.ErrNotOperator
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: read operator: %w", err)
	}
	return o, nil
}

// Operators implements operator.Store.
func (db *DB) Operators(ctx context.Context) ([]*operator.Operator, error) {
	rows, err := db.conn(ctx).Query(ctx, `SELECT `+operatorRead+` ORDER BY lower(a.email), a.id`)
	if err != nil {
		return nil, fmt.Errorf("postgres: list operators: %w", err)
	}
	defer rows.Close()
	var out []*operator.Operator
	for rows.Next() {
		o, err := scanOperator(rows)
		if err != nil {
			return nil, fmt.Errorf("postgres: list operators: %w", err)
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// AddAudit implements operator.Store.
func (db *DB) AddAudit(ctx context.Context, e *operator.Entry) error {
	_, err := db.conn(ctx).Exec(ctx, `
		INSERT INTO audit_log (id, at, operator_id, operator_email, action, account_id, reason, ip, device, detail)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		e.ID, ts(e.At), e.OperatorID, e.OperatorEmail, string(e.Action), e.AccountID, e.Reason, e.IP, e.Device, e.Detail)
	if err != nil {
		return fmt.Errorf("postgres: add audit entry: %w", err)
	}
	return nil
}

// Audit implements operator.Store.
func (db *DB) Audit(ctx context.Context, f operator.AuditFilter) ([]*operator.Entry, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	rows, err := db.conn(ctx).Query(ctx, `
		SELECT id, at, operator_id, operator_email, action, account_id, reason, ip, device, detail FROM audit_log
		WHERE ($1 = '' OR account_id = $1) AND ($2 = '' OR operator_id = $2) AND at >= $3
		ORDER BY at DESC, id DESC LIMIT $4`,
		f.AccountID, f.OperatorID, f.Since.UTC(), limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: read audit trail: %w", err)
	}
	defer rows.Close()
	var out []*operator.Entry
	for rows.Next() {
		var e operator.Entry
		var at *time.Time
		var action string
		if err := rows.Scan(&e.ID, &at, &e.OperatorID, &e.OperatorEmail, &action, &e.AccountID, &e.Reason, &e.IP, &e.Device, &e.Detail); err != nil {
			return nil, fmt.Errorf("postgres: read audit trail: %w", err)
		}
		e.At, e.Action = utc(at), operator.Action(action)
		out = append(out, &e)
	}
	return out, rows.Err()
}
