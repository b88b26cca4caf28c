package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"gatehouse/internal/operator"
)

var _ operator.Store = (*DB)(nil)

// SetOperator implements operator.Store.
func (db *DB) SetOperator(ctx context.Context, accountID string, role operator.Role, at time.Time) error {
	_, err := db.exec(ctx, `
		INSERT INTO operators (account_id, role, added_at) VALUES (?, ?, ?)
		ON CONFLICT (account_id) DO UPDATE SET role = excluded.role`, accountID, string(role), us(at))
	if err != nil {
		return fmt.Errorf("sqlite: set operator: %w", err)
	}
	return nil
}

// RemoveOperator implements operator.Store.
func (db *DB) RemoveOperator(ctx context.Context, accountID string) (bool, error) {
	res, err := db.exec(ctx, `DELETE FROM operators WHERE account_id = ?`, accountID)
	if err != nil {
		return false, fmt.Errorf("sqlite: remove operator: %w", err)
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

const operatorRead = `o.account_id, a.email, o.role, o.added_at FROM operators o JOIN accounts a ON a.id = o.account_id`

func scanOperator(row interface{ Scan(...any) error }) (*operator.Operator, error) {
	var o operator.Operator
	var role string
	var added sql.NullInt64
	if err := row.Scan(&o.AccountID, &o.Email, &role, &added); err != nil {
		return nil, err
	}
	o.Role, o.AddedAt = operator.Role(role), tm(added)
	return &o, nil
}

// OperatorByAccount implements operator.Store.
func (db *DB) OperatorByAccount(ctx context.Context, accountID string) (*operator.Operator, error) {
	o, err := scanOperator(db.readRow(ctx, `SELECT `+operatorRead+` WHERE o.account_id = ?`, accountID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, operator.ErrNotOperator
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: read operator: %w", err)
	}
	return o, nil
}

// Operators implements operator.Store.
func (db *DB) Operators(ctx context.Context) ([]*operator.Operator, error) {
	rows, err := db.query(ctx, `SELECT `+operatorRead+` ORDER BY lower(a.email), a.id`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list operators: %w", err)
	}
	defer rows.Close()
	var out []*operator.Operator
	for rows.Next() {
		o, err := scanOperator(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: list operators: %w", err)
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// AddAudit implements operator.Store.
func (db *DB) AddAudit(ctx context.Context, e *operator.Entry) error {
	_, err := db.exec(ctx, `
		INSERT INTO audit_log (id, at, operator_id, operator_email, action, account_id, reason, ip, device, detail)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.ID, us(e.At), e.OperatorID, e.OperatorEmail, string(e.Action), e.AccountID, e.Reason, e.IP, e.Device, e.Detail)
	if err != nil {
		return fmt.Errorf("sqlite: add audit entry: %w", err)
	}
	return nil
}

// Audit implements operator.Store.
func (db *DB) Audit(ctx context.Context, f operator.AuditFilter) ([]*operator.Entry, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	rows, err := db.query(ctx, `
		SELECT id, at, operator_id, operator_email, action, account_id, reason, ip, device, detail FROM audit_log
		WHERE (? = '' OR account_id = ?) AND (? = '' OR operator_id = ?) AND at >= ?
		ORDER BY at DESC, id DESC LIMIT ?`,
		f.AccountID, f.AccountID, f.OperatorID, f.OperatorID, f.Since.UnixMicro(), limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: read audit trail: %w", err)
	}
	defer rows.Close()
	var out []*operator.Entry
	for rows.Next() {
		var e operator.Entry
		var at sql.NullInt64
		var action string
		if err := rows.Scan(&e.ID, &at, &e.OperatorID, &e.OperatorEmail, &action, &e.AccountID, &e.Reason, &e.IP, &e.Device, &e.Detail); err != nil {
			return nil, fmt.Errorf("sqlite: read audit trail: %w", err)
		}
		e.At, e.Action = tm(at), operator.Action(action)
		out = append(out, &e)
	}
	return out, rows.Err()
}
