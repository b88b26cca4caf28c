package check

import (
	"net/url"
	"regexp"
	"slices"
	"strings"

	"golang.org/x/text/unicode/norm"

	"gatehouse/internal/check/kanji"
	"gatehouse/internal/check/lookalike"
)

// urlInText finds URLs written in text: with a scheme, or a bare
// www. host. Hosts may be Unicode (an IDN written out).
var urlInText = mustPattern(`(?i)\b(?:https?://|www\.)[^\s<>"'()（）「」『』、。]+`)

// originLine is the last line of an SMS code message: "@host #code"
// (the WebOTP format), which lets a phone offer the code only on that host.
var originLine = regexp.MustCompile(`(?m)^\s*@([^\s#]+)\s+#([0-9A-Za-z]+)\s*$`)

// referenceInText finds something written like one of our references. The
// alphabet is looser than ours on purpose: a made-up one with a 0 or an O
// is still an imitation, and is reported as one.
var referenceInText = mustPattern(`(?i)\bGH[-‐－ ]?[0-9A-Z]{4}[-‐－ ]?[0-9A-Z]{4}(?:[-‐－ ]?[0-9A-Z]{4})?\b`)

// Content patterns. Each request pattern is checked per sentence, and a
// sentence that says not to do it ("never give this code to anyone",
// 「コードを他人に教えないでください」) is not a request: every genuine
// message says that.
var (
	negation = regexp.MustCompile(`(?i)\b(never|don't|do not|won't|will not|not ask|no one|nobody)\b|ません|ないで|ないよう|決して|絶対に|しないで`)

	asksCode = mustPatterns(
		`(?i)\b(reply|respond|text back|write back)\b[^.!?\n]{0,60}\b(code|pin|otp|passcode|number)\b`,
		`(?i)\b(tell|give|read|send|provide|share|forward)\b[^.!?\n]{0,40}\b(code|pin|otp|passcode)\b[^.!?\n]{0,40}\b(us|agent|staff|team|support|caller|operator|representative|below|link|form|page)\b`,
		`(?i)\b(tell|give|read|send|provide|share|forward)\b[^.!?\n]{0,20}\b(us|our|the agent|the caller|the operator|support)\b[^.!?\n]{0,40}\b(code|pin|otp|passcode)\b`,
		`(?i)\b(enter|type|input|submit)\b[^.!?\n]{0,40}\b(code|pin|otp|passcode)\b[^.!?\n]{0,60}\b(at|on|in|via) (the )?(link|form|page|site|website|url)\b[^.!?\n]{0,10}(below|above|http|www)`,
		`(コード|認証番号|確認番号|ワンタイム|暗証番号|番号)[^。！？\n]{0,30}(返信|お伝え|伝えて|教えて|お知らせ|送信して|送って|読み上げ|ご連絡|転送)`,
		`(下記|以下|こちら|リンク|URL|ＵＲＬ|サイト|ページ)[^。！？\n]{0,30}(コード|認証番号|確認番号)[^。！？\n]{0,20}(入力|登録)`,
	)
	asksPassword = mustPatterns(
		// The password must be what is to be entered: "enter your email
		// and password", not "enter this code to choose a new password".
		`(?i)\b(enter|confirm|verify|update|provide|re-?enter|type|submit|send|reply with|validate)\s+(?:(?:your|the|my|us|account|current|login|sign-in|old|existing|email|e-mail|and|or|username|user|id|name|details|credentials|information|,|&)\s*){0,5}pass(word|phrase)\b`,
		`(?i)\bpassword\b[^.!?\n]{0,30}\b(below|here|link|form|to (us|continue|verify|confirm))\b`,
		// A request ("…を入力してください", "ご確認ください"), not a
		// report ("パスワードが入力されました"): the verb in a form that asks.
		`(パスワード|暗証番号|ログイン情報|ID・パスワード|ＩＤ・パスワード)[^。！？\n]{0,30}(入力して|ご入力|入力の上|入力をお願い|確認して|ご確認ください|更新して|ご更新|送信して|返信して|お知らせください|ご記入|登録して|再登録して|お伝えください|教えて|入力ください)`,
	)
	asksCard = mustPatterns(
		`(?i)\b(card number|credit card|debit card|cvv|cvc|cvv2|security code on|expiry date|expiration date|billing information|payment details)\b`,
		`クレジットカード|カード番号|カード情報|有効期限|セキュリティコード|お支払い情報|支払い情報|口座番号|暗証番号`,
	)
	// We never ask anyone to call us, nor for personal details.
	asksCall = mustPatterns(
		`(?i)\b(call|phone|dial|ring|contact|reach)\b[^.!?\n]{0,40}(\+?\d[\d ().-]{7,}\d)`,
		`(電話|お電話|フリーダイヤル|ご連絡|連絡先|問い合わせ|お問合せ)[^。！？\n]{0,30}(\+?[0-9０-９][0-9０-９ ()（）.\-－‐]{7,}[0-9０-９])`,
	)
	asksPersonal = mustPatterns(
		`(?i)\b(date of birth|birth ?date|birthday|social security|passport number|driver'?s licen[cs]e|mother'?s maiden name|national id|tax id)\b`,
		`生年月日|マイナンバー|個人番号|運転免許証|パスポート番号|保険証|母親の旧姓`,
	)
	pressure = mustPatterns(
		`(?i)\b(suspend(ed)?|suspension|lock(ed)? (out|down)|will be (locked|closed|deleted|disabled|terminated|suspended)|permanently (closed|deleted|disabled)|within \d+ ?(hours?|hrs?|days?|minutes?)|immediately|urgent(ly)?|final (notice|warning)|last warning|act now|right away|as soon as possible|unusual activity|restricted|expires? today)\b`,
		`至急|緊急|停止|凍結|[0-9０-９]+時間以内|本日中|本人確認|利用制限|制限され|ロックされ|失効|削除されます|直ちに|ただちに|今すぐ|速やかに|最終通告|重要なお知らせ|異常なログイン|不正アクセス`,
	)
)

