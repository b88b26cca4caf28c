package postgres

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// notifyChannel carries session and account changes between nodes.
const notifyChannel = "gatehouse_sessions"

// Changes is told about changes made on any node: a revoked session, or an
// account whose sessions or record changed. Flush is called when
// notifications may have been missed (the listening connection broke, or
// had only just started listening), so the receiver must forget everything
// it cached.
type Changes interface {
	EvictSession(id string)
	EvictAccount(id string)
	Flush()
}

// notify queues, in tx, the notification that makes every node forget
// what it cached about a session ("session") or about an account and all
// its sessions ("account"). PostgreSQL delivers it when tx commits, and
// never if tx rolls back, so a node can never forget too early, nor be
// told of a change that did not happen.
//
// Every write that changes what a cached session.Session or its Account
// says must call it (or, in one statement, pg_notify itself) in the same
// transaction: SetStatus, SetPreferences and SetPasswordHash (through
// updateAccount or directly), RevokeSession and RevokeAccountSessions.
func notify(ctx context.Context, tx pgx.Tx, kind, id string) error {
	_, err := tx.Exec(ctx, `SELECT pg_notify('`+notifyChannel+`', $1)`, kind+":"+id)
	return err
}

// Listen delivers notifications to c until ctx ends, reconnecting (and
// flushing c) whenever the connection breaks.
func (db *DB) Listen(ctx context.Context, c Changes, log *slog.Logger) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := db.listenOnce(ctx, c)
		if ctx.Err() != nil {
			return
		}
		c.Flush()
		log.Warn("session notifications interrupted; cache flushed, reconnecting", "err", err, "retry_in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

func (db *DB) listenOnce(ctx context.Context, c Changes) error {
	conn, err := pgx.ConnectConfig(ctx, db.pool.Config().ConnConfig.Copy())
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+notifyChannel); err != nil {
		return err
	}
	// Anything cached before LISTEN took effect may have missed a change.
	c.Flush()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		switch kind, id, _ := strings.Cut(n.Payload, ":"); kind {
		case "session":
			c.EvictSession(id)
		case "account":
			c.EvictAccount(id)
		}
	}
}
