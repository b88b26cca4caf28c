package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// axe-core is vendored under testdata/axe-core (see its README); nothing is
// downloaded when the tests run.
const (
	axeVersion = "4.14.1"
	axeSHA256  = "29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c"
)

var (
	axeOnce sync.Once
	axeJS   string
	axeErr  error
)

// axeSource returns the vendored axe.min.js after checking that it is the
// pinned version, byte for byte.
func axeSource(t *testing.T) string {
	t.Helper()
	axeOnce.Do(func() {
		b, err := os.ReadFile(filepath.Join("testdata", "axe-core", "axe.min.js"))
		if err != nil {
			axeErr = err
			return
		}
		if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != axeSHA256 {
			axeErr = fmt.Errorf("testdata/axe-core/axe.min.js is not axe-core %s (sha256 %x)", axeVersion, sum)
			return
		}
		axeJS = string(b)
	})
	if axeErr != nil {
		t.Fatal(axeErr)
	}
	return axeJS
}

// colorScheme emulates prefers-color-scheme for the tab; it stays in force
// across navigations until changed.
func colorScheme(scheme string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
		})
		return err
	})
}

type axeViolation struct {
	ID      string `json:"id"`
	Impact  string `json:"impact"`
	Help    string `json:"help"`
	HelpURL string `json:"helpUrl"`
	Nodes   []struct {
		Target  []string `json:"target"`
		HTML    string   `json:"html"`
		Summary string   `json:"summary"`
	} `json:"nodes"`
}

const axeRun = `(async () => {
  const r = await axe.run(document, {resultTypes: ['violations']});
  return r.violations.map(v => ({
    id: v.id, impact: v.impact || '', help: v.help, helpUrl: v.helpUrl,
    nodes: v.nodes.map(n => ({
      target: n.target.map(s => Array.isArray(s) ? s.join(' >>> ') : String(s)),
      html: n.html, summary: n.failureSummary || ''
    }))
  }));
})()`

// checkA11y runs axe-core on the page the tab shows now, once in the light
// and once in the dark colour scheme, and fails the test (without stopping
// it) for every violation. Call it after every navigation or submit.
func checkA11y(t *testing.T, ctx context.Context, step string) {
	t.Helper()
	src := axeSource(t)
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.readyState === "complete"`, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Fatalf("axe (%s): page did not finish loading: %v", step, err)
	}
	loaded, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`typeof window.axe === "object" && axe.version === "`+axeVersion+`"`))
	if err != nil {
		t.Fatalf("axe (%s): %v", step, err)
	}
	if !loaded {
		if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](src)); err != nil {
			t.Fatalf("axe (%s): inject axe.min.js: %v", step, err)
		}
	}
	where, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.pathname + " [" + document.documentElement.lang + "] " + JSON.stringify(document.title)`))
	if err != nil {
		t.Fatalf("axe (%s): %v", step, err)
	}
	defer chromedp.Do(ctx, colorScheme("light"))
	for _, scheme := range []string{"light", "dark"} {
		if err := chromedp.Do(ctx, colorScheme(scheme)); err != nil {
			t.Fatalf("axe (%s): emulate %s: %v", step, scheme, err)
		}
		vs, err := chromedp.Run(ctx, chromedp.Evaluate[[]axeViolation](axeRun, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("axe (%s, %s): %v", step, scheme, err)
		}
		if len(vs) == 0 {
			continue
		}
		var b strings.Builder
		fmt.Fprintf(&b, "axe-core %s: %d violation(s) after %q on %s, %s scheme:", axeVersion, len(vs), step, where, scheme)
		for _, v := range vs {
			fmt.Fprintf(&b, "\n  %s (%s): %s — %s", v.ID, v.Impact, v.Help, v.HelpURL)
			for _, n := range v.Nodes {
				fmt.Fprintf(&b, "\n    %s  %s", strings.Join(n.Target, ", "), n.HTML)
				if n.Summary != "" {
					fmt.Fprintf(&b, "\n      %s", strings.ReplaceAll(n.Summary, "\n", "\n      "))
				}
			}
		}
		t.Error(b.String())
	}
	t.Logf("axe: %s after %q: checked light and dark", where, step)
}