// addressInText finds email addresses written in a text ("From: … <x@y>"
// pasted above a message, "write to help@…").
var addressInText = regexp.MustCompile(`[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+`)

// addresses names the first address in text whose domain imitates ours.
// Only lines with an "@" are searched: the expression has no literal to
// start from, and on a whole message Go's regexp would run its automaton.
func (j *judge) addresses(text string) {
	for line := range strings.Lines(text) {
		if strings.IndexByte(line, '@') < 0 {
			continue
		}
		for _, a := range addressInText.FindAllString(line, 20) {
			if f := j.ours.Check(domainOf(a)); f.Kind == lookalike.Confusable || f.Kind == lookalike.Edit || f.Kind == lookalike.Swap || f.Kind == lookalike.Embedded {
				j.addAs(Bad, "address_lookalike", lookalikeKey("address_lookalike", f), showAddr(strings.ToLower(a), f), f.Like, j.t("kind."+string(f.Kind)))
				return
			}
		}
	}
}

// sentenceEnd splits text into sentences. The content patterns are matched
// sentence by sentence: none of them spans a sentence end, and on short
// inputs Go's regexp runs its backtracker, several times faster than the
// automaton a whole 50 KB message needs.
var sentenceEnd = regexp.MustCompile(`[.!?。！？\n]+`)

// sentence is a piece of text and its folded form (see fold).
type sentence struct{ text, folded string }

// sentences splits text for the content patterns, dropping empty pieces.
func sentences(text string) []sentence {
	var out []sentence
	for _, p := range sentenceEnd.Split(text, -1) {
		if strings.TrimSpace(p) != "" {
			out = append(out, sentence{p, fold(p)})
		}
	}
	return out
}

func anyIn(ps []pattern, s sentence) string {
	for _, p := range ps {
		if m := p.find(s.text, s.folded); m != "" {
			return m
		}
	}
	return ""
}

