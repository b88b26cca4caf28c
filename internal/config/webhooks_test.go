package config

import (
	"strings"
	"testing"
)

// TestWebhookReceivers: each entry's shape, and what is refused (with the
// secret never in the message).
func TestWebhookReceivers(t *testing.T) {
	t.Parallel()
	cfg, err := Load("", env(nil), map[string]string{
		"webhooks.set_receivers":  "https://rp.example/events|https://rp.example http://127.0.0.1:9000/set",
		"webhooks.json_receivers": "https://hooks.example/in|0123456789abcdef|x http://[::1]:8000/h|abcdefghijklmnop",
	})
	if err != nil {
		t.Fatal(err)
	}
	set := cfg.SETReceivers()
	if len(set) != 2 || set[0].Audience != "https://rp.example" || set[1].Audience != "http://127.0.0.1:9000/set" {
		t.Fatalf("set receivers %+v", set)
	}
	js := cfg.JSONReceivers()
	if len(js) != 2 || js[0].URL != "https://hooks.example/in" || js[0].Secret != "0123456789abcdef|x" || js[1].URL != "http://[::1]:8000/h" {
		t.Fatalf("json receivers %+v", js)
	}
	for key, v := range map[string]string{
		"webhooks.set_receivers":  "http://rp.example/events",
		"webhooks.json_receivers": "https://u:p@rp.example/h|0123456789abcdef",
	} {
		_, err := Load("", env(nil), map[string]string{key: v})
		if err == nil || !strings.Contains(err.Error(), key) || strings.Contains(err.Error(), "0123456789abcdef") {
			t.Errorf("%s=%q: %v", key, v, err)
		}
	}
	for _, v := range []string{"https://a.example/x https://a.example/x", "https://a.example/x|", "ftp://a.example/x", "http://localhost.evil.example/x", "/relative"} {
		if _, err := Load("", env(nil), map[string]string{"webhooks.set_receivers": v}); err == nil {
			t.Errorf("set_receivers %q accepted", v)
		}
	}
}
