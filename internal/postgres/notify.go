package postgres

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
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

// accountNotice starts the notice the account-change triggers (migration
// 0018) raise to the writing connection, followed by the account's id.
const accountNotice = "gatehouse account changed: "

// onNotice hears the account-change triggers' notices on the connection
// that writes: this node forgets the account at once, while the change is
// written, rather than when its notification comes back (a few
// milliseconds after the commit), so that the browser that made a change
// sees it on the page it is sent to next. A request reading the account in
// the moment between the write and the commit may keep what it read; the
// notification, after the commit, makes this node forget it again.
func (db *DB) onNotice(_ *pgconn.PgConn, n *pgconn.Notice) {
	id, ok := strings.CutPrefix(n.Message, accountNotice)
	if !ok {
		return
	}
	if c := db.local.Load(); c != nil {
		(*c).EvictAccount(id)
	}
}

// Listen delivers notifications to c until ctx ends, reconnecting (and
// flushing c) whenever the connection breaks. This node's own account
// changes reach c as they are written, too (see onNotice).
func (db *DB) Listen(ctx context.Context, c Changes, log *slog.Logger) {
	db.local.Store(&c)
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
