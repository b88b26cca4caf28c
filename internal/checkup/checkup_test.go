package checkup_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"gatehouse/internal/account"
	"gatehouse/internal/checkup"
	"gatehouse/internal/clock"
	"gatehouse/internal/device"
	"gatehouse/internal/limit"
	"gatehouse/internal/signin"
)

type fakes struct {
	tried    map[limit.Secret]int
	ways     []signin.Method
	left     int
	devs     []device.AccountDevice
	pending  int
	newestAt string
}

func (f *fakes) AccountState(context.Context, string) (map[limit.Secret]int, error) {
	return f.tried, nil
}
func (f *fakes) Ways(context.Context, *account.Account) ([]signin.Method, error) { return f.ways, nil }
func (f *fakes) Left(context.Context, string) (int, error)                       { return f.left, nil }
func (f *fakes) AccountDevices(context.Context, string) ([]device.AccountDevice, error) {
	return f.devs, nil
}
func (f *fakes) Unfinished(context.Context, string, string) (int, string, error) {
	return f.pending, f.newestAt, nil
}

// TestItems_FromTheAccountsState: each state gives its item, in the order
// of importance, with its count and its way to fix it; a healthy account
// gives none.
func TestItems_FromTheAccountsState(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	clk := clock.NewFake(now).Clock()
	recent, old := now.Add(-24*time.Hour), now.Add(-60*24*time.Hour)
	for _, c := range []struct {
		name   string
		acc    account.Account
		f      fakes
		want   []string
		counts map[string]int
		notMe  string
	}{
		{name: "healthy", acc: account.Account{Alerts: account.Alerts{Email: true}}, f: fakes{ways: []signin.Method{signin.App}, left: 10}},
		{name: "two-step off", acc: account.Account{Alerts: account.Alerts{Email: true}}, want: []string{"two_step_off"}},
		{
			name: "everything at once",
			acc:  account.Account{PasswordCompromisedAt: recent, Phone: "+819012345678"},
			f: fakes{
				tried: map[limit.Secret]int{limit.Password: 100}, ways: []signin.Method{signin.SMS}, left: 2,
				devs: []device.AccountDevice{
					{Device: device.Device{ID: "here"}, FirstUsed: recent},
					{Device: device.Device{ID: "new"}, FirstUsed: recent},
					{Device: device.Device{ID: "named"}, FirstUsed: recent, Name: "Work laptop"},
					{Device: device.Device{ID: "stale"}, FirstUsed: old, LastUsed: old, TrustedUntil: now.Add(time.Hour)},
				},
				pending: 2, newestAt: "attempt-9",
			},
			want:   []string{"password_compromised", "guessed", "password_entered", "unknown_devices", "sms_only", "few_backup", "alerts_off", "phone_unconfirmed", "stale_trust"},
			counts: map[string]int{"guessed": 100, "password_entered": 2, "unknown_devices": 1, "few_backup": 2, "stale_trust": 1},
			notMe:  "attempt-9",
		},
		{name: "no backup codes left", acc: account.Account{Alerts: account.Alerts{Email: true}}, f: fakes{ways: []signin.Method{signin.App}}, want: []string{"no_backup"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := c.f
			s := &checkup.Service{Limits: &f, TwoStep: &f, Backup: &f, Devices: &f, Activity: &f, Clock: clk}
			items, err := s.Items(context.Background(), &c.acc, "here")
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, it := range items {
				ids = append(ids, it.ID)
				if n, ok := c.counts[it.ID]; ok && it.Count != n {
					t.Errorf("%s: count %d, want %d", it.ID, it.Count, n)
				}
				if it.Link == "" && it.Action == "" {
					t.Errorf("%s: no way to fix it", it.ID)
				}
				if it.ID == "password_entered" && it.NotMe != c.notMe {
					t.Errorf("password_entered answers %q, want %q", it.NotMe, c.notMe)
				}
			}
			if !reflect.DeepEqual(ids, c.want) {
				t.Errorf("items %v, want %v", ids, c.want)
			}
		})
	}
}
