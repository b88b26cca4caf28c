// Package kanji spots Chinese hands in Japanese text. Phishing "Japanese" is
// often written outside Japan, and its writers' keyboards produce simplified
// Chinese forms (帐 for 帳, 户 for 戸, 们, 这, 时, 订, 单, 认, 证, 码, 验 …) that no
// Japanese character set has. Such an ideograph, in text that is otherwise
// Japanese, is a precise signal: a message that Japanese software wrote
// cannot contain it.
//
// "Japanese character sets" are JIS X 0208 (the classic 6,355 kanji that
// every Japanese system has), JIS X 0213:2004 (its extension to 10,050
// kanji, which covers all of JIS X 0208), and the extension kanji of
// Windows-31J, the Shift_JIS that Japanese Windows and much Japanese mail and
// web text actually use. That last set is small (360 kanji, 84 of them
// outside JIS X 0213) but it holds forms common in names that JIS X 0213
// left out, 髙 (as in 髙島屋, 髙橋) above all, so without it genuine mail
// addressed to such a name would be flagged. None of the simplified forms
// above is in any of the three.
//
// Genuine Japanese can still trip it with a character that no Japanese set
// has, 𠮷 (the "tsuchi-yoshi" of 𠮷野家) being the known case; callers should
// treat Foreign as strong evidence, not proof.
package kanji

//go:generate python3 gen_jis0213.py

import (
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/encoding/japanese"
)

// minKana is how many kana make a text Japanese. Chinese writing borrows の
// as a stylish 的 and, now and then, a katakana word; a text with one or two
// kana is still Chinese. Three is met by any Japanese sentence (its particles
// alone), and a phisher posing as Japanese writes many more.
const minKana = 3

// Japanese reports whether text reads as Japanese: it holds at least three
// hiragana or katakana (full or half width). The prolonged sound mark ー, the
// middle dot ・ and the voicing marks ゛゜ are shared with Chinese typography
// (Unicode's Common script) and do not count.
func Japanese(text string) bool {
	n := 0
	for _, r := range text {
		if isKana(r) {
			if n++; n >= minKana {
				return true
			}
		}
	}
	return false
}

// Foreign returns the distinct Han ideographs in text that neither JIS X 0208
// nor JIS X 0213 (nor Windows-31J, see the package comment) can encode, in
// order of first appearance, when text is Japanese (contains at least 3
// hiragana or katakana, see Japanese); nil otherwise. Text with no kana is
// not pretending to be Japanese, so it is not judged.
//
// Only Han ideographs are judged (Unicode script Han and property
// Ideographic): not kana, Latin or punctuation, nor the iteration mark 々
// (Han but not an ideograph), 〆 (Common) or the CJK radicals; 〇 is an
// ideograph and is judged (and is in JIS X 0208).
func Foreign(text string) []rune {
	return foreign(text, false)
}

// ForeignIn is Foreign for a piece of a text already known to be Japanese
// (a line added to a Japanese message): the piece itself need hold no
// kana — 「您的帐户已被锁定。」 added to one is named too.
func ForeignIn(piece string) []rune {
	return foreign(piece, true)
}

func foreign(text string, japanese bool) []rune {
	var found []rune
	var seen map[rune]bool // only once found is long enough to need it
	kana := 0
	for _, r := range text {
		if r < 0x3000 {
			continue // ASCII, Latin, punctuation: nothing to judge or count
		}
		if isKana(r) {
			kana++
			continue
		}
		if !Ideograph(r) || InJISX0213(r) || InWindows31J(r) {
			continue
		}
		if seen != nil {
			if seen[r] {
				continue
			}
			seen[r] = true
		} else if contains(found, r) {
			continue
		} else if len(found) == 16 {
			// A linear search is cheapest for the few foreign forms
			// of a phishing message, but a text that is mostly
			// Chinese would make it quadratic.
			seen = make(map[rune]bool, 64)
			for _, f := range found {
				seen[f] = true
			}
			seen[r] = true
		}
		found = append(found, r)
	}
	if kana < minKana && !japanese {
		return nil
	}
	return found
}

func contains(rs []rune, r rune) bool {
	for _, x := range rs {
		if x == r {
			return true
		}
	}
	return false
}

