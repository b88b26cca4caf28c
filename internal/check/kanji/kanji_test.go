package kanji

import (
	"math/bits"
	"slices"
	"strings"
	"testing"
)

func TestForeign(t *testing.T) {
	tests := []struct {
		name string
		text string
		want []rune
	}{
		{"simplified forms in Japanese", "您的帐户已被停止，请立即验证。ご確認ください",
			// 您 is in JIS X 0213 (plane 2, row 12), so it is not listed.
			[]rune("帐户请验证")},
		{"the brief's list", "お客様のアカウント帐户们这时订单认证码验をご確認ください", []rune("帐户们这时订单认证码验")},
		{"distinct, in order of first appearance", "验证码を入力してください。验证码は时间内に", []rune("验证码时间")},
		{"half-width katakana count as kana", "ｱｶｳﾝﾄ帐户", []rune("帐户")},
		{"genuine Japanese with rare kanji", "森鷗外と﨑の字、德の字、髙島屋、𠮟る、剝がす、俱楽部。人々の〆切は〇日です", nil},
		{"𠮷 is in no Japanese set", "𠮷野家で牛丼を食べました", []rune("𠮷")},
		{"Chinese without kana is not judged", "您的帐户已被停止，请立即验证。", nil},
		{"Chinese with a decorative の is not judged", "我の帐户被停止", nil},
		{"exactly three kana", "帐户のこと", []rune("帐户")},
		{"two kana and marks that are not kana", "帐户のーー・゛゜こ", nil},
		{"plain Japanese", "ログインがありました。心当たりがない場合は、パスワードを変更してください。", nil},
		{"empty", "", nil},
		{"Latin only", "Your account has been suspended", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Foreign(tt.text)
			if !slices.Equal(got, tt.want) {
				t.Errorf("Foreign(%q) = %q, want %q", tt.text, string(got), string(tt.want))
			}
			if len(tt.want) == 0 && got != nil {
				t.Errorf("Foreign(%q) = %#v, want nil", tt.text, got)
			}
		})
	}
}

func TestForeignManyDistinct(t *testing.T) {
	// More than the 16 the linear search handles: the map must keep the
	// result distinct and ordered all the same.
	const simplified = "帐户们这时订单认证码验请账录银闭冻结邮击链过统务资产额转发现问题为应该让进选择"
	text := "ご確認ください" + simplified + simplified + "帐"
	if got := Foreign(text); string(got) != simplified {
		t.Errorf("Foreign = %q, want %q", string(got), simplified)
	}
}

func TestJapanese(t *testing.T) {
	for _, tt := range []struct {
		text string
		want bool
	}{
		{"ご確認ください", true},
		{"ｱｶｳﾝﾄ", true},
		{"カード", false}, // ー is not kana: two is too few
		{"カードです", true},
		{"のの", false},
		{"您的帐户", false},
		{"ーー・・゛゛", false},
		{"", false},
	} {
		if got := Japanese(tt.text); got != tt.want {
			t.Errorf("Japanese(%q) = %v, want %v", tt.text, got, tt.want)
		}
	}
}

func TestIdeograph(t *testing.T) {
	for _, tt := range []struct {
		r    rune
		want bool
	}{
		{'時', true}, {'时', true}, {'𠮷', true}, {'﨑', true}, {'〇', true}, {'㐀', true},
		{'々', false}, // Han script, but an iteration mark, not an ideograph
		{'〆', false}, // Common script
		{'⺀', false}, // a CJK radical
		{'ア', false}, {'あ', false}, {'a', false}, {'。', false},
	} {
		if got := Ideograph(tt.r); got != tt.want {
			t.Errorf("Ideograph(%q) = %v, want %v", tt.r, got, tt.want)
		}
	}
}

// TestCharacterSets pins, rune by rune, what each set holds. The expected
// values were read off CPython's shift_jis (JIS X 0208), shift_jis_2004 (JIS
// X 0213) and cp932 (Windows-31J) codecs, independently of the tables here.
func TestCharacterSets(t *testing.T) {
	for _, tt := range []struct {
		r                     rune
		x0208, x0213, windows bool
	}{
		{'時', true, true, true},
		{'时', false, false, false},
		{'帐', false, false, false},
		{'〇', true, true, true},
		{'仝', true, true, true},
		{'凜', true, true, true},         // added to JIS X 0208 in 1990
		{'熙', true, true, true},         // likewise
		{'鷗', false, true, false},       // JIS X 0213 plane 1
		{'﨑', false, true, true},        // U+FA11: JIS X 0213 and IBM extensions
		{'德', false, true, true},        // JIS X 0213 and IBM extensions
		{'髙', false, false, true},       // only the IBM extensions
		{'𠮟', false, true, false},       // U+20B9F, added in JIS X 0213:2004
		{'𠮷', false, false, false},      // U+20BB7: in none of them
		{'您', false, true, false},       // JIS X 0213 plane 2
		{'确', false, true, false},       // JIS X 0213 plane 1
		{'丄', false, false, false},      // JIS X 0212 only (CPython's euc_jis_2004 leaks it)
		{'俱', false, true, false},       // JIS X 0213:2004 addition
		{'ア', true, false, true},        // not in the JIS X 0213 table, which holds only ideographs and U+3000–303F
		{'\u9FFF', false, false, false}, // end of the Unified block
	} {
		if got := InJISX0208(tt.r); got != tt.x0208 {
			t.Errorf("InJISX0208(%q) = %v, want %v", tt.r, got, tt.x0208)
		}
		if got := InJISX0213(tt.r); got != tt.x0213 {
			t.Errorf("InJISX0213(%q) = %v, want %v", tt.r, got, tt.x0213)
		}
		if got := InWindows31J(tt.r); got != tt.windows {
			t.Errorf("InWindows31J(%q) = %v, want %v", tt.r, got, tt.windows)
		}
	}
}

