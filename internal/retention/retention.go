// Package retention deletes what Gatehouse no longer needs.
//
// Almost every request records something — a code, a message, a sign-in
// attempt, a device — and nothing else ever removes it: without pruning,
// /password/forgot at full speed grows the database by megabytes a second,
// and an installation's database grows for as long as it runs. So:
//
//   - codes (challenges) that expired or were used, pending sign-ups whose
//     code is dead, passkey ceremonies that expired unfinished (a finished
//     one is deleted as it is finished), authenticator-app enrolments never
//     confirmed, withheld messages (never
//     sent, kept only so that an answer costs the same writes either way)
//     and sessions that ended — revoked, idle or past their lifetime — are
//     deleted a day after they ended: long enough to answer "what was that
//     code?" the same day, short enough that they cannot pile up;
//   - the history a holder may consult — sign-in attempts and messages — is
//     kept for retention.history (400 days by default), and so are devices:
//     a device with no session left that was not seen for that long goes;
//   - deliveries to other programs (webhooks) that were sent or failed go
//     after DeliveryKeep (30 days).
//
// The work is done in small batches with a pause between them, because on
// SQLite every delete holds the one writer: a request queued behind a long
// delete would wait for all of it. Only one node prunes at a time (a
// PostgreSQL advisory lock; see Store.LockPruning): several nodes deleting
// the same rows would only compete for them.
package retention

import (
	"context"
	"log/slog"
	"time"
)

// Store is what pruning needs from the database. Each Prune method deletes
// at most limit rows that match and reports how many it deleted; the
// pruner calls it again until a call deletes fewer than limit.
type Store interface {
	// LockPruning takes the installation-wide pruning lock without
	// waiting: ok is false when another node holds it. unlock releases it.
	LockPruning(ctx context.Context) (unlock func(), ok bool, err error)
	// PruneSignups deletes pending sign-ups made before t whose code can no
	// longer be used (expired, used, or already pruned).
	PruneSignups(ctx context.Context, t time.Time, limit int) (int, error)
	// PruneChallenges deletes codes that expired, or were used, before t.
	PruneChallenges(ctx context.Context, t time.Time, limit int) (int, error)
	// PruneAuthRequests, PruneAccessTokens and PruneTokenFamilies delete the
	// OpenID provider's authorization requests and access tokens that
	// expired before t, and refresh-token families (with their tokens)
	// that expired or were revoked before t.
	PruneAuthRequests(ctx context.Context, t time.Time, limit int) (int, error)
	PruneAccessTokens(ctx context.Context, t time.Time, limit int) (int, error)
	PruneTokenFamilies(ctx context.Context, t time.Time, limit int) (int, error)
	// PruneWithheldMessages deletes withheld messages created before t.
	PruneWithheldMessages(ctx context.Context, t time.Time, limit int) (int, error)
	// PruneMessages deletes messages created before t that are no longer
	// being delivered (sent, failed or withheld).
	PruneMessages(ctx context.Context, t time.Time, limit int) (int, error)
	// PruneAttempts deletes sign-in attempts made before t.
	PruneAttempts(ctx context.Context, t time.Time, limit int) (int, error)
	// PruneSessions deletes sessions that ended before t: revoked, idle
	// for their whole idle timeout, or past their absolute expiry.
	PruneSessions(ctx context.Context, t time.Time, limit int) (int, error)
	// PruneDevices deletes devices last seen before t that no session
	// refers to.
	PruneDevices(ctx context.Context, t time.Time, limit int) (int, error)
	// PrunePasskeyCeremonies deletes passkey ceremonies that expired
	// before t.
	PrunePasskeyCeremonies(ctx context.Context, t time.Time, limit int) (int, error)
	// PruneAppEnrolments deletes authenticator apps begun before t and
	// never confirmed (an enrolment abandoned half-way; its sealed secret
	// has no use).
	PruneAppEnrolments(ctx context.Context, t time.Time, limit int) (int, error)
	// PruneLimitCounts deletes the limits' window counts, subjects seen
	// and sends recorded before t (the longest window is a day).
	PruneLimitCounts(ctx context.Context, t time.Time, limit int) (int, error)
	// PruneGuessCounters deletes guess counters not touched since t whose
	// delay has ended (their 30-day window is over by then).
	PruneGuessCounters(ctx context.Context, t time.Time, limit int) (int, error)
	// PruneLimitRefusals deletes refusals recorded before t.
	PruneLimitRefusals(ctx context.Context, t time.Time, limit int) (int, error)
	// PruneDeliveries deletes deliveries (webhooks, security event
	// tokens) created before t that are no longer being attempted (sent
	// or failed).
	PruneDeliveries(ctx context.Context, t time.Time, limit int) (int, error)
}

// Grace is how long codes, withheld messages and ended sessions are kept
// after they end.
const Grace = 24 * time.Hour

// DeliveryKeep is how long a delivery to another program (a webhook, a
// security event token) is kept once it was sent or failed: long enough
// to look into a receiver's complaint, not a history anyone reads.
const DeliveryKeep = 30 * 24 * time.Hour