func isKana(r rune) bool {
	switch {
	case r < 0x3041:
		return false
	case r <= 0x30FF:
		// Hiragana and Katakana blocks; their Common-script marks
		// (゛゜ U+309B–309C, ・ U+30FB, ー U+30FC) and the combining
		// voicing marks (Inherited) fall through to the tables.
		return unicode.In(r, unicode.Hiragana, unicode.Katakana)
	case r < 0xFF66:
		return 0x31F0 <= r && r <= 0x31FF || 0x32D0 <= r && r <= 0x32FE ||
			0x3300 <= r && r <= 0x3357 // small kana, circled and squared katakana
	case r <= 0xFF9D:
		return r != 0xFF70 // half-width katakana, less the half-width ー
	default:
		return r >= 0x1AFF0 && unicode.In(r, unicode.Hiragana, unicode.Katakana) // historic kana
	}
}

// Ideograph reports whether r is a Han ideograph, the only kind of rune
// Foreign judges.
func Ideograph(r rune) bool {
	if 0x4E00 <= r && r <= 0x9FFF {
		return true // the Unified Ideographs block, all assigned
	}
	return r >= 0x3007 && unicode.Is(unicode.Han, r) && unicode.Is(unicode.Ideographic, r)
}

// InJISX0213 reports whether JIS X 0213:2004 can encode r, per the table
// generated from CPython's euc_jis_2004 codec (gen_jis0213.py). Only
// ideographs and the few symbols of U+3000–U+303F are in the table.
func InJISX0213(r rune) bool {
	if jisX0213Lo <= r && r <= jisX0213Hi {
		i := r - jisX0213Lo
		return jisX0213BMP[i/64]&(1<<(i%64)) != 0
	}
	if r < 0x20000 {
		return false
	}
	lo, hi := 0, len(jisX0213Supplementary)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		switch s := jisX0213Supplementary[m]; {
		case r < s[0]:
			hi = m
		case r > s[1]:
			lo = m + 1
		default:
			return true
		}
	}
	return false
}

// InJISX0208 reports whether JIS X 0208 can encode r.
//
// golang.org/x/text has no encoder for exactly JIS X 0208. Its EUCJP encoder
// adds JIS X 0212 (鷗 encodes, as 8F EC BF) and the IBM extensions; its
// ShiftJIS encoder is the WHATWG Shift_JIS, that is Windows-31J: JIS X 0208
// plus NEC's row 13 and the IBM extensions (髙 encodes, as EE E0). So the
// ShiftJIS encoding is taken and kept only if it falls in a JIS X 0208 row:
// rows 1–8 (symbols, kana, 〇) and 16–84 (the kanji).
func InJISX0208(r rune) bool {
	row, ok := sjisRow(r)
	return ok && (row <= 8 || 16 <= row && row <= 84)
}

// InWindows31J reports whether Windows-31J (Microsoft's Shift_JIS, code
// page 932) can encode r: JIS X 0208 and its NEC and IBM extensions.
func InWindows31J(r rune) bool {
	_, ok := sjisRow(r)
	return ok
}

// sjisRow returns the JIS row (ku) of r's Shift_JIS (Windows-31J) encoding,
// or false if r has none or is a single byte. Only the Basic Multilingual
// Plane holds such runes, so they are looked up in a table that the x/text
// encoder fills on first use: encoding each rune every time would cost a
// transformer call, and a table for all of them at start-up would cost
// every program that imports the package.
func sjisRow(r rune) (int, bool) {
	if r < sjisLo || r > sjisHi {
		return 0, false
	}
	sjisOnce.Do(fillSJIS)
	row := sjisRows[r-sjisLo]
	return int(row), row != 0
}

// The table spans the Hiragana block to the end of the Compatibility
// Ideographs, where all double-byte Han and kana of Windows-31J lie.
const (
	sjisLo = 0x3000
	sjisHi = 0xFAFF
)

var (
	sjisOnce sync.Once
	sjisRows *[sjisHi - sjisLo + 1]uint8
)

func fillSJIS() {
	rows := new([sjisHi - sjisLo + 1]uint8)
	enc := japanese.ShiftJIS.NewEncoder()
	var src [utf8.UTFMax]byte
	var dst [8]byte
	for r := rune(sjisLo); r <= sjisHi; r++ {
		n := utf8.EncodeRune(src[:], r)
		enc.Reset()
		m, _, err := enc.Transform(dst[:], src[:n], true)
		if err != nil || m != 2 {
			continue
		}
		rows[r-sjisLo] = uint8(jisRow(dst[0], dst[1]))
	}
	sjisRows = rows
}

// jisRow returns the JIS row (1–120) of a double-byte Shift_JIS code: each
// lead byte covers two rows, the second when the trail byte is 0x9F or
// above.
func jisRow(lead, trail byte) int {
	base := int(lead) - 0x81
	if lead >= 0xE0 {
		base = int(lead) - 0xC1
	}
	row := base*2 + 1
	if trail >= 0x9F {
		row++
	}
	return row
}