// TestSetSizes counts the ideographs of each set against published figures:
// JIS X 0208:1990 has 6,355 kanji (plus 〇 and 仝 among its symbols), JIS X
// 0213:2004 10,050 (plus the same two), and Windows-31J adds 360 IBM
// extension kanji. It also checks that JIS X 0213 covers JIS X 0208, which
// Foreign relies on in that it never asks the slower JIS X 0208 question.
func TestSetSizes(t *testing.T) {
	var n0208, n0213, nWin, winOnly int
	for r := rune(0x3000); r <= 0x3FFFF; r++ {
		if !Ideograph(r) {
			continue
		}
		a, b, c := InJISX0208(r), InJISX0213(r), InWindows31J(r)
		if a {
			n0208++
			if !b {
				t.Errorf("%q is in JIS X 0208 but not in the JIS X 0213 table", r)
			}
			if !c {
				t.Errorf("%q is in JIS X 0208 but not in Windows-31J", r)
			}
		}
		if b {
			n0213++
		}
		if c {
			nWin++
			if !b {
				winOnly++
			}
		}
	}
	if n0208 != 6355+2 {
		t.Errorf("JIS X 0208 ideographs: %d, want 6,357", n0208)
	}
	if n0213 != 10050+2 {
		t.Errorf("JIS X 0213 ideographs: %d, want 10,052", n0213)
	}
	if nWin != n0208+360 {
		t.Errorf("Windows-31J ideographs: %d, want JIS X 0208 + 360", nWin)
	}
	if winOnly != 84 {
		t.Errorf("Windows-31J ideographs outside JIS X 0213: %d, want 84", winOnly)
	}
}

// TestTableIntact checks the generated table against its own count and
// order, so that a hand edit or a truncated regeneration shows.
func TestTableIntact(t *testing.T) {
	n := 0
	for _, w := range jisX0213BMP {
		n += bits.OnesCount64(w)
	}
	prev := rune(0)
	for _, s := range jisX0213Supplementary {
		if s[0] > s[1] || s[0] <= prev {
			t.Fatalf("range %X–%X out of order", s[0], s[1])
		}
		prev = s[1] + 1 // adjacent ranges would have been merged
		n += int(s[1]-s[0]) + 1
	}
	if n != jisX0213Count {
		t.Errorf("table holds %d code points, header says %d", n, jisX0213Count)
	}
}

func TestForeignAllocations(t *testing.T) {
	text := japaneseText(5000)
	InWindows31J('時') // fill the lazy table outside the measurement
	if n := testing.AllocsPerRun(10, func() { Foreign(text) }); n != 0 {
		t.Errorf("Foreign on clean Japanese allocates %v times, want 0", n)
	}
	if n := testing.AllocsPerRun(10, func() { Japanese(text) }); n != 0 {
		t.Errorf("Japanese allocates %v times, want 0", n)
	}
}

func FuzzForeign(f *testing.F) {
	for _, s := range []string{
		"", "您的帐户已被停止，请立即验证。ご確認ください", "𠮷野家", "ｱｶｳﾝﾄ帐户", "\xff\xfeあいう帐",
		"々〆〇", "我の帐户", strings.Repeat("帐", 40) + "あいう",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		got := Foreign(text)
		if !Japanese(text) && got != nil {
			t.Fatalf("Foreign(%q) = %q for text that is not Japanese", text, string(got))
		}
		for i, r := range got {
			if !Ideograph(r) || InJISX0208(r) || InJISX0213(r) || InWindows31J(r) {
				t.Fatalf("Foreign(%q) lists %q, which is not foreign", text, r)
			}
			if slices.Contains(got[:i], r) {
				t.Fatalf("Foreign(%q) lists %q twice", text, r)
			}
			if !strings.ContainsRune(text, r) {
				t.Fatalf("Foreign(%q) lists %q, which is not in the text", text, r)
			}
		}
	})
}

// japaneseText returns at least n bytes of ordinary Japanese prose with rare
// but Japanese kanji in it.
func japaneseText(n int) string {
	const para = "いつもご利用いただきありがとうございます。お客様のアカウントに、新しい端末からのログインがありました。" +
		"心当たりがない場合は、速やかにパスワードを変更し、二段階認証を設定してください。" +
		"森鷗外の『舞姫』、髙島屋の包装紙、長﨑の坂道、德川の歴史を学ぶ。人々の〆切は〇日です。\n"
	var b strings.Builder
	for b.Len() < n {
		b.WriteString(para)
	}
	return b.String()
}

func BenchmarkForeign(b *testing.B) {
	text := japaneseText(50 << 10)
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		if Foreign(text) != nil {
			b.Fatal("clean text flagged")
		}
	}
}

func BenchmarkForeignPhish(b *testing.B) {
	text := japaneseText(50<<10) + "您的帐户已被停止，请立即验证。"
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		Foreign(text)
	}
}

func BenchmarkJapanese(b *testing.B) {
	text := strings.Repeat("Latin text without kana. ", 2048) + "ご確認ください"
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		Japanese(text)
	}
}
