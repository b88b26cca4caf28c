package device_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gatehouse/internal/account"
	"gatehouse/internal/device"
	"gatehouse/internal/sqlite"
)

func open(t *testing.T) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "t.db"), true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestDevices_RecogniseReturningBrowser(t *testing.T) {
	t.Parallel()
	db := open(t)
	ctx := context.Background()
	d := &device.Devices{Store: db, UserAgents: &device.UserAgents{}}
	ua := "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"
	dev, tok, err := d.Recognise(ctx, "", "192.0.2.1", ua)
	if err != nil || tok == "" {
		t.Fatalf("new device: %v", err)
	}
	if dev.Browser != "Chrome 126" || dev.OS != "Windows 10" {
		t.Fatalf("parsed %q / %q", dev.Browser, dev.OS)
	}
	again, tok2, err := d.Recognise(ctx, tok, "192.0.2.9", ua)
	if err != nil || tok2 != "" || again.ID != dev.ID || again.IP != "192.0.2.9" {
		t.Fatalf("returning device: id %s vs %s, new token %q, err %v", again.ID, dev.ID, tok2, err)
	}
	other, tok3, _ := d.Recognise(ctx, "forged-token", "192.0.2.1", ua)
	if other.ID == dev.ID || tok3 == "" {
		t.Fatal("an unknown device token must give a new device")
	}
}

// TestDevices_ListAndRename: the account's devices are listed with the
// holder's names; a name is plain text of at most MaxName characters, and
// a device the account never used cannot be named by it.
func TestDevices_ListAndRename(t *testing.T) {
	t.Parallel()
	db := open(t)
	ctx := context.Background()
	now := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	a := &account.Account{ID: "acc-1", Email: "devs@example.com", Status: account.Active, CreatedAt: now, PasswordChangedAt: now, Language: "en"}
	if err := db.CreateAccount(ctx, a); err != nil {
		t.Fatal(err)
	}
	d := &device.Devices{Store: db, UserAgents: &device.UserAgents{}, Clock: func() time.Time { return now }}
	dev, _, err := d.Recognise(ctx, "", "192.0.2.1", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0")
	if err != nil {
		t.Fatal(err)
	}
	if err := db.MarkUsed(ctx, a.ID, dev.ID, now); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		device, name string
		want         error
	}{
		{dev.ID, "台所のiPad", nil},
		{dev.ID, strings.Repeat("x", device.MaxName+1), device.ErrName},
		{dev.ID, "tab\there", device.ErrName},
		{"someone-elses", "mine now", device.ErrNotFound},
	} {
		if err := d.Rename(ctx, a.ID, tc.device, tc.name); !errors.Is(err, tc.want) {
			t.Errorf("rename %s to %q: %v, want %v", tc.device, tc.name, err, tc.want)
		}
	}
	list, err := d.List(ctx, a.ID)
	if err != nil || len(list) != 1 || list[0].ID != dev.ID || list[0].Name != "台所のiPad" || list[0].Browser != "Firefox 128" {
		t.Fatalf("list: %+v %v", list, err)
	}
	if err := d.Rename(ctx, a.ID, dev.ID, ""); err != nil {
		t.Fatal(err)
	}
	if list, _ := d.List(ctx, a.ID); list[0].Name != "" {
		t.Fatalf("name not taken away: %q", list[0].Name)
	}
}
