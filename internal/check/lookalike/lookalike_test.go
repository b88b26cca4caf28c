package lookalike

import (
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"
)

var ours = Ours{Domains: []string{"gatehouse.example", "gatehouse.com"}, Brand: "Gatehouse"}

func TestCheck(t *testing.T) {
	short := Ours{Domains: []string{"gh.example"}, Brand: "GH"}
	full := Ours{Domains: []string{"mail.gatehouse.example"}}
	m := Ours{Domains: []string{"example.com"}}
	brandOnly := Ours{Domains: []string{"gh-mail.example"}, Brand: "Gatehouse"}
	japanese := Ours{Domains: []string{"ゲートハウス.jp"}}
	twoWords := Ours{Brand: "Gate House"}

	tests := []struct {
		name string
		ours Ours
		host string
		want Finding
	}{
		// Ours.
		{"exact", ours, "gatehouse.example",
			Finding{Host: "gatehouse.example", Unicode: "gatehouse.example", Kind: Exact, Like: "gatehouse.example"}},
		{"upper case and trailing dot", ours, "GateHouse.Example.",
			Finding{Host: "gatehouse.example", Unicode: "gatehouse.example", Kind: Exact, Like: "gatehouse.example"}},
		{"port", ours, "gatehouse.com:8443",
			Finding{Host: "gatehouse.com", Unicode: "gatehouse.com", Kind: Exact, Like: "gatehouse.com"}},
		{"fullwidth maps to ours", ours, "ｇａｔｅｈｏｕｓｅ.example",
			Finding{Host: "ｇａｔｅｈｏｕｓｅ.example", Unicode: "gatehouse.example", Kind: Exact, Like: "gatehouse.example"}},
		{"subdomain", ours, "mail.gatehouse.example",
			Finding{Host: "mail.gatehouse.example", Unicode: "mail.gatehouse.example", Kind: Subdomain, Like: "gatehouse.example"}},
		{"deep subdomain with underscore", ours, "_dmarc.a.gatehouse.com",
			Finding{Host: "_dmarc.a.gatehouse.com", Unicode: "_dmarc.a.gatehouse.com", Kind: Subdomain, Like: "gatehouse.com"}},
		{"IDN ours given as punycode", japanese, "xn--gckxaw2d9a2u.jp",
			Finding{Host: "xn--gckxaw2d9a2u.jp", Unicode: "ゲートハウス.jp", Punycode: true, Kind: Exact, Like: "ゲートハウス.jp"}},

		// Confusable.
		{"cyrillic e as punycode", ours, "xn--gathouse-e8g.example",
			Finding{Host: "xn--gathouse-e8g.example", Unicode: "gatеhouse.example", Punycode: true,
				Scripts: []string{"Latin", "Cyrillic"}, Kind: Confusable, Like: "gatehouse.example"}},
		{"cyrillic e in unicode, upper case, other suffix", ours, "GATЕHOUSE.NET",
			Finding{Host: "gatеhouse.net", Unicode: "gatеhouse.net",
				Scripts: []string{"Latin", "Cyrillic"}, Kind: Confusable, Like: "gatehouse.example"}},
		{"greek omicron", ours, "gatehοuse.com",
			Finding{Host: "gatehοuse.com", Unicode: "gatehοuse.com",
				Scripts: []string{"Latin", "Greek"}, Kind: Confusable, Like: "gatehouse.example"}},
		{"digit zero for o", ours, "gateh0use.com",
			Finding{Host: "gateh0use.com", Unicode: "gateh0use.com", Kind: Confusable, Like: "gatehouse.example"}},
		{"rn for m in the suffix", ours, "gatehouse.exarnple",
			Finding{Host: "gatehouse.exarnple", Unicode: "gatehouse.exarnple", Kind: Confusable, Like: "gatehouse.example"}},
		{"rn for m in the label", m, "exarnple.com",
			Finding{Host: "exarnple.com", Unicode: "exarnple.com", Kind: Confusable, Like: "example.com"}},
		{"digit one for l", m, "examp1e.com",
			Finding{Host: "examp1e.com", Unicode: "examp1e.com", Kind: Confusable, Like: "example.com"}},
		{"sibling confusable with a full name", full, "rnail.gatehouse.example",
			Finding{Host: "rnail.gatehouse.example", Unicode: "rnail.gatehouse.example", Kind: Confusable, Like: "mail.gatehouse.example"}},
		{"kanji one for the prolonged sound mark", japanese, "ゲ一トハウス.jp",
			Finding{Host: "ゲ一トハウス.jp", Unicode: "ゲ一トハウス.jp", Scripts: []string{"Katakana", "Han"}, Kind: Confusable, Like: "ゲートハウス.jp"}},

		// Swap.
		{"swap", ours, "gatehuose.example",
			Finding{Host: "gatehuose.example", Unicode: "gatehuose.example", Kind: Swap, Like: "gatehouse.example"}},
		{"swap at start, other suffix", ours, "agtehouse.net",
			Finding{Host: "agtehouse.net", Unicode: "agtehouse.net", Kind: Swap, Like: "gatehouse.example"}},

		// Edit.
		{"deletion", ours, "gatehose.example",
			Finding{Host: "gatehose.example", Unicode: "gatehose.example", Kind: Edit, Like: "gatehouse.example"}},
		{"insertion", ours, "gatehousse.net",
			Finding{Host: "gatehousse.net", Unicode: "gatehousse.net", Kind: Edit, Like: "gatehouse.example"}},
		{"substitution", ours, "www.gatehovse.example",
			Finding{Host: "www.gatehovse.example", Unicode: "www.gatehovse.example", Kind: Edit, Like: "gatehouse.example"}},
		{"same label, other suffix", ours, "gatehouse.co",
			Finding{Host: "gatehouse.co", Unicode: "gatehouse.co", Kind: Edit, Like: "gatehouse.example"}},
		{"same label, multi-part suffix", ours, "login.gatehouse.co.uk",
			Finding{Host: "login.gatehouse.co.uk", Unicode: "login.gatehouse.co.uk", Kind: Edit, Like: "gatehouse.example"}},
		{"same label on a private suffix", ours, "gatehouse.github.io",
			Finding{Host: "gatehouse.github.io", Unicode: "gatehouse.github.io", Kind: Edit, Like: "gatehouse.example"}},
		{"single label", ours, "gatehouse",
			Finding{Host: "gatehouse", Unicode: "gatehouse", Kind: Edit, Like: "gatehouse.example"}},
		{"japanese label, other suffix", japanese, "ゲートハウス.com",
			Finding{Host: "ゲートハウス.com", Unicode: "ゲートハウス.com", Kind: Edit, Like: "ゲートハウス.jp"}},
		{"edit from the brand", brandOnly, "gatehose.com",
			Finding{Host: "gatehose.com", Unicode: "gatehose.com", Kind: Edit, Like: "Gatehouse"}},

		// Embedded.
		{"brand word before a hyphen", ours, "gatehouse-login.example.net",
			Finding{Host: "gatehouse-login.example.net", Unicode: "gatehouse-login.example.net", Kind: Embedded, Like: "gatehouse.example"}},
		{"brand word after a hyphen", ours, "login-gatehouse.com",
			Finding{Host: "login-gatehouse.com", Unicode: "login-gatehouse.com", Kind: Embedded, Like: "gatehouse.example"}},
		{"our label as a subdomain", ours, "login.gatehouse.example.net",
			Finding{Host: "login.gatehouse.example.net", Unicode: "login.gatehouse.example.net", Kind: Embedded, Like: "gatehouse.example"}},
		{"our domain as subdomain labels", ours, "gatehouse.example.evil.net",
			Finding{Host: "gatehouse.example.evil.net", Unicode: "gatehouse.example.evil.net", Kind: Embedded, Like: "gatehouse.example"}},
		{"our domain as subdomain labels, jp", ours, "secure.gatehouse.example.com.evil.jp",
			Finding{Host: "secure.gatehouse.example.com.evil.jp", Unicode: "secure.gatehouse.example.com.evil.jp", Kind: Embedded, Like: "gatehouse.example"}},
		{"inside a word", ours, "mygatehouse-support.com",
			Finding{Host: "mygatehouse-support.com", Unicode: "mygatehouse-support.com", Kind: Embedded, Like: "gatehouse.example"}},
		{"confusable inside a word", ours, "gatеhouse-login.com",
			Finding{Host: "gatеhouse-login.com", Unicode: "gatеhouse-login.com", Scripts: []string{"Latin", "Cyrillic"}, Kind: Embedded, Like: "gatehouse.example"}},
		{"brand only", brandOnly, "gatehouse.com",
			Finding{Host: "gatehouse.com", Unicode: "gatehouse.com", Kind: Embedded, Like: "Gatehouse"}},
		{"hyphenated two-word brand", twoWords, "gate-house.net",
			Finding{Host: "gate-house.net", Unicode: "gate-house.net", Kind: Embedded, Like: "Gate House"}},
		{"hyphenated two-word brand inside", twoWords, "login-gate-house.net",
			Finding{Host: "login-gate-house.net", Unicode: "login-gate-house.net", Kind: Embedded, Like: "Gate House"}},
		{"two-word brand run together", twoWords, "gatehouse.net",
			Finding{Host: "gatehouse.net", Unicode: "gatehouse.net", Kind: Embedded, Like: "Gate House"}},
		{"two-word brand typo", twoWords, "gatehouze.net",
			Finding{Host: "gatehouze.net", Unicode: "gatehouze.net", Kind: Edit, Like: "Gate House"}},
		{"japanese embedded", japanese, "ゲートハウス-ログイン.jp",
			Finding{Host: "ゲートハウス-ログイン.jp", Unicode: "ゲートハウス-ログイン.jp", Kind: Embedded, Like: "ゲートハウス.jp"}},
		{"short brand as a word", short, "gh-login.com",
			Finding{Host: "gh-login.com", Unicode: "gh-login.com", Kind: Embedded, Like: "gh.example"}},

		// Other.
		{"unrelated", ours, "example.org",
			Finding{Host: "example.org", Unicode: "example.org", Kind: Other}},
		{"japanese IDN, single script", ours, "ゲートハウス.jp",
			Finding{Host: "ゲートハウス.jp", Unicode: "ゲートハウス.jp", Kind: Other}},
		{"japanese IDN as punycode", ours, "xn--gckxaw2d9a2u.jp",
			Finding{Host: "xn--gckxaw2d9a2u.jp", Unicode: "ゲートハウス.jp", Punycode: true, Kind: Other}},
		{"japanese mixing katakana and han", ours, "ゲート館.jp",
			Finding{Host: "ゲート館.jp", Unicode: "ゲート館.jp", Scripts: []string{"Katakana", "Han"}, Kind: Other}},
		{"short brand not in a word", short, "ghost.com",
			Finding{Host: "ghost.com", Unicode: "ghost.com", Kind: Other}},
		{"short label not fuzzily", short, "gx.example",
			Finding{Host: "gx.example", Unicode: "gx.example", Kind: Other}},
		{"sibling of a full name", full, "www.gatehouse.example",
			Finding{Host: "www.gatehouse.example", Unicode: "www.gatehouse.example", Kind: Other}},
		{"parent of a full name", full, "gatehouse.example",
			Finding{Host: "gatehouse.example", Unicode: "gatehouse.example", Kind: Other}},
		{"invalid punycode still reported", ours, "xn--zz.example",
			Finding{Host: "xn--zz.example", Unicode: "xn--zz.example", Punycode: true, Kind: Other}},
		{"empty", ours, "", Finding{Kind: Other}},
		{"too long to resolve", ours, strings.Repeat("a", 1000) + ".gatehouse-login.com",
			Finding{Host: strings.Repeat("a", 1000) + ".gatehouse-login.com", Unicode: strings.Repeat("a", 1000) + ".gatehouse-login.com", Kind: Other}},
		{"public suffix alone", ours, "co.uk",
			Finding{Host: "co.uk", Unicode: "co.uk", Kind: Other}},

		// IP literals.
		{"ipv4", ours, "192.168.1.1:80", Finding{Host: "192.168.1.1", Unicode: "192.168.1.1", Kind: Other, IP: true}},
		{"ipv4 decimal", ours, "3232235777", Finding{Host: "3232235777", Unicode: "3232235777", Kind: Other, IP: true}},
		{"ipv4 hex", ours, "0xC0A80001", Finding{Host: "0xc0a80001", Unicode: "0xc0a80001", Kind: Other, IP: true}},
		{"ipv4 octal", ours, "0300.0250.1.1", Finding{Host: "0300.0250.1.1", Unicode: "0300.0250.1.1", Kind: Other, IP: true}},
		{"ipv4 three parts", ours, "192.168.257", Finding{Host: "192.168.257", Unicode: "192.168.257", Kind: Other, IP: true}},
		{"ipv4 fullwidth", ours, "１２７.０.０.１", Finding{Host: "１２７.０.０.１", Unicode: "127.0.0.1", Kind: Other, IP: true}},
		{"ipv6 loopback", ours, "[::1]", Finding{Host: "::1", Unicode: "::1", Kind: Other, IP: true}},
		{"ipv6 with port", ours, "[2001:DB8::1]:8443", Finding{Host: "2001:db8::1", Unicode: "2001:db8::1", Kind: Other, IP: true}},
		{"ipv6 bare", ours, "fe80::1%eth0", Finding{Host: "fe80::1%eth0", Unicode: "fe80::1%eth0", Kind: Other, IP: true}},
		{"not ipv4: part too big", ours, "256.1.1.1", Finding{Host: "256.1.1.1", Unicode: "256.1.1.1", Kind: Other}},
		{"not ipv4: five parts", ours, "1.2.3.4.5", Finding{Host: "1.2.3.4.5", Unicode: "1.2.3.4.5", Kind: Other}},
		{"not ipv4: bad octal", ours, "09.1.1.1", Finding{Host: "09.1.1.1", Unicode: "09.1.1.1", Kind: Other}},
		{"not ipv4: over 32 bits", ours, "4294967296", Finding{Host: "4294967296", Unicode: "4294967296", Kind: Other}},

		// Shorteners.
		{"shortener", ours, "bit.ly", Finding{Host: "bit.ly", Unicode: "bit.ly", Kind: Other, Shortener: true}},
		{"shortener upper case with dot", ours, "TinyURL.com.", Finding{Host: "tinyurl.com", Unicode: "tinyurl.com", Kind: Other, Shortener: true}},
		{"shortener subdomain", ours, "www.t.co", Finding{Host: "www.t.co", Unicode: "www.t.co", Kind: Other, Shortener: true}},
		{"shortener and embedded", ours, "gatehouse.bit.ly",
			Finding{Host: "gatehouse.bit.ly", Unicode: "gatehouse.bit.ly", Kind: Embedded, Like: "gatehouse.example", Shortener: true}},
		{"not a shortener", ours, "tbit.ly", Finding{Host: "tbit.ly", Unicode: "tbit.ly", Kind: Other}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.ours.Check(tt.host)
			if !equalFinding(got, tt.want) {
				t.Errorf("Check(%q)\n got %+v\nwant %+v", tt.host, got, tt.want)
			}
			// The compiled form must agree with the cached one.
			if again := tt.ours.Compile().Check(tt.host); !equalFinding(again, got) {
				t.Errorf("Compile().Check(%q) = %+v, Check = %+v", tt.host, again, got)
			}
		})
	}
}

