package check

import (
	"testing"

	"gatehouse/internal/check/lookalike"
)

func TestUnwrapLink(t *testing.T) {
	for _, c := range []struct {
		raw, inner, via string
	}{
		{"https://jpn01.safelinks.protection.outlook.com/?url=https%3A%2F%2Fgatehouse.example%2Fwhy%2FGH-2345-6789-ABCD&data=05%7C02%7C%7Cabc&sdata=xyz&reserved=0",
			"https://gatehouse.example/why/GH-2345-6789-ABCD", "jpn01.safelinks.protection.outlook.com"},
		// As an HTML attribute writes it.
		{"https://nam12.safelinks.protection.outlook.com/?url=https%3A%2F%2Fgatehouse.example%2Fcheck&amp;data=05&amp;reserved=0",
			"https://gatehouse.example/check", "nam12.safelinks.protection.outlook.com"},
		{"https://urldefense.proofpoint.com/v2/url?u=https-3A__gatehouse.example_check&d=DwMF&c=x&r=y&m=z&s=w&e=",
			"https://gatehouse.example/check", "urldefense.proofpoint.com"},
		{"https://urldefense.com/v3/__https://gatehouse.example/check__;!!abc!def$",
			"https://gatehouse.example/check", "urldefense.com"},
		{"https://www.google.com/url?q=https://gatehouse-login.example.net/x&sa=D",
			"https://gatehouse-login.example.net/x", "www.google.com"},
		// Nested: Safe Links around Google's redirector; the outer service
		// is named.
		{"https://eur01.safelinks.protection.outlook.com/?url=https%3A%2F%2Fwww.google.com%2Furl%3Fq%3Dhttps%3A%2F%2Fevil.example%2F&data=1",
			"https://evil.example/", "eur01.safelinks.protection.outlook.com"},
	} {
		inner, via, ok := unwrapLink(c.raw)
		if !ok || inner != c.inner || via != c.via {
			t.Errorf("unwrapLink(%q) = %q, %q, %v; want %q, %q", c.raw, inner, via, ok, c.inner, c.via)
		}
	}
	for _, raw := range []string{
		"https://gatehouse.example/check",
		"https://safelinks.protection.outlook.com.evil.example/?url=https%3A%2F%2Fx.example", // not the service
		"https://nam12.safelinks.protection.outlook.com/?url=javascript%3Aalert(1)",          // not a web link
		"https://urldefense.com/v3/__https://gatehouse.example/a*b__;JQ!!x$",                 // encoded characters
		"https://www.google.com/search?q=https://x.example",
		"not a url",
	} {
		if inner, _, ok := unwrapLink(raw); ok {
			t.Errorf("unwrapLink(%q) = %q, want no unwrapping", raw, inner)
		}
	}
}

func TestUnwrapLinks(t *testing.T) {
	text := "Open https://jpn01.safelinks.protection.outlook.com/?url=https%3A%2F%2Fgatehouse.example%2Fcheck%3Fa%3D1%26b%3D2&data=1 now, or https://gatehouse.example/why."
	got, vias := unwrapLinks(text, false)
	if got != "Open https://gatehouse.example/check?a=1&b=2 now, or https://gatehouse.example/why." || len(vias) != 1 {
		t.Errorf("text: %q %q", got, vias)
	}
	got, _ = unwrapLinks(`<a href="https://jpn01.safelinks.protection.outlook.com/?url=https%3A%2F%2Fgatehouse.example%2Fcheck%3Fa%3D1%26b%3D2&amp;data=1">x</a>`, true)
	if got != `<a href="https://gatehouse.example/check?a=1&amp;b=2">x</a>` {
		t.Errorf("html: %q", got)
	}
	// Punctuation after a link stays after the link put back.
	got, _ = unwrapLinks("(see https://jpn01.safelinks.protection.outlook.com/?url=https%3A%2F%2Fgatehouse.example%2Fcheck&data=1).", false)
	if got != "(see https://gatehouse.example/check)." {
		t.Errorf("tail: %q", got)
	}
	if got, vias := unwrapLinks("nothing to do https://gatehouse.example/", false); got != "nothing to do https://gatehouse.example/" || vias != nil {
		t.Errorf("unchanged: %q %q", got, vias)
	}
}

// A look-alike of our brand is worded as imitating our name, not a
// domain; a punycode host of one script is worded without a script list.
func TestReasonKeysForBrandAndSingleScript(t *testing.T) {
	if k := lookalikeKey("link_lookalike", lookalike.Finding{Like: "Gatehouse"}); k != "link_lookalike_name" {
		t.Errorf("brand: %s", k)
	}
	if k := lookalikeKey("link_lookalike", lookalike.Finding{Like: "gatehouse.example"}); k != "link_lookalike" {
		t.Errorf("domain: %s", k)
	}
	if k := punycodeKey("link_punycode", lookalike.Finding{}); k != "link_punycode_letters" {
		t.Errorf("no scripts: %s", k)
	}
	if k := punycodeKey("link_punycode", lookalike.Finding{Scripts: []string{"Latin", "Cyrillic"}}); k != "link_punycode" {
		t.Errorf("scripts: %s", k)
	}
}
