package web

import (
	"slices"
	"strings"
	"testing"

	"gatehouse/internal/brand"
)

// TestLook_StaticNamesAreFree: the look's files under /static/ never take
// an embedded asset's name (lookStatic would panic at the first page).
func TestLook_StaticNamesAreFree(t *testing.T) {
	t.Parallel()
	static := loadStatic()
	for _, name := range []string{brandStylesheet, "logo.png", "logo.svg"} {
		if _, taken := static[name]; taken {
			t.Errorf("%s is an embedded asset's name", name)
		}
	}
}

// TestLook_BuiltInPaletteReadsAndPasses: the palette is read from
// app.css, and its own accents pass the check a brand colour must pass,
// a light one failing in the light scheme and a dark one in the dark.
func TestLook_BuiltInPaletteReadsAndPasses(t *testing.T) {
	t.Parallel()
	light, dark := palettes()
	if light["--bg"] != "#ffffff" || dark["--bg"] != "#121212" || light["--link"] == "" || dark["--accent-fg"] == "" {
		t.Fatalf("palette: light %v dark %v", light, dark)
	}
	if err := checkColor("brand.color", light["--accent"], light, "darker"); err != nil {
		t.Error(err)
	}
	if err := checkColor("brand.color_dark", dark["--accent"], dark, "lighter"); err != nil {
		t.Error(err)
	}
	if err := checkColor("brand.color", dark["--accent"], light, "darker"); err == nil {
		t.Error("the dark scheme's accent passes in the light one")
	}
	// Enough on white (4.54:1) is not enough: links are drawn on the
	// notices' background too.
	err := checkColor("brand.color", "#767676", light, "darker")
	if err == nil || !strings.Contains(err.Error(), "#767676 on the notices' background (#eef3fb) reads at 4.") {
		t.Errorf("#767676: %v", err)
	}
	if err := checkColor("brand.color_dark", "#f0a8d0", dark, "lighter"); err != nil {
		t.Error(err)
	}
	if err := checkColor("brand.color_dark", "#ffffff", dark, "lighter"); err != nil {
		t.Errorf("white in the dark scheme: %v", err)
	}
}

// TestLook_CSSHasEachSchemesAccents: the generated stylesheet sets the
// accents in both schemes, the built-in ones where the look has none,
// and only on screens.
func TestLook_CSSHasEachSchemesAccents(t *testing.T) {
	t.Parallel()
	_, dark := palettes()
	css := brandCSS(&brand.Look{Color: "#7a1f5c"})
	light, darkPart, ok := strings.Cut(css, "prefers-color-scheme: dark")
	if !ok || !strings.Contains(light, "@media screen {") || !strings.Contains(light, "--link: #7a1f5c;") ||
		!strings.Contains(darkPart, "--link: "+dark["--link"]+";") || strings.Contains(darkPart, "#7a1f5c") {
		t.Errorf("brand.css:\n%s", css)
	}
	if brandCSS(&brand.Look{}) != "" {
		t.Error("a stylesheet without colours")
	}
}

// TestLook_HeadersInPageRefusedCSPBlockedNamed: what a template may not
// write (a header's equivalent) and what the policy blocks (named in the
// start's warning).
func TestLook_HeadersInPageRefusedCSPBlockedNamed(t *testing.T) {
	t.Parallel()
	for _, src := range []string{
		`<meta http-equiv="refresh" content="0;url=https://x.example/">`,
		`<META HTTP-EQUIV=Content-Security-Policy content="x">`,
		`<meta name="referrer" content="unsafe-url">`,
		`<meta content="origin" name=referrer>`,
		`<a href="https://x.example/" referrerpolicy="unsafe-url">x</a>`,
		`<img src="/static/logo.png" {{"referrerpolicy"}}="origin">`,
	} {
		if headerInPage(src) == nil {
			t.Errorf("accepted: %s", src)
		}
	}
	if err := headerInPage(`<meta name="viewport" content="width=device-width"><a href="/why" rel="noreferrer">x</a>`); err != nil {
		t.Errorf("refused: %v", err)
	}
	got := blockedByCSP(`<script>alert(1)</script><script src="/static/app.js"></script><script src="https://cdn.example/x.js"></script>
<button onclick="x()">b</button><a href="javascript:x()">a</a><p style="color:red">s</p><img src="https://cdn.example/logo.png">`)
	for _, want := range []string{"an inline <script>", "a script from elsewhere, https://cdn.example/x.js", "an event handler attribute, onclick", "a javascript: URL", "an inline style", "an image, frame or stylesheet from another site"} {
		if !slices.ContainsFunc(got, func(s string) bool { return strings.HasPrefix(s, want) }) {
			t.Errorf("blockedByCSP does not name %q: %q", want, got)
		}
	}
	if got := blockedByCSP(`<script src="/static/app.js" defer></script><p class="x">{{.Title}}</p>`); len(got) != 0 {
		t.Errorf("nothing blocked, yet named: %q", got)
	}
}