// TestBrowser_ErrorSummaryTakesFocus: a form answered with 422 titles the
// page "Error: …" / "エラー：…" and moves focus to the error summary, which
// has a heading and lists the problems as links to the fields.
func TestBrowser_ErrorSummaryTakesFocus(t *testing.T) {
	for _, tc := range []struct{ lang, prefix string }{
		{"en", "Error: "},
		{"ja", "エラー："},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			p := serve(t, t.TempDir(), cheapArgon)
			b := openTab(t)
			b.run("open sign-up", chromedp.Navigate(p.URL+"/signup"), visible("#f-email"))
			b.useLanguage(tc.lang, "#f-email")
			for _, c := range []struct {
				name            string
				email, password string
				field           string
			}{
				{"empty form", "", "", "#f-email"},
				{"common password", "summary-" + tc.lang + "@example.com", "password1234", "#f-password"},
			} {
				b.do("clear the form", clearField("#f-email"), clearField("#f-password"))
				if c.email != "" {
					b.do("type "+c.name, typeInto("#f-email", c.email), typeInto("#f-password", c.password))
				}
				b.run("sign up with "+c.name, submit("/signup", "#f-email"))
				title := b.title()
				if !strings.HasPrefix(title, tc.prefix) {
					t.Errorf("%s: title %q does not start with %q", c.name, title, tc.prefix)
				}
				focused := b.pollString(`document.activeElement ? (document.activeElement.id || document.activeElement.tagName.toLowerCase()) : ""`, "error-summary")
				if focused != "error-summary" {
					t.Errorf("%s: focus is on %q, want the element with id \"error-summary\"", c.name, focused)
					continue
				}
				heading := b.eval(`(() => { const h = document.querySelector("#error-summary :is(h2,h3,h4,h5,h6,[role=heading])"); return h ? h.textContent.trim() : "" })()`)
				if heading == "" {
					t.Errorf("%s: the error summary has no heading", c.name)
				}
				links := b.eval(`[...document.querySelectorAll("#error-summary :is(ul,ol) li a[href^='#']")].map(a => a.getAttribute("href") + (document.getElementById(a.getAttribute("href").slice(1)) ? "" : "(missing)")).join(" ")`)
				if !strings.Contains(links, c.field) || strings.Contains(links, "(missing)") {
					t.Errorf("%s: the error summary's links are %q, want a list of links to the fields including %s", c.name, links, c.field)
				}
			}
		})
	}
}

// TestBrowser_AccessibilityOfErrorStates walks the states a form answers
// with when something is wrong — empty and refused input, a wrong code, a
// resend during the cool-down, a wrong password, an unknown page — in both
// languages; each state is checked with axe-core in light and dark.
func TestBrowser_AccessibilityOfErrorStates(t *testing.T) {
	for _, lang := range []string{"en", "ja"} {
		t.Run(lang, func(t *testing.T) {
			p := serve(t, t.TempDir(), cheapArgon)
			b := openTab(t)
			email := "a11y-" + lang + "@example.com"
			b.run("open sign-up", chromedp.Navigate(p.URL+"/signup"), visible("#f-email"))
			b.useLanguage(lang, "#f-email")
			b.run("sign up with an empty form", submit("/signup", "#f-email"))
			b.run("sign up with a short password and a bad phone", typeInto("#f-email", email), typeInto("#f-password", "short"),
				typeInto("#f-phone", "12"), submit("/signup", "#f-email"))
			b.run("sign up", clearField("#f-phone"), clearField("#f-password"), typeInto("#f-password", "violet canoe at dawn"), submit("/signup", "#f-code"))
			b.run("confirm with a wrong code", typeInto("#f-code", wrongCode(latestCode(t, p.URL, email))), submit("/signup/confirm", "#f-code"))
			b.run("confirm with letters", clearField("#f-code"), typeInto("#f-code", "abcdef"), submit("/signup/confirm", "#f-code"))
			b.run("resend during the cool-down", resend("/signup/confirm/resend", "#f-code"))
			b.run("sign in with a wrong password", chromedp.Navigate(p.URL+"/signin"), visible("#f-email"),
				typeInto("#f-email", email), typeInto("#f-password", "not the password"), submit("/signin", "#f-email"))
			b.run("forgot with an empty form", chromedp.Navigate(p.URL+"/password/forgot"), visible("#f-email"), submit("/password/forgot", "#f-email"))
			b.run("forgot", typeInto("#f-email", email), submit("/password/forgot", "#f-code"))
			b.run("reset with a wrong code and a common password", typeInto("#f-code", "000000"), typeInto("#f-new_password", "password1234"),
				submit("/password/reset", "#f-code"))
			b.run("unknown page", chromedp.Navigate(p.URL+"/no/such/page"), visible("main"))
			b.run("dev mailbox", chromedp.Navigate(p.URL+"/dev/messages"), visible("main"))
		})
	}
}

// wrongCode returns a six-digit code that is not code.
func wrongCode(code string) string {
	if code == "000000" {
		return "111111"
	}
	return "000000"
}