// findRequest finds a request (not a warning against one: "never give
// this code to anyone") among the sentences and returns its words.
func findRequest(ps []pattern, sents []sentence) string {
	for _, s := range sents {
		if m := anyIn(ps, s); m != "" && !negation.MatchString(s.text) {
			return m
		}
	}
	return ""
}

// findAll returns up to max distinct phrases the patterns find among the
// sentences, in the order they appear: a reason quotes all the pressure a
// message applies, not only its first word.
func findAll(ps []pattern, sents []sentence, max int) []string {
	var out []string
	for _, s := range sents {
		for _, p := range ps {
			for _, m := range p.findAll(s.text, s.folded, max) {
				m = quote(m)
				if !slices.ContainsFunc(out, func(x string) bool { return strings.EqualFold(x, m) }) {
					out = append(out, m)
				}
				if len(out) == max {
					return out
				}
			}
		}
	}
	return out
}

// claimsUs reports whether text presents itself as coming from us: our
// name, one of our domains, or a reference in our format.
func (j *judge) claimsUs(text string) bool {
	t := strings.ToLower(norm.NFKC.String(text))
	if b := strings.ToLower(j.c.ServiceName); b != "" && strings.Contains(t, b) {
		return true
	}
	for _, d := range j.ours.Domains {
		if d != "" && strings.Contains(t, d) {
			return true
		}
	}
	return findFirst(referenceInText, t) != ""
}

// signals looks for the marks of phishing in text (and the links a reader
// sees in it). It is run on everything that is not what we sent: a whole
// unknown message, or what a paste adds to one of ours.
func (j *judge) signals(text string, links []link) {
	claims := j.claims
	strong := Note
	if claims {
		strong = Bad
	}
	for _, l := range links {
		j.link(l, strong)
	}
	sents := sentences(text)
	if m := findRequest(asksCode, sents); m != "" {
		j.add(Bad, "asks_code", quote(m))
	}
	if m := findRequest(asksPassword, sents); m != "" {
		j.add(Bad, "asks_password", quote(m))
	}
	if m := findAll(asksCard, sents, 1); len(m) > 0 {
		j.add(Bad, "asks_card", m[0])
	}
	if m := findAll(asksCall, sents, 1); len(m) > 0 {
		j.add(Bad, "asks_call", m[0])
	}
	if m := findAll(asksPersonal, sents, 1); len(m) > 0 {
		j.add(Bad, "asks_personal", m[0])
	}
	if m := findAll(pressure, sents, 3); len(m) > 0 {
		// Our own security notices say 停止 and 本人確認 too: pressure
		// alone decides nothing, and joins the case against a message
		// that something else shows is not ours (finish) — unless it is
		// in lines added to our words, which are nobody's but the
		// sender's.
		level := Note
		if j.addedOnly {
			level = Bad
		}
		j.add(level, "pressure", strings.Join(m, j.t("quote_join")))
	}
	j.addresses(text)
	for _, m := range originLine.FindAllStringSubmatch(text, 4) {
		host := hostOf(m[1])
		if f := j.ours.Check(host); f.Kind != lookalike.Exact {
			j.add(Bad, "sms_origin_elsewhere", showHost(f))
		}
	}
	fs := kanji.Foreign(text)
	if len(fs) == 0 && j.japanese {
		fs = kanji.ForeignIn(text)
	}
	if len(fs) > 0 {
		j.add(Bad, "foreign_kanji", string(fs))
	}
}

// renderedLink is how a mail program writes an HTML link as text when a
// holder copies a message: the visible text, then the real URL in angle
// brackets ("https://gatehouse.example/x <https://elsewhere.example/y>").
var renderedLink = mustPattern(`(?i)(\S+)\s*<((?:https?://)[^>\s]+)>`)