func equalFinding(a, b Finding) bool {
	return a.Host == b.Host && a.Unicode == b.Unicode && a.Punycode == b.Punycode &&
		slices.Equal(a.Scripts, b.Scripts) && a.Kind == b.Kind && a.Like == b.Like &&
		a.IP == b.IP && a.Shortener == b.Shortener
}

func TestMixedScript(t *testing.T) {
	for _, tt := range []struct {
		host string
		want bool
	}{
		{"xn--gathouse-e8g.example", true}, // Latin + Cyrillic
		{"gatehοuse.com", true},            // Latin + Greek
		{"ゲート館.jp", false},                 // Katakana + Han: ordinary Japanese
		{"gateハウス.jp", false},              // Latin + Katakana: allowed with Japanese
		{"ゲートхаус.jp", true},               // Katakana + Cyrillic
		{"gatehouse.example", false},
	} {
		if got := ours.Check(tt.host).MixedScript(); got != tt.want {
			t.Errorf("Check(%q).MixedScript() = %v, want %v (scripts %v)", tt.host, got, tt.want, ours.Check(tt.host).Scripts)
		}
	}
}

// TestEditOne compares editOne and swapped with a plain dynamic-programming
// Levenshtein / transposition check on random short strings over a small
// alphabet (so that near misses are common), including multi-byte runes.
func TestEditOne(t *testing.T) {
	alphabet := []rune{'a', 'b', 'é', 'е'} // Latin a, b, é; Cyrillic е
	r := rand.New(rand.NewPCG(1, 2))
	word := func() string {
		n := r.IntN(6)
		s := make([]rune, n)
		for i := range s {
			s[i] = alphabet[r.IntN(len(alphabet))]
		}
		return string(s)
	}
	for range 20000 {
		a, b := word(), word()
		if got, want := editOne(a, b), levenshtein([]rune(a), []rune(b)) == 1; got != want {
			t.Fatalf("editOne(%q, %q) = %v, want %v", a, b, got, want)
		}
		if got, want := swapped(a, b), isTransposition([]rune(a), []rune(b)); got != want {
			t.Fatalf("swapped(%q, %q) = %v, want %v", a, b, got, want)
		}
	}
}

