package app

import "time"

// outboxPoll is how often an idle outbox worker looks for due messages
// queued by another node (its own node wakes it at once).
const outboxPoll = time.Second