// TestStylesheet_Contrast reads the palette from app.css and checks every
// text/background pair the pages use, in the light and the dark scheme,
// against WCAG's 4.5:1 (also for borders, rings and marks, which need 3:1).
func TestStylesheet_Contrast(t *testing.T) {
	css, err := os.ReadFile(filepath.Join("..", "internal", "web", "static", "app.css"))
	if err != nil {
		t.Fatal(err)
	}
	src := string(css)
	light := palette(t, src, `(?s)^.*?:root\s*\{(.*?)\}`)
	// The light scheme is always checked; the dark one when the
	// stylesheet declares it (a stylesheet without it is checked in light
	// alone, not skipped).
	schemes := []map[string]string{light}
	names := []string{"light"}
	if strings.Contains(src, "color-scheme: light dark") {
		dark := map[string]string{}
		for k, v := range light {
			dark[k] = v
		}
		for k, v := range palette(t, src, `(?s)@media\s*\(prefers-color-scheme:\s*dark\)\s*\{\s*:root\s*\{(.*?)\}`) {
			dark[k] = v
		}
		schemes, names = append(schemes, dark), append(names, "dark")
	}
	// Every colour in the stylesheet comes from the palette.
	rest := regexp.MustCompile(`(?s)/\*.*?\*/`).ReplaceAllString(src, "")
	rest = regexp.MustCompile(`--[a-z-]+:\s*#[0-9a-fA-F]{3,8}\s*;`).ReplaceAllString(rest, "")
	if m := regexp.MustCompile(`#[0-9a-fA-F]{3,8}\b|rgba?\(|hsla?\(|[:\s](?:white|black|red|blue|green|gray|grey|silver|navy)[\s;!]`).FindString(rest); m != "" {
		t.Errorf("app.css uses the colour %q outside the palette's custom properties", m)
	}
	pairs := []struct{ fg, bg, what string }{
		{"--fg", "--bg", "body text"},
		{"--muted", "--bg", "hints"},
		{"--link", "--bg", "links, link-style buttons"},
		{"--bad", "--bg", "errors, field errors"},
		{"--accent-fg", "--accent", "primary buttons"},
		{"--fg", "--field-bg", "typed text"},
		{"--border", "--field-bg", "field outline"},
		{"--bad", "--field-bg", "invalid-field border"},
		{"--focus", "--bg", "focus ring"},
		{"--fg", "--notice-bg", "notices"},
		{"--link", "--notice-bg", "links in notices"},
		{"--muted", "--notice-bg", "hints in notices"},
		{"--fg", "--bad-bg", "error summary"},
		{"--bad", "--bad-bg", "error summary links and heading"},
		{"--focus", "--bad-bg", "focus ring on the summary"},
		{"--bg", "--bad", "danger buttons (\"this wasn't me\")"},
	}
	for _, pr := range pairs {
		var got [2]float64
		for i, pal := range schemes {
			fg, bg := pal[pr.fg], pal[pr.bg]
			if fg == "" || bg == "" {
				t.Fatalf("palette lacks %s or %s", pr.fg, pr.bg)
			}
			got[i] = contrast(fg, bg)
			if got[i] < 4.5 {
				t.Errorf("%s on %s (%s), %s scheme: %s on %s is %.2f:1, want ≥ 4.5:1",
					pr.fg, pr.bg, pr.what, names[i], fg, bg, got[i])
			}
		}
		t.Logf("%-12s on %-11s %-34s light %5.2f  dark %5.2f", pr.fg, pr.bg, "("+pr.what+")", got[0], got[1])
	}
}

func palette(t *testing.T, css, block string) map[string]string {
	t.Helper()
	m := regexp.MustCompile(block).FindStringSubmatch(css)
	if m == nil {
		t.Fatalf("app.css: no block matching %s", block)
	}
	p := map[string]string{}
	for _, d := range regexp.MustCompile(`(--[a-z-]+):\s*(#[0-9a-fA-F]{6}|#[0-9a-fA-F]{3})\s*;`).FindAllStringSubmatch(m[1], -1) {
		p[d[1]] = d[2]
	}
	return p
}

// contrast is WCAG 2's contrast ratio of two #rgb / #rrggbb colours.
func contrast(a, b string) float64 {
	la, lb := luminance(a), luminance(b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

func luminance(hexColour string) float64 {
	h := strings.TrimPrefix(hexColour, "#")
	if len(h) == 3 {
		h = string([]byte{h[0], h[0], h[1], h[1], h[2], h[2]})
	}
	var c [3]float64
	for i := range c {
		v, _ := strconv.ParseUint(h[2*i:2*i+2], 16, 8)
		s := float64(v) / 255
		if s <= 0.04045 {
			c[i] = s / 12.92
		} else {
			c[i] = math.Pow((s+0.055)/1.055, 2.4)
		}
	}
	return 0.2126*c[0] + 0.7152*c[1] + 0.0722*c[2]
}
