package outbox

import (
	"context"
	"fmt"

	"gatehouse/internal/crypt"
	"gatehouse/internal/request"
)

// DevDriver delivers nothing, on any channel: the stored message is all there is, and the
// /dev/messages page lists it. It is the default, so a fresh installation
// never sends mail to real people by accident.
//
// With a Mailer it also keeps each email's raw bytes — written and signed
// exactly as the SMTP driver would send them — for /dev/messages/{reference}.eml,
// so that the checker and DKIM verifiers can be tried on real mail without
// a mail server.
type DevDriver struct {
	Mailer *Mailer
	Raw    RawStore
	Box    *crypt.Box // seals the raw bytes, which hold the code
}

// RawStore keeps the raw bytes of the emails the development driver
// delivered.
type RawStore interface {
	// KeepRaw stores a message's sealed raw bytes (replacing earlier ones:
	// a retry writes the message again).
	KeepRaw(ctx context.Context, messageID string, sealed []byte) error
	// RawMessage returns them, or ErrNotFound.
	RawMessage(ctx context.Context, messageID string) ([]byte, error)
}

// Name implements Driver.
func (DevDriver) Name() string { return "dev" }

// KeepsCode implements Driver: the /dev/messages list is this driver's
// delivery, and it shows the code for as long as the message is listed.
func (DevDriver) KeepsCode() bool { return true }

// Send implements Driver; the message is already stored, and an email's
// raw bytes are kept when the driver has a Mailer.
func (d DevDriver) Send(ctx context.Context, m *Message) error {
	if d.Mailer == nil || m.Channel != request.Email {
		return nil
	}
	raw, err := d.Mailer.Build(m)
	if err != nil {
		return err
	}
	if err := d.Raw.KeepRaw(ctx, m.ID, d.Box.Seal(raw, rawAAD(m.ID))); err != nil {
		return fmt.Errorf("dev driver: keep raw message: %w", err)
	}
	return nil
}

// OpenRaw returns the raw bytes the development driver kept for a message.
func (d DevDriver) OpenRaw(ctx context.Context, messageID string) ([]byte, error) {
	sealed, err := d.Raw.RawMessage(ctx, messageID)
	if err != nil {
		return nil, err
	}
	return d.Box.Open(sealed, rawAAD(messageID))
}

// rawAAD binds sealed raw bytes to their message, and apart from the
// message's sealed code (whose AAD is the bare id).
func rawAAD(id string) []byte { return []byte("raw:" + id) }
