package i18n

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

var verb = regexp.MustCompile(`%[-+# 0]*(?:\[(\d+)\])?(\d*(?:\.\d+)?[a-zA-Z%])`)

// verbs lists a format's verbs by the argument each takes, so that a
// language may take the arguments in another order with %[n]s.
func verbs(format string) string {
	var out []string
	next := 1
	for _, m := range verb.FindAllStringSubmatch(format, -1) {
		if m[2] == "%" {
			continue
		}
		a := next
		if m[1] != "" {
			a, _ = strconv.Atoi(m[1])
		}
		next = a + 1
		out = append(out, fmt.Sprintf("%d:%s", a, m[2]))
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

func TestEveryStringExistsInBothLanguagesWithTheSameVerbs(t *testing.T) {
	t.Parallel()
	for _, m := range allMessages() {
		if strings.TrimSpace(m.en) == "" || strings.TrimSpace(m.ja) == "" {
			t.Errorf("%s: missing a language", m.key)
		}
		if ve, vj := verbs(m.en), verbs(m.ja); ve != vj {
			t.Errorf("%s: verbs differ: en [%s], ja [%s]", m.key, ve, vj)
		}
	}
	if got := verbs("%[2]s に %[1]d 回、%s"); got != "1:d 2:s 2:s" {
		t.Errorf("verbs: %q", got)
	}
}

func TestMatch(t *testing.T) {
	t.Parallel()
	c := New()
	for _, tc := range []struct{ choice, accept, want string }{
		{"", "ja-JP,ja;q=0.9", "ja"},
		{"", "en-GB,en;q=0.8", "en"},
		{"", "fr-FR", "en"},
		{"", "", "en"},
		{"", "garbage;;;q=x", "en"},
		{"en", "ja", "en"},
		{"ja", "en", "ja"},
		{"xx", "ja", "ja"},
	} {
		if got := c.Match(tc.choice, tc.accept); got != tc.want {
			t.Errorf("Match(%q, %q) = %q, want %q", tc.choice, tc.accept, got, tc.want)
		}
	}
	if got := c.T("ja", "error.code_wrong", 3); got != "コードが正しくありません。あと3回試せます。" {
		t.Errorf("T ja: %q", got)
	}
	if got := c.T("en", "no.such.key"); !strings.HasPrefix(got, "!(") {
		t.Errorf("a missing key must be visible, got %q", got)
	}
}

func TestTime_WrittenTheLocalWayInTheReadersZone(t *testing.T) {
	t.Parallel()
	c := New()
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	c.SetDefaultZones(map[string]*time.Location{"ja": tokyo, "en": time.UTC})
	at := time.Date(2026, 11, 28, 1, 26, 0, 0, time.UTC)
	if got := c.Time("ja", at, c.Zone("ja", "")); got != "2026年11月28日 10:26（日本時間）" {
		t.Errorf("ja default: %q", got)
	}
	if got := c.Time("en", at, c.Zone("en", "")); got != "28 Nov 2026, 01:26 (UTC)" {
		t.Errorf("en default: %q", got)
	}
	if got := c.Time("en", at, c.Zone("en", "America/New_York")); got != "27 Nov 2026, 20:26 (US Eastern time)" {
		t.Errorf("en chosen zone: %q", got)
	}
	if got := c.Time("ja", at, c.Zone("ja", "Europe/London")); got != "2026年11月28日 1:26（英国時間）" {
		t.Errorf("ja chosen zone: %q", got)
	}
	for _, z := range Zones {
		if _, err := time.LoadLocation(z.ID); err != nil {
			t.Errorf("zone %s: %v", z.ID, err)
		}
	}
}

// TestNewLoading_WaitsForTheTable: a catalog loading in the background
// answers as New's does, whichever method comes first.
func TestNewLoading_WaitsForTheTable(t *testing.T) {
	want := New()
	for _, first := range []string{"T", "Has"} {
		c := NewLoading()
		if first == "Has" && !c.Has("signin.title") {
			t.Error("Has(signin.title) = false")
		}
		for _, lang := range Languages {
			if got, w := c.T(lang, "signin.title"), want.T(lang, "signin.title"); got != w {
				t.Errorf("%s: T = %q, want %q", lang, got, w)
			}
		}
	}
}