// linksInText returns the URLs written in text as links whose visible text
// is themselves, and the links a mail program wrote out as
// "text <URL>" with their visible text.
func linksInText(text string) []link {
	var out []link
	// "text <URL>" may be wrapped across lines: matched on the whole text,
	// when it holds a "<http" at all.
	if renderedLink.gated(fold(text)) {
		for _, m := range renderedLink.get().re.FindAllStringSubmatch(text, maxLinks) {
			out = append(out, link{href: m[2], text: strings.TrimRight(m[1], ".,;:!?")})
		}
	}
	n := 0
	urlInText.lines(text, func(line string) bool {
		for _, u := range urlInText.get().re.FindAllString(line, maxLinks-n) {
			u = strings.TrimRight(u, ".,;:!?")
			out = append(out, link{href: u, text: u})
			n++
		}
		return n < maxLinks
	})
	return out
}

// link judges one link.
func (j *judge) link(l link, strong Level) {
	href := l.href
	if inner, _, ok := unwrapLink(href); ok {
		// Judged by where it really leads, not by the security service
		// (or redirector) it passes through — and so is its text, when
		// that is the rewritten URL itself.
		href = inner
		if t, _, ok := unwrapLink(l.text); ok {
			l.text = t
		}
	}
	if strings.HasPrefix(strings.ToLower(href), "www.") {
		href = "http://" + href
	}
	u, err := url.Parse(href)
	if err != nil || u.Host == "" {
		if err == nil && (u.Scheme == "mailto" || u.Scheme == "tel" || u.Scheme == "") {
			return
		}
		return
	}
	f := j.ours.Check(u.Host)
	if vh := visibleHost(l.text); vh != "" && !sameSite(vh, f.Host) {
		j.add(Bad, "link_text_mismatch", l.text, showHost(f))
	}
	switch {
	case f.Kind == lookalike.Exact || f.Kind == lookalike.Subdomain:
		return
	case f.IP:
		j.add(Bad, "link_ip", showHost(f))
	case f.Shortener:
		j.add(Bad, "link_shortener", showHost(f))
	}
	if f.Punycode || f.MixedScript() {
		j.addAs(Bad, "link_punycode", punycodeKey("link_punycode", f), f.Host, f.Unicode, scripts(f.Scripts))
	}
	switch f.Kind {
	case lookalike.Confusable, lookalike.Edit, lookalike.Swap, lookalike.Embedded:
		j.addAs(Bad, "link_lookalike", lookalikeKey("link_lookalike", f), showHost(f), f.Like, j.t("kind."+string(f.Kind)))
		j.res.lookalike(f.Host)
	default:
		if !f.IP && !f.Shortener {
			j.add(strong, "link_foreign", showHost(f))
		}
	}
}

// visibleHost returns the host a link's visible text shows, when the text
// looks like a URL or a host name; "" for words ("click here").
func visibleHost(text string) string {
	t := strings.TrimSpace(norm.NFKC.String(text))
	if t == "" || strings.ContainsAny(t, " \t\n") {
		return ""
	}
	if strings.Contains(t, "://") || strings.HasPrefix(strings.ToLower(t), "www.") {
		return hostOf(t)
	}
	if h := hostOf(t); strings.Count(h, ".") >= 1 && !strings.HasSuffix(h, ".") && strings.Trim(h, "abcdefghijklmnopqrstuvwxyz0123456789.-") == "" && !strings.HasPrefix(h, ".") {
		return h
	}
	return ""
}

// sameSite reports whether a link's visible host and its real host are the
// same name (www. aside).
func sameSite(a, b string) bool {
	a, b = strings.TrimPrefix(a, "www."), strings.TrimPrefix(b, "www.")
	return a == b
}

// showHost names a host for a reader: decoded from punycode when it is.
func showHost(f lookalike.Finding) string {
	if f.Unicode != "" && f.Unicode != f.Host {
		return f.Unicode + " (" + f.Host + ")"
	}
	return f.Host
}

func scripts(s []string) string { return strings.Join(s, " + ") }

// quote shortens a found phrase for showing in a reason.
func quote(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 60 {
		s = string(r[:60]) + "…"
	}
	return s
}
