package app

import "time"

// Outbox timing. The lease must outlast one delivery attempt (the SMTP
// driver gives up after half of it), so a message whose worker died is
// retried by another worker — or after a restart — once the lease ends.
const (
	outboxLease = 2 * time.Minute
	outboxPoll  = time.Second
)
