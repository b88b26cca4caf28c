package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"gatehouse/internal/check"
	"gatehouse/internal/outbox"
)

var (
	_ outbox.RawStore   = (*DB)(nil)
	_ check.ReportStore = (*DB)(nil)
)

// KeepRaw implements outbox.RawStore.
func (db *DB) KeepRaw(ctx context.Context, messageID string, sealed []byte) error {
	_, err := db.exec(ctx, `INSERT INTO message_raw (message_id, raw) VALUES (?, ?)
		ON CONFLICT (message_id) DO UPDATE SET raw = excluded.raw`, messageID, sealed)
	if err != nil {
		return fmt.Errorf("sqlite: keep raw message: %w", err)
	}
	return nil
}

// RawMessage implements outbox.RawStore.
func (db *DB) RawMessage(ctx context.Context, messageID string) ([]byte, error) {
	var raw []byte
	err := db.readRow(ctx, `SELECT raw FROM message_raw WHERE message_id = ?`, messageID).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, outbox.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: read raw message: %w", err)
	}
	return raw, nil
}

const reportColumns = `id, account_id, created_at, kind, verdict, reasons, reference, content, ip, lookalikes, review, handled_at, handled_by`

// FileReport implements check.ReportStore.
func (db *DB) FileReport(ctx context.Context, r *check.Report) error {
	_, err := db.exec(ctx, `INSERT INTO reports (`+reportColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.ID, r.AccountID, us(r.CreatedAt), r.Kind, string(r.Verdict), strings.Join(r.Reasons, " "), r.Reference, r.Content, r.IP,
		strings.Join(r.Lookalikes, " "), string(r.Review), us(r.HandledAt), r.HandledBy)
	if err != nil {
		return fmt.Errorf("sqlite: file report: %w", err)
	}
	return nil
}

// AccountReports implements check.ReportStore.
func (db *DB) AccountReports(ctx context.Context, accountID string, limit int) ([]*check.Report, error) {
	return db.reports(ctx, `SELECT `+reportColumns+` FROM reports WHERE account_id = ? ORDER BY created_at DESC, id DESC LIMIT ?`, accountID, limit)
}

// RecentReports implements check.ReportStore.
func (db *DB) RecentReports(ctx context.Context, limit int) ([]*check.Report, error) {
	return db.reports(ctx, `SELECT `+reportColumns+` FROM reports ORDER BY created_at DESC, id DESC LIMIT ?`, limit)
}

func (db *DB) reports(ctx context.Context, query string, args ...any) ([]*check.Report, error) {
	rows, err := db.query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: read reports: %w", err)
	}
	defer rows.Close()
	var out []*check.Report
	for rows.Next() {
		var r check.Report
		var created int64
		var handled sql.NullInt64
		var verdict, reasons, lookalikes, review string
		if err := rows.Scan(&r.ID, &r.AccountID, &created, &r.Kind, &verdict, &reasons, &r.Reference, &r.Content, &r.IP,
			&lookalikes, &review, &handled, &r.HandledBy); err != nil {
			return nil, fmt.Errorf("sqlite: read reports: %w", err)
		}
		r.CreatedAt, r.Verdict, r.Reasons = tm(sql.NullInt64{Int64: created, Valid: true}), check.Verdict(verdict), strings.Fields(reasons)
		r.Lookalikes, r.Review, r.HandledAt = strings.Fields(lookalikes), check.Review(review), tm(handled)
		out = append(out, &r)
	}
	return out, rows.Err()
}

// ReportByID implements check.ReportStore.
func (db *DB) ReportByID(ctx context.Context, id string) (*check.Report, error) {
	reps, err := db.reports(ctx, `SELECT `+reportColumns+` FROM reports WHERE id = ?`, id)
	if err != nil {
		return nil, err
	}
	if len(reps) == 0 {
		return nil, check.ErrReportNotFound
	}
	return reps[0], nil
}

// ReviewReport implements check.ReportStore.
func (db *DB) ReviewReport(ctx context.Context, id string, review check.Review, by string, at time.Time) error {
	res, err := db.exec(ctx, `UPDATE reports SET review = ?, handled_by = ?, handled_at = ? WHERE id = ? AND handled_at IS NULL`, string(review), by, us(at), id)
	if err != nil {
		return fmt.Errorf("sqlite: review report: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if _, err := db.ReportByID(ctx, id); err != nil {
			return err
		}
		return check.ErrReportHandled
	}
	return nil
}