func levenshtein(a, b []rune) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

func isTransposition(a, b []rune) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i+1 < len(a); i++ {
		if a[i] != a[i+1] && a[i] == b[i+1] && a[i+1] == b[i] &&
			slices.Equal(a[:i], b[:i]) && slices.Equal(a[i+2:], b[i+2:]) {
			return true
		}
	}
	return false
}

// TestSkeletonASCII checks the byte-table fast path against the library on
// every printable ASCII pair, and that the brief's confusions hold.
func TestSkeletonASCII(t *testing.T) {
	for c := 0x20; c < 0x7f; c++ {
		for d := 0x20; d < 0x7f; d++ {
			s := string([]byte{byte(c), byte(d)})
			if got, want := skeleton(s), slowSkeleton(s); got != want {
				t.Fatalf("skeleton(%q) = %q, library says %q", s, got, want)
			}
		}
	}
	// Capital I is not among them: hosts are lower-cased first, as the
	// DNS and the address bar treat them.
	for _, p := range [][2]string{{"rn", "m"}, {"0", "o"}, {"1", "l"}, {"gatеhouse", "gatehouse"}, {"ｇａｔｅｈｏｕｓｅ", "gaｔehoｕse"}} {
		if skeleton(p[0]) != skeleton(p[1]) {
			t.Errorf("skeleton(%q) = %q, skeleton(%q) = %q; want equal", p[0], skeleton(p[0]), p[1], skeleton(p[1]))
		}
	}
	var buf keyBuf
	if n := testing.AllocsPerRun(10, func() { appendKey(&buf, "rnail-example-0001") }); n != 0 {
		t.Errorf("appendKey of an ASCII label allocates %v times, want 0", n)
	}
	long := strings.Repeat("%", 100) // 6 bytes of skeleton each: too long for the buffer
	if got, want := string(appendKey(&buf, long)), slowSkeleton(long); got != want {
		t.Errorf("appendKey of an over-long label = %q, want %q", got, want)
	}
}

