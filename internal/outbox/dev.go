package outbox

import "context"

// DevDriver delivers nothing: the stored message is all there is, and the
// /dev/messages page lists it. It is the default, so a fresh installation
// never sends mail to real people by accident.
type DevDriver struct{}

// Name implements Driver.
func (DevDriver) Name() string { return "dev" }

// Send implements Driver; the message is already stored.
func (DevDriver) Send(context.Context, *Message) error { return nil }
