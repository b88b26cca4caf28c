// Package checkup is the security checkup: what in an account's state needs
// its holder's attention, most important first, each with the page (or
// form) that fixes it. The holder's checkup page shows it; an operator's
// console or an API can read the same list, since none of it is about a
// page.
package checkup

import (
	"context"
	"time"

	"gatehouse/internal/account"
	"gatehouse/internal/clock"
	"gatehouse/internal/device"
	"gatehouse/internal/limit"
	"gatehouse/internal/signin"
)

// Window is how far back the checkup looks for new devices, and how long a
// trusted browser may go unused before it is an item.
const Window = 30 * 24 * time.Hour

// Item is one thing to look at. Its sentence is "security.todo."+ID in the
// catalog, taking Count (and, for "guessed", the secret's name) where it
// has a number; the way to fix it is a page (Link) or a form posting
// Field=Value to Action.
type Item struct {
	ID     string
	Count  int
	Secret limit.Secret // "guessed": which secret was guessed at
	Link   string
	// Action, Field and Value are a form that fixes it, when it is one.
	Action, Field, Value string
	// NotMe is an attempt the item also answers "this wasn't me" about.
	NotMe string
}

// Service reads what the checkup needs from the capabilities that own it.
type Service struct {
	Limits interface {
		AccountState(ctx context.Context, accountID string) (map[limit.Secret]int, error)
	}
	TwoStep interface {
		Ways(ctx context.Context, a *account.Account) ([]signin.Method, error)
	}
	Backup interface {
		Left(ctx context.Context, accountID string) (int, error)
	}
	Devices interface {
		AccountDevices(ctx context.Context, accountID string) ([]device.AccountDevice, error)
	}
	Activity interface {
		Unfinished(ctx context.Context, accountID, deviceID string) (int, string, error)
	}
	Clock clock.Clock
}

// Items returns the account's items, most important first, for the holder
// reading on deviceID (their own device is never "a new device").
func (s *Service) Items(ctx context.Context, a *account.Account, deviceID string) ([]Item, error) {
	now := s.Clock.Now()
	var items []Item
	add := func(id, link string, n int) { items = append(items, Item{ID: id, Link: link, Count: n}) }
	if !a.PasswordCompromisedAt.IsZero() {
		add("password_compromised", "/account/password", 0)
	}
	// A run of wrong guesses at the ceiling (NIST SP 800-63B-4: 100):
	// someone is trying hard; the holder's own browsers are not slowed.
	tried, err := s.Limits.AccountState(ctx, a.ID)
	if err != nil {
		return nil, err
	}
	for _, sec := range limit.Secrets {
		if n, ok := tried[sec]; ok {
			items = append(items, Item{ID: "guessed", Link: "/account/activity?failed=1", Count: n, Secret: sec})
		}
	}
	ways, err := s.TwoStep.Ways(ctx, a)
	if err != nil {
		return nil, err
	}
	if len(ways) == 0 {
		add("two_step_off", "/account/two-step", 0)
	}
	devs, err := s.Devices.AccountDevices(ctx, a.ID)
	if err != nil {
		return nil, err
	}
	fresh, stale := 0, 0
	for _, d := range devs {
		if d.ID != deviceID && now.Sub(d.FirstUsed) < Window && d.Name == "" {
			fresh++
		}
		if now.Before(d.TrustedUntil) && now.Sub(d.LastUsed) > Window {
			stale++
		}
	}
	if n, newest, err := s.Activity.Unfinished(ctx, a.ID, deviceID); err != nil {
		return nil, err
	} else if n > 0 {
		// Answered where it is listed: change the password, or say the
		// newest wasn't the holder (which also asks for a new one).
		items = append(items, Item{ID: "password_entered", Link: "/account/password", Count: n, NotMe: newest})
	}
	if fresh > 0 {
		add("unknown_devices", "/account/devices", fresh)
	}
	if len(ways) == 1 && ways[0] == signin.SMS {
		add("sms_only", "/account/two-step", 0)
	}
	if len(ways) > 0 {
		left, err := s.Backup.Left(ctx, a.ID)
		if err != nil {
			return nil, err
		}
		switch {
		case left == 0:
			add("no_backup", "/account/two-step", 0)
		case left <= 3:
			add("few_backup", "/account/two-step", left)
		}
	}
	if a.Alerts.Off() {
		items = append(items, Item{ID: "alerts_off", Action: "/account/alerts", Field: "email", Value: "1"})
	}
	if a.Phone != "" && a.PhoneConfirmedAt.IsZero() {
		add("phone_unconfirmed", "/account/two-step/phone", 0)
	}
	if stale > 0 {
		// To the list of trusted browsers, each with its own "stop
		// trusting": the checkup does not pick which ones for the holder.
		add("stale_trust", "/account#trusted-browsers", stale)
	}
	return items, nil
}
