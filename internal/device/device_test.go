package device_test

import (
	"context"
	"path/filepath"
	"testing"

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
