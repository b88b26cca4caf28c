package check

import (
	"context"
	"errors"
	"fmt"
	"strings"
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
	// Lookalikes are the hosts the checker found imitating ours (the
	// sender's domain, a link's), kept in the clear when the report is
	// filed: the operators' takedown list is read without opening any
	// report's sealed content.
	Lookalikes []string
	// Review is an operator's verdict (Reviews), "" until one is given;
	// HandledAt and HandledBy say when and by whom (the operator's address
	// as it was) the report was marked handled.
	Review    Review
	HandledAt time.Time
	HandledBy string
}

// Review is an operator's verdict on a reported message.
type Review string

// Reviews.
const (
	ReviewPhishing Review = "phishing" // an imitation of us: act on its domains
	ReviewGenuine  Review = "genuine"  // one of our own messages
	ReviewOther    Review = "other"    // neither (spam, another service's mail)
)

// Reviews lists every verdict an operator may give.
var Reviews = []Review{ReviewPhishing, ReviewGenuine, ReviewOther}

// ErrReportNotFound is returned for an unknown report id.
var ErrReportNotFound = errors.New("check: no such report")

// ErrReportHandled: the report has its verdict already. The first verdict
// stands — of two operators judging at once, or a page pressed twice, one
// decides — and the holder hears of it once.
var ErrReportHandled = errors.New("check: the report was handled already")

// ReportStore keeps reports.
type ReportStore interface {
	FileReport(ctx context.Context, r *Report) error
	// AccountReports returns an account's reports, newest first.
	AccountReports(ctx context.Context, accountID string, limit int) ([]*Report, error)
	// RecentReports returns every account's reports, newest first (the
	// operator's view).
	RecentReports(ctx context.Context, limit int) ([]*Report, error)
	// ReportByID returns one report, or ErrReportNotFound.
	ReportByID(ctx context.Context, id string) (*Report, error)
	// ReviewReport records an operator's verdict on a report and marks it
	// handled; ErrReportNotFound for an unknown id, ErrReportHandled for one
	// handled already (a conditional update).
	ReviewReport(ctx context.Context, id string, review Review, by string, at time.Time) error
}

// Sealer seals reported content (crypt.Box): a reported message can hold
// personal details, and is kept only sealed.
type Sealer interface {
	Seal(plaintext, ad []byte) []byte
}

// Reports files what holders report from the checker. The pages, the admin
// API and the console all file and read reports through it.
type Reports struct {
	Checker *Checker
	Store   ReportStore
	Box     Sealer
	// Now is the time a report is filed at.
	Now func() time.Time
	// NewID returns a fresh report id (random.ID).
	NewID func() string
}

// File checks in again — the verdict filed is the server's, never one a
// form claims — and keeps it, sealed, on the holder's account, with the
// network it came from. It returns the report and the check's result (the
// page shows the verdict again). Errors are the checker's (ErrEmpty,
// ErrNotEmail, ErrTooLarge) or the store's.
func (r *Reports) File(ctx context.Context, accountID, ip string, in Input, lang string) (*Report, *Result, error) {
	res, err := r.Checker.Check(ctx, in, lang)
	if err != nil {
		return nil, nil, fmt.Errorf("check: file report: %w", err)
	}
	kind, content := "reference", []byte(in.Reference)
	switch {
	case in.Raw != nil:
		kind, content = "eml", in.Raw
	case strings.TrimSpace(in.Text) != "":
		kind, content = "text", []byte(in.Text)
	}
	id := r.NewID()
	rep := &Report{ID: id, AccountID: accountID, CreatedAt: r.Now(), Kind: kind, Verdict: res.Verdict,
		Reference: res.Reference, Content: r.Box.Seal(content, []byte("report:"+id)), IP: ip}
	for _, x := range res.Reasons {
		rep.Reasons = append(rep.Reasons, x.Code)
	}
	rep.Lookalikes = res.Lookalikes
	if err := r.Store.FileReport(ctx, rep); err != nil {
		return nil, nil, fmt.Errorf("check: file report: %w", err)
	}
	return rep, res, nil
}

// Of returns the holder's reports, newest first, at most limit.
func (r *Reports) Of(ctx context.Context, accountID string, limit int) ([]*Report, error) {
	reps, err := r.Store.AccountReports(ctx, accountID, limit)
	if err != nil {
		return nil, fmt.Errorf("check: reports: %w", err)
	}
	return reps, nil
}
