package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"gatehouse/internal/check"
	"gatehouse/internal/outbox"
)

var (
	_ outbox.RawStore   = (*DB)(nil)
	_ check.ReportStore = (*DB)(nil)
)

// KeepRaw implements outbox.RawStore.
func (db *DB) KeepRaw(ctx context.Context, messageID string, sealed []byte) error {
	_, err := db.conn(ctx).Exec(ctx, `INSERT INTO message_raw (message_id, raw) VALUES ($1, $2)
		ON CONFLICT (message_id) DO UPDATE SET raw = excluded.raw`, messageID, sealed)
	if err != nil {
		return fmt.Errorf("postgres: keep raw message: %w", err)
	}
	return nil
}

// RawMessage implements outbox.RawStore.
func (db *DB) RawMessage(ctx context.Context, messageID string) ([]byte, error) {
	var raw []byte
	err := db.conn(ctx).QueryRow(ctx, `SELECT raw FROM message_raw WHERE message_id = $1`, messageID).Scan(&raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, outbox.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: read raw message: %w", err)
	}
	return raw, nil
}

const reportColumns = `id, account_id, created_at, kind, verdict, reasons, reference, content, ip, lookalikes, review, handled_at, handled_by`

// FileReport implements check.ReportStore.
func (db *DB) FileReport(ctx context.Context, r *check.Report) error {
	_, err := db.conn(ctx).Exec(ctx, `INSERT INTO reports (`+reportColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		r.ID, r.AccountID, ts(r.CreatedAt), r.Kind, string(r.Verdict), strings.Join(r.Reasons, " "), r.Reference, r.Content, r.IP,
		strings.Join(r.Lookalikes, " "), string(r.Review), ts(r.HandledAt), r.HandledBy)
	if err != nil {
		return fmt.Errorf("postgres: file report: %w", err)
	}
	return nil
}

// AccountReports implements check.ReportStore.
func (db *DB) AccountReports(ctx context.Context, accountID string, limit int) ([]*check.Report, error) {
	return db.reports(ctx, `SELECT `+reportColumns+` FROM reports WHERE account_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2`, accountID, limit)
}

// RecentReports implements check.ReportStore.
func (db *DB) RecentReports(ctx context.Context, limit int) ([]*check.Report, error) {
	return db.reports(ctx, `SELECT `+reportColumns+` FROM reports ORDER BY created_at DESC, id DESC LIMIT $1`, limit)
}

func (db *DB) reports(ctx context.Context, query string, args ...any) ([]*check.Report, error) {
	rows, err := db.conn(ctx).Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: read reports: %w", err)
	}
	defer rows.Close()
	var out []*check.Report
	for rows.Next() {
		var r check.Report
		var created time.Time
		var handled *time.Time
		var verdict, reasons, lookalikes, review string
		if err := rows.Scan(&r.ID, &r.AccountID, &created, &r.Kind, &verdict, &reasons, &r.Reference, &r.Content, &r.IP,
			&lookalikes, &review, &handled, &r.HandledBy); err != nil {
			return nil, fmt.Errorf("postgres: read reports: %w", err)
		}
		r.CreatedAt, r.Verdict, r.Reasons = created.UTC(), check.Verdict(verdict), strings.Fields(reasons)
		r.Lookalikes, r.Review, r.HandledAt = strings.Fields(lookalikes), check.Review(review), utc(handled)
		out = append(out, &r)
	}
	return out, rows.Err()
}

// ReportByID implements check.ReportStore.
func (db *DB) ReportByID(ctx context.Context, id string) (*check.Report, error) {
	reps, err := db.reports(ctx, `SELECT `+reportColumns+` FROM reports WHERE id = $1`, id)
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
	tag, err := db.conn(ctx).Exec(ctx, `UPDATE reports SET review = $1, handled_by = $2, handled_at = $3 WHERE id = $4 AND handled_at IS NULL`, string(review), by, ts(at), id)
	if err != nil {
		return fmt.Errorf("postgres: review report: %w", err)
	}
	if tag.RowsAffected() == 0 {
		if _, err := db.ReportByID(ctx, id); err != nil {
			return err
		}
		return check.ErrReportHandled
	}
	return nil
}
