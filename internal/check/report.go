package check

import (
	"context"
	"time"
)

// Report is a message a signed-in holder chose to report from the
// checker: the only way pasted content is ever kept.
type Report struct {
	ID        string
	AccountID string
	CreatedAt time.Time
	Kind      string // "eml", "text" or "reference"
	Verdict   Verdict
	Reasons   []string // reason codes
	Reference string   // the reference the content carried, if any
	// Content is what was checked, sealed with the installation key (AAD
	// the report id): a reported message can hold personal details.
	Content []byte
	IP      string
}

// ReportStore keeps reports.
type ReportStore interface {
	FileReport(ctx context.Context, r *Report) error
	// AccountReports returns an account's reports, newest first.
	AccountReports(ctx context.Context, accountID string, limit int) ([]*Report, error)
	// RecentReports returns every account's reports, newest first (the
	// operator's view).
	RecentReports(ctx context.Context, limit int) ([]*Report, error)
}