// Defaults for the Pruner's zero fields.
const (
	DefaultBatch = 500
	DefaultPause = 20 * time.Millisecond
	DefaultEvery = time.Hour
	DefaultFirst = 2 * time.Minute
)

// Pruner runs the pruning. Only Store and History are required.
type Pruner struct {
	Store Store
	// History is how long attempts, messages and unused devices are kept
	// (retention.history).
	History time.Duration
	Log     *slog.Logger
	Now     func() time.Time
	// Batch is the most rows one statement deletes.
	Batch int
	// Pause is the wait between two batches, which lets the requests'
	// writes through on SQLite.
	Pause time.Duration
	// Every is the time between two passes; First is the wait before the
	// first one, so that pruning never slows a start.
	Every, First time.Duration
}

// Report says what one pass did.
type Report struct {
	// Ran is false when another node held the lock and nothing was done.
	Ran bool
	// Deleted counts the rows deleted, by table.
	Deleted map[string]int
}

// Total returns the number of rows deleted.
func (r Report) Total() int {
	n := 0
	for _, d := range r.Deleted {
		n += d
	}
	return n
}

func (p *Pruner) now() time.Time {
	if p.Now != nil {
		return p.Now().UTC()
	}
	return time.Now().UTC()
}

func (p *Pruner) log() *slog.Logger {
	if p.Log != nil {
		return p.Log
	}
	return slog.New(slog.DiscardHandler)
}

func orDefault[T int | time.Duration](v, def T) T {
	if v > 0 {
		return v
	}
	return def
}

// Once runs one pass if no other node is running one.
func (p *Pruner) Once(ctx context.Context) (Report, error) {
	unlock, ok, err := p.Store.LockPruning(ctx)
	if err != nil || !ok {
		return Report{}, err
	}
	defer unlock()
	now := p.now()
	short, long := now.Add(-Grace), now.Add(-p.History)
	rep := Report{Ran: true, Deleted: map[string]int{}}
	// Sessions before devices: a device can go only once its sessions have.
	for _, step := range []struct {
		table string
		prune func(context.Context, time.Time, int) (int, error)
		t     time.Time
	}{
		{"sessions", p.Store.PruneSessions, short},
		{"devices", p.Store.PruneDevices, long},
		{"signups", p.Store.PruneSignups, short},
		{"challenges", p.Store.PruneChallenges, short},
		{"oidc_auth_requests", p.Store.PruneAuthRequests, short},
		{"oidc_access_tokens", p.Store.PruneAccessTokens, short},
		{"oidc_token_families", p.Store.PruneTokenFamilies, short},
		{"webauthn_ceremonies", p.Store.PrunePasskeyCeremonies, short},
		{"totp_apps (never confirmed)", p.Store.PruneAppEnrolments, short},
		{"withheld messages", p.Store.PruneWithheldMessages, short},
		{"messages", p.Store.PruneMessages, long},
		{"signin_attempts", p.Store.PruneAttempts, long},
		// The limits: counts of windows that ended (a day at most), and
		// guess counters untouched for longer than their 30-day window.
		{"limit counts", p.Store.PruneLimitCounts, now.Add(-2 * 24 * time.Hour)},
		{"guess_counters", p.Store.PruneGuessCounters, now.Add(-31 * 24 * time.Hour)},
		{"limit_refusals", p.Store.PruneLimitRefusals, long},
		{"deliveries", p.Store.PruneDeliveries, now.Add(-DeliveryKeep)},
	} {
		n, err := p.batches(ctx, step.prune, step.t)
		if n > 0 {
			rep.Deleted[step.table] += n
		}
		if err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// batches calls prune until a batch comes back short, pausing in between.
func (p *Pruner) batches(ctx context.Context, prune func(context.Context, time.Time, int) (int, error), t time.Time) (int, error) {
	batch, pause := orDefault(p.Batch, DefaultBatch), orDefault(p.Pause, DefaultPause)
	total := 0
	for {
		n, err := prune(ctx, t, batch)
		total += n
		if err != nil || n < batch {
			return total, err
		}
		select {
		case <-ctx.Done():
			return total, ctx.Err()
		case <-time.After(pause):
		}
	}
}

// Run prunes once shortly after it starts and then periodically, until ctx
// is cancelled. Failures are logged and retried at the next pass.
func (p *Pruner) Run(ctx context.Context) {
	timer := time.NewTimer(orDefault(p.First, DefaultFirst))
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		start := time.Now()
		rep, err := p.Once(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			p.log().Warn("pruning failed; trying again at the next pass", "err", err, "deleted", rep.Deleted)
		case rep.Total() > 0:
			p.log().Info("pruned data past its retention", "deleted", rep.Deleted, "took", time.Since(start).Round(time.Millisecond))
		case !rep.Ran && err == nil:
			p.log().Debug("pruning skipped: another node is pruning")
		}
		timer.Reset(orDefault(p.Every, DefaultEvery))
	}
}
