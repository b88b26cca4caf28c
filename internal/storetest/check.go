package storetest

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"gatehouse/internal/check"
	"gatehouse/internal/outbox"
	"gatehouse/internal/random"
	"gatehouse/internal/request"
)

// testRawAndReports: the development driver's raw emails are kept per
// message (a retry replaces them) and go with the message; reports are
// listed per account and for the operator, newest first.
func testRawAndReports(t *testing.T, s ActivityStore) {
	ctx := context.Background()
	m := &outbox.Message{ID: random.ID(), Reference: random.Reference(), Purpose: request.PasswordChanged, Channel: request.Email,
		To: "raw@example.com", CreatedAt: t0, Status: outbox.Queued, NextAttemptAt: t0}
	if err := s.EnqueueMessage(ctx, m); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RawMessage(ctx, m.ID); !errors.Is(err, outbox.ErrNotFound) {
		t.Fatalf("raw before delivery: %v", err)
	}
	for _, raw := range [][]byte{[]byte("first\x00bytes"), []byte("second")} {
		if err := s.KeepRaw(ctx, m.ID, raw); err != nil {
			t.Fatal(err)
		}
		if got, err := s.RawMessage(ctx, m.ID); err != nil || !bytes.Equal(got, raw) {
			t.Fatalf("raw: %q %v", got, err)
		}
	}

	a, b := newAccount("reports-a@example.com"), newAccount("reports-b@example.com")
	s.CreateAccount(ctx, a)
	s.CreateAccount(ctx, b)
	for i, acc := range []string{a.ID, b.ID, a.ID} {
		r := &check.Report{ID: random.ID(), AccountID: acc, CreatedAt: t0.Add(time.Duration(i) * time.Minute), Kind: "text",
			Verdict: check.NotOurs, Reasons: []string{"link_lookalike", "pressure"}, Reference: "GH-2345-6789-ABCD", Content: []byte{1, 2, 3}, IP: "192.0.2.9"}
		if err := s.FileReport(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	mine, err := s.AccountReports(ctx, a.ID, 10)
	if err != nil || len(mine) != 2 || !mine[0].CreatedAt.Equal(t0.Add(2*time.Minute)) || mine[0].Verdict != check.NotOurs ||
		len(mine[0].Reasons) != 2 || mine[0].Reasons[1] != "pressure" || !bytes.Equal(mine[0].Content, []byte{1, 2, 3}) {
		t.Fatalf("account reports: %+v %v", mine, err)
	}
	all, err := s.RecentReports(ctx, 2)
	if err != nil || len(all) != 2 || all[0].AccountID != a.ID || all[1].AccountID != b.ID {
		t.Fatalf("recent reports: %+v %v", all, err)
	}
	// A verdict: the first stands; a second is refused, an unknown report
	// is not found.
	if err := s.ReviewReport(ctx, all[0].ID, check.ReviewPhishing, "op@example.com", t0); err != nil {
		t.Fatal(err)
	}
	if err := s.ReviewReport(ctx, all[0].ID, check.ReviewGenuine, "other@example.com", t0.Add(time.Minute)); !errors.Is(err, check.ErrReportHandled) {
		t.Fatalf("a second verdict: %v, want check.ErrReportHandled", err)
	}
	if r, err := s.ReportByID(ctx, all[0].ID); err != nil || r.Review != check.ReviewPhishing || r.HandledBy != "op@example.com" || !r.HandledAt.Equal(t0) {
		t.Fatalf("the report after two verdicts: %+v %v", r, err)
	}
	if err := s.ReviewReport(ctx, "no-such-report", check.ReviewPhishing, "op@example.com", t0); !errors.Is(err, check.ErrReportNotFound) {
		t.Fatalf("a verdict on no report: %v", err)
	}
}
