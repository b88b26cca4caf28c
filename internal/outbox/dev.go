package outbox

import "context"

// DevDriver delivers nothing, on any channel: the stored message is all there is, and the
// /dev/messages page lists it. It is the default, so a fresh installation
// never sends mail to real people by accident.
type DevDriver struct{}

// Name implements Driver.
func (DevDriver) Name() string { return "dev" }

// KeepsCode implements Driver: the /dev/messages list is this driver's
// delivery, and it shows the code for as long as the message is listed.
func (DevDriver) KeepsCode() bool { return true }

// Send implements Driver; the message is already stored.
func (DevDriver) Send(context.Context, *Message) error { return nil }