func TestShortenersSorted(t *testing.T) {
	if !sort.StringsAreSorted(shorteners) {
		t.Fatal("shorteners must be sorted for the binary search")
	}
	for _, s := range []string{"t.co", "goo.gl", "ow.ly", "is.gd", "buff.ly", "rebrand.ly", "cutt.ly", "t.ly", "x.gd", "amzn.to", "lin.ee"} {
		if !ours.Check(s).Shortener {
			t.Errorf("%s is not flagged as a shortener", s)
		}
	}
}

// TestCheckAllocations pins the allocation budget of the common cases. Hosts
// that are ours cost nothing. Any other host costs one allocation that is not
// ours to remove: publicsuffix.PublicSuffix first tries netip.ParseAddr,
// whose error for a non-IP name is allocated.
func TestCheckAllocations(t *testing.T) {
	ours.Check("warm.up") // fill the cache
	for _, tt := range []struct {
		host string
		max  float64
	}{
		{"gatehouse.example", 0},
		{"login.gatehouse.example", 0},
		{"192.168.1.1", 0},
		{"tinyurl.com", 1},
		{"www.mail.example.com", 1}, // skeletons with rn for m stay on the stack
		{"gatehouse-login.example.net", 1},
		{"gatehuose.example", 1},
	} {
		if n := testing.AllocsPerRun(100, func() { ours.Check(tt.host) }); n > tt.max {
			t.Errorf("Check(%q) allocates %v times, want at most %v", tt.host, n, tt.max)
		}
	}
}

