package method

import (
	"context"
	"errors"

	"gatehouse/internal/account"
	"gatehouse/internal/backup"
	"gatehouse/internal/limit"
	"gatehouse/internal/request"
)

// BackupCodes is what the backup-code method needs of package backup.
type BackupCodes interface {
	Use(ctx context.Context, accountID, typed string) error
	Left(ctx context.Context, accountID string) (int, error)
}

// BackupMethod is one of the account's backup codes, each usable once:
// the way back in when the other methods are lost.
type BackupMethod struct{ Codes BackupCodes }

// About implements Method: a look-up secret (NIST SP 800-63B-4 §3.1.2),
// a one-time password the holder keeps on paper ("otp"). It is a backstop:
// accepted on every two-step sign-in, never a way of its own.
func (BackupMethod) About() About {
	return About{Kind: Backup, AMR: "otp", Factor: true, Input: Phrase, Secret: limit.BackupCode, InTx: true, Backstop: true}
}

// Offer implements Method: backup codes never turn two-step verification
// on; they come with it (see About.Backstop).
func (BackupMethod) Offer(context.Context, *account.Account) (Offer, error) { return Off, nil }

// Destination implements Method: nothing is sent.
func (BackupMethod) Destination(*account.Account) string { return "" }

// Check implements Method: the code is used up by a conditional update, so
// it passes once on any node.
func (m BackupMethod) Check(ctx context.Context, ans *Answer) error {
	err := m.Codes.Use(ctx, ans.AccountID, ans.Code)
	if errors.Is(err, backup.ErrNoMatch) {
		return errors.Join(ErrWrong, err)
	}
	return err
}

// Announce implements Announcer: a code used that the holder did not use
// means someone has their list, so every use is told, with how many are
// left.
func (m BackupMethod) Announce(ctx context.Context, accountID string) (Notice, error) {
	left, err := m.Codes.Left(ctx, accountID)
	return Notice{Purpose: request.BackupUsed, Remaining: left}, err
}
