package i18n

import (
	"regexp"
	"strings"
	"testing"
)

// jpChar is a character that makes its neighbourhood Japanese text: kana,
// kanji, the long-vowel mark and Japanese punctuation.
const jpChar = `[ぁ-んァ-ヶー一-龯々〆、。「」『』]`

// japaneseRules are the half-width or spaced punctuation that does not
// belong in Japanese text. Half-width marks between Latin text, digits and
// verbs are left alone: URLs (https://), times (18:59), `{"eml": base64}`,
// "@host #code", "%s (%s)" around an address.
var japaneseRules = []struct {
	re  *regexp.Regexp
	why string
}{
	{regexp.MustCompile(jpChar + `[ \t]*:`), "half-width colon after Japanese (use 「：」)"},
	{regexp.MustCompile(`:[ \t]*` + jpChar), "half-width colon before Japanese (use 「：」)"},
	{regexp.MustCompile(jpChar + `[ \t]*\(`), "half-width bracket after Japanese (use 「（」)"},
	{regexp.MustCompile(`\([ \t]*` + jpChar), "half-width bracket around Japanese (use 「（」)"},
	{regexp.MustCompile(jpChar + `[ \t]*\)`), "half-width bracket around Japanese (use 「）」)"},
	{regexp.MustCompile(`\)[ \t]*` + jpChar), "half-width bracket before Japanese (use 「）」)"},
	{regexp.MustCompile(`：[ \t]`), "space after 「：」"},
	{regexp.MustCompile(`[ \t]：`), "space before 「：」"},
	{regexp.MustCompile(`[ \t]）|（[ \t]`), "space inside 「（）」"},
}

// japanesePunctuation lists what is wrong with the punctuation of a
// Japanese string (nothing for a good one).
func japanesePunctuation(s string) []string {
	var out []string
	for _, r := range japaneseRules {
		if m := r.re.FindString(s); m != "" {
			out = append(out, r.why+": 「"+m+"」")
		}
	}
	return out
}

// The checker catches what it is for, and lets the legitimate half-width
// marks of Japanese strings through.
func TestJapanesePunctuation_Checker(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		s   string
		bad bool
	}{
		// Good.
		{"国番号のない番号は%sの番号として扱います（例：%s）。", false},
		{"コードを送った理由：%s", false},
		{"【%s】ログインコードの送信先が別の番号（末尾%s）に変わりました。", false},
		{"このメッセージが本物か確かめるには、%s をご自身でブラウザに入力してください。", false},
		{"https://id.example.com/why で確認できます。", false},
		{"2026年12月6日 18:59（日本時間）", false},
		{"JSON（{\"reference\"}・{\"text\"}・{\"eml\": base64}）を送ってください。", false},
		{"@id.example.com #123456", false},
		{"%s を読み込めません：%v", false},
		{"操作日時：%s　ブラウザ：%s（%s）　IPアドレス：%s", false},
		{"The code: %s (valid 10 minutes)", false},
		// Bad: each of the review's findings, and their kin.
		{"場所: 不明", true},
		{"例: %s", true},
		{"%s: 不明", true},
		{"コードを送った理由： このアドレス", true},
		{"Gatehouse：パスワード再設定コード (パスワード再設定)", true},
		{"パスワード再設定コード(パスワード再設定)", true},
		{"%s (パスワード再設定)", true},
		{"（%s) のアカウント", true},
		{"末尾%s（ 未確認）", true},
		{"理由 :%s", true},
	} {
		got := japanesePunctuation(tc.s)
		if (len(got) > 0) != tc.bad {
			t.Errorf("%q: found %q, want bad=%v", tc.s, got, tc.bad)
		}
	}
}

// Every Japanese string of the catalog has Japanese punctuation
// (「：」 with no space after it, 「（）」) where it touches Japanese text.
func TestCatalog_JapanesePunctuation(t *testing.T) {
	t.Parallel()
	for _, m := range allMessages() {
		for _, p := range japanesePunctuation(m.ja) {
			t.Errorf("%s: %s\n\t%s", m.key, p, m.ja)
		}
	}
}

// systemWords are words the Japanese strings do not use: the service
// calls itself 当サービス (its operator need not be a company), and a
// holder's actions are 手続き or 操作, not a system's "request".
var systemWords = []struct{ word, instead string }{
	{"当社", "当サービス"},
	{"リクエスト", "手続き・操作"},
	{"申請元", "操作した端末"},
	{"結び付", "登録されて（いない）"},
}

func TestCatalog_JapaneseSpeaksInOneVoice(t *testing.T) {
	t.Parallel()
	for _, m := range allMessages() {
		for _, w := range systemWords {
			if strings.Contains(m.ja, w.word) {
				t.Errorf("%s: says %s (use %s)\n\t%s", m.key, w.word, w.instead, m.ja)
			}
		}
	}
}