// TestCheckOddInput feeds what a careless URL parser might pass on; each must
// come back as a Finding with a Kind, Host lower-cased and trimmed.
func TestCheckOddInput(t *testing.T) {
	for _, tt := range []struct{ in, host string }{
		{"\x00", "\x00"},
		{"\xff\xfe", "\ufffd\ufffd"}, // strings.ToLower replaces invalid UTF-8
		{".", ""},
		{"..", ""},
		{":", ""},
		{"[", ""},
		{"[]", ""},
		{"]", "]"},
		{"xn--", "xn--"},
		{"xn--.xn--", "xn--.xn--"},
		{"-.-", "-.-"},
		{"a:b:c", "a:b:c"},
		{"  Gatehouse.Example  ", "gatehouse.example"},
		{"\u200d", "\u200d"},
		{"ー", "ー"},
	} {
		f := ours.Check(tt.in)
		if f.Kind == "" || f.Host != tt.host {
			t.Errorf("Check(%q) = %+v, want Host %q and a Kind", tt.in, f, tt.host)
		}
	}
}

func FuzzCheck(f *testing.F) {
	for _, s := range []string{
		"gatehouse.example", "GateHouse.Example.", "xn--gathouse-e8g.example", "gatеhouse.example",
		"ゲートハウス.jp", "[::1]:8080", "0xC0A80001", "0300.0250.1.1", "3232235777", "bit.ly",
		"gatehouse.example.evil.net", "xn--zz.example", "a..b", "", "\xff", "[", "xn--", "１２７.０.０.１",
		"ｇａｔｅｈｏｕｓｅ.example", "gate\u200dhouse.com", "%00", "0x.0x.0x.0x",
	} {
		f.Add(s)
	}
	m := ours.Compile()
	f.Fuzz(func(t *testing.T, host string) {
		got := m.Check(host)
		if got.Kind == "" {
			t.Fatalf("Check(%q): empty Kind", host)
		}
		if (got.Kind == Exact || got.Kind == Subdomain || got.Kind == Confusable || got.Kind == Edit ||
			got.Kind == Swap || got.Kind == Embedded) != (got.Like != "") {
			t.Fatalf("Check(%q) = %+v: Like must be set exactly when something of ours matched", host, got)
		}
		if len(got.Scripts) == 1 {
			t.Fatalf("Check(%q): single script reported: %v", host, got.Scripts)
		}
	})
}

func BenchmarkCheck(b *testing.B) {
	ours.Check("warm.up")
	for _, h := range []string{
		"gatehouse.example",           // ours
		"mail.gatehouse.example",      // under ours
		"www.example.com",             // unrelated, the usual case
		"gatehouse-login.example.net", // embedded
		"gatehuose.example",           // swap
		"xn--gathouse-e8g.example",    // punycode, mixed script, confusable
		"ゲートハウス.jp",                   // Unicode
		"bit.ly",                      // shortener
		"192.168.1.1",                 // IP
	} {
		b.Run(h, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				ours.Check(h)
			}
		})
	}
}
