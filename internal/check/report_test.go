package check_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"gatehouse/internal/account"
	"gatehouse/internal/check"
	"gatehouse/internal/crypt"
	"gatehouse/internal/notice"
	"gatehouse/internal/request"
)

// TestReports_FileChecksAgainAndSealsTheContent: a report is filed with the
// server's own verdict (checked again, never taken from a form), its kind
// read from the input, and its content sealed — the plain text of a pasted
// message is never stored. A refused input files nothing.
func TestReports_FileChecksAgainAndSealsTheContent(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	a := &account.Account{ID: "acc-r", Email: "rep@example.com", Status: account.Active, CreatedAt: e.now, PasswordChangedAt: e.now, Language: "en"}
	if err := e.db.CreateAccount(ctx, a); err != nil {
		t.Fatal(err)
	}
	box, err := crypt.New(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	reps := &check.Reports{Checker: e.checker, Store: e.db, Box: box, Now: func() time.Time { return e.now },
		NewID: func() string { n++; return fmt.Sprintf("rep-%d", n) }}

	msg, _ := e.send(t, notice.Notice{Purpose: request.SecondStep, Cause: request.PasswordKnown, To: "rep@example.com", Language: "en", AccountID: "acc-r"})
	phish := "Your account is locked. Sign in at https://gatehouse-login.example/verify to keep it. Ref " + msg.Reference
	rep, res, err := reps.File(ctx, a.ID, "192.0.2.7", check.Input{Text: phish}, "en")
	if err != nil {
		t.Fatal(err)
	}
	if rep.Kind != "text" || rep.Verdict != res.Verdict || rep.Verdict == check.Genuine || rep.IP != "192.0.2.7" || rep.AccountID != a.ID {
		t.Fatalf("report %+v for result %+v", rep, res)
	}
	if bytes.Contains(rep.Content, []byte("locked")) {
		t.Fatal("the content was stored in the clear")
	}
	if plain, err := box.Open(rep.Content, []byte("report:"+rep.ID)); err != nil || string(plain) != phish {
		t.Fatalf("sealed content does not open to the paste: %q %v", plain, err)
	}
	if ref, _, err := reps.File(ctx, a.ID, "192.0.2.7", check.Input{Reference: msg.Reference}, "en"); err != nil || ref.Kind != "reference" {
		t.Fatalf("a reference: %+v %v", ref, err)
	}
	if _, _, err := reps.File(ctx, a.ID, "192.0.2.7", check.Input{Text: "   "}, "en"); !errors.Is(err, check.ErrEmpty) {
		t.Fatalf("empty input: %v", err)
	}
	got, err := reps.Of(ctx, a.ID, 10)
	if err != nil || len(got) != 2 {
		t.Fatalf("reports kept: %d %v", len(got), err)
	}
}
