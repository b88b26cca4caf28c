package e2e

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"gatehouse/internal/smtptest"
)

// Issue 10: every email Gatehouse sends is DKIM-signed (RSA and Ed25519)
// and checkable — by gatehouse verify-message, by POST /api/check and on
// the /check page — and the DNS records to publish are printed by
// gatehouse dns-records. These tests run the real binary, a real SMTP
// server and, for the signatures, an independent verifier (Debian's
// python3-dkim).

// visitor is one browser driven over plain HTTP: its own cookie jar (Go's
// jar treats 127.0.0.1 as a secure origin, so the __Host- cookies travel),
// its language, and form posts with the site's own Origin, as a browser
// sends them from the site's pages.
type visitor struct {
	t    *testing.T
	base string
	lang string
	c    *http.Client
}

func newVisitor(t *testing.T, base, lang string) *visitor {
	jar, _ := cookiejar.New(nil)
	c := noRedirect()
	c.Jar = jar
	c.Timeout = 30 * time.Second
	return &visitor{t: t, base: base, lang: lang, c: c}
}

// do sends a GET (form nil) or a form POST and returns the status, the
// Location and the body.
func (v *visitor) do(method, path string, form url.Values) (int, string, string) {
	v.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, v.base+path, body)
	if err != nil {
		v.t.Fatal(err)
	}
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", v.base)
	}
	req.Header.Set("Accept-Language", v.lang)
	resp, err := v.c.Do(req)
	if err != nil {
		v.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(b)
}

func (v *visitor) get(path string) (int, string, string) { return v.do(http.MethodGet, path, nil) }

func (v *visitor) post(path string, form url.Values) (int, string, string) {
	if form == nil {
		form = url.Values{}
	}
	return v.do(http.MethodPost, path, form)
}

// mustPost posts a form and fails the test unless the answer is a 303 to
// a path starting with wantPrefix; it returns the Location.
func (v *visitor) mustPost(step, path string, form url.Values, wantPrefix string) string {
	v.t.Helper()
	status, loc, body := v.post(path, form)
	if status != http.StatusSeeOther || !strings.HasPrefix(loc, wantPrefix) {
		v.t.Fatalf("%s: POST %s answered %d → %q, want 303 → %s…\n%s", step, path, status, loc, wantPrefix, body)
	}
	return loc
}

// challengeOf is the c= of a Location.
func challengeOf(t *testing.T, loc string) string {
	t.Helper()
	u, err := url.Parse(loc)
	if err != nil || u.Query().Get("c") == "" {
		t.Fatalf("no c= in %q", loc)
	}
	return u.Query().Get("c")
}

// sent is one message the SMTP server received, with what the test did
// to make the server send it.
type sent struct {
	Purpose, Lang string
	To            []string
	Raw           []byte // exactly the bytes the SMTP server received
}

func (m sent) ref() string { return smtptest.Header(m.Raw, "X-Gatehouse-Reference") }

func (m sent) name() string { return m.Lang + "/" + m.Purpose + "/" + m.ref() }

// inbox labels what the SMTP server receives, action by action.
type inbox struct {
	t    *testing.T
	s    *smtptest.Server
	lang string
	got  []sent
}

// expect waits until one more message per address in to than already
// labelled is in the mailbox, checks the recipients, and labels the new
// messages with the purpose the action was for.
func (b *inbox) expect(purpose string, to ...string) []sent {
	b.t.Helper()
	want := len(b.got) + len(to)
	msgs := b.s.WaitFor(want, 20*time.Second)
	if len(msgs) < want {
		b.t.Fatalf("%s: %d messages in the mailbox, want %d (%d new)\n%s", purpose, len(msgs), want, len(to), subjects(msgs))
	}
	var out []sent
	var rcpt []string
	for _, m := range msgs[len(b.got):want] {
		s := sent{Purpose: purpose, Lang: b.lang, To: m.To, Raw: m.Data}
		b.got = append(b.got, s)
		out = append(out, s)
		rcpt = append(rcpt, m.To...)
	}
	slices.Sort(rcpt)
	if w := slices.Sorted(slices.Values(to)); !slices.Equal(rcpt, w) {
		b.t.Fatalf("%s: sent to %v, want %v\n%s", purpose, rcpt, w, subjects(msgs))
	}
	return out
}

func subjects(msgs []smtptest.Message) string {
	var sb strings.Builder
	for i, m := range msgs {
		fmt.Fprintf(&sb, "  %d. %v %s (%s)\n", i+1, m.To, smtptest.Header(m.Data, "Subject"), smtptest.Header(m.Data, "X-Gatehouse-Reference"))
	}
	return sb.String()
}

// codeOf is the code printed in a message.
func codeOf(t *testing.T, m sent) string {
	t.Helper()
	c := sixDigits.FindStringSubmatch(textPart(t, m.Raw))
	if c == nil {
		t.Fatalf("no code in %s:\n%s", m.name(), textPart(t, m.Raw))
	}
	return c[1]
}

var (
	otpauthURI  = regexp.MustCompile(`id="otpauth-uri"[^>]*>([^<]+)<`)
	pendingApp  = regexp.MustCompile(`name="e" value="([^"]+)"`)
	backupCodes = regexp.MustCompile(`class="backup-code">([^<]+)<`)
	verdictAttr = regexp.MustCompile(`data-verdict="([a-z_]+)"`)
)

// sendEveryKind drives one holder, in lang, through everything that makes
// the server email them, and returns the messages labelled by purpose.
func sendEveryKind(t *testing.T, p *proc, s *smtptest.Server, lang string) []sent {
	t.Helper()
	box := &inbox{t: t, s: s, lang: lang}
	email, newEmail := "every-"+lang+"@example.com", "every-"+lang+"-new@example.com"
	const pw1, pw2, pw3 = "violet canoe at dawn", "a second violet canoe", "third violet canoe of the day"

	// Sign-up, and its confirmation code.
	home := newVisitor(t, p.URL, lang)
	loc := home.mustPost("sign up", "/signup", url.Values{"email": {email}, "password": {pw1}}, "/signup/confirm?")
	m := box.expect("confirm_email", email)[0]
	home.mustPost("confirm", "/signup/confirm", url.Values{"c": {challengeOf(t, loc)}, "code": {codeOf(t, m)}}, "/account")

	// Someone signs up again with the address: the holder is told.
	newVisitor(t, p.URL, lang).mustPost("sign up again", "/signup", url.Values{"email": {email}, "password": {"someone else's passphrase"}}, "/signup/confirm?")
	box.expect("signup_existing", email)

	// The holder changes the password: a notice.
	home.mustPost("change the password", "/account/password", url.Values{"current_password": {pw1}, "new_password": {pw2}}, "/account")
	box.expect("password_changed", email)

	// A reset: its code, then the notice that the password was set.
	away := newVisitor(t, p.URL, lang)
	loc = away.mustPost("forgot", "/password/forgot", url.Values{"email": {email}}, "/password/reset?")
	m = box.expect("reset_password", email)[0]
	away.mustPost("reset", "/password/reset", url.Values{"c": {challengeOf(t, loc)}, "code": {codeOf(t, m)}, "new_password": {pw3}}, "/signin")
	box.expect("password_reset", email)

	// Sign-in from a browser the account has not used (the new-device
	// check): the second step's code, then the new-device alert.
	z := newVisitor(t, p.URL, lang)
	loc = z.mustPost("sign in on a new device", "/signin", url.Values{"email": {email}, "password": {pw3}}, "/signin/verify?")
	m = box.expect("second_step", email)[0]
	z.mustPost("the emailed code", "/signin/verify", url.Values{"c": {challengeOf(t, loc)}, "code": {codeOf(t, m)}}, "/account")
	box.expect("new_device", email)

	// An authenticator app turns two-step verification on.
	status, _, page := z.get("/account/two-step/app")
	uri, e := otpauthURI.FindStringSubmatch(page), pendingApp.FindStringSubmatch(page)
	if status != 200 || uri == nil || e == nil {
		t.Fatalf("app page: %d, otpauth URI %v, pending app %v\n%s", status, uri, e, page)
	}
	status, _, page = z.post("/account/two-step/app", url.Values{"e": {e[1]}, "name": {"Phone"}, "code": {appCode(t, html.UnescapeString(uri[1]), time.Now())}})
	if status != 200 || len(backupCodes.FindAllString(page, -1)) != 10 {
		t.Fatalf("confirm the app: %d\n%s", status, page)
	}
	box.expect("two_step_on", email)

	// New backup codes.
	status, _, page = z.post("/account/two-step/backup", nil)
	codes := backupCodes.FindAllStringSubmatch(page, -1)
	if status != 200 || len(codes) != 10 {
		t.Fatalf("renew backup codes: %d\n%s", status, page)
	}
	box.expect("backup_renewed", email)

	// A step-up with a backup code (a code by email no longer
	// re-verifies: it is no second factor).
	z.mustPost("re-verify with a backup code", "/account/reverify", url.Values{"next": {"/account/email"}, "method": {"backup"}, "password": {pw3}, "code": {codes[1][1]}}, "/account/email")
	box.expect("backup_used", email)

	// A new address: its code, then both addresses are told.
	loc = z.mustPost("new address", "/account/email", url.Values{"email": {newEmail}}, "/account/email/confirm?")
	m = box.expect("change_email", newEmail)[0]
	z.mustPost("confirm the new address", "/account/email/confirm", url.Values{"c": {challengeOf(t, loc)}, "code": {codeOf(t, m)}}, "/account")
	box.expect("email_changed", email, newEmail)

	// Sign in again with a backup code, trusting the browser.
	z.mustPost("sign out", "/signout", nil, "/signin")
	loc = z.mustPost("sign in with two-step on", "/signin", url.Values{"email": {newEmail}, "password": {pw3}}, "/signin/verify?")
	z.mustPost("a backup code, trusting the browser", "/signin/verify",
		url.Values{"c": {challengeOf(t, loc)}, "method": {"backup"}, "code": {codes[0][1]}, "trust": {"on"}}, "/account")
	box.expect("backup_used", newEmail)
	box.expect("trust_added", newEmail)

	// Two-step verification off.
	z.mustPost("two-step off", "/account/two-step/off", nil, "/account/two-step")
	box.expect("two_step_off", newEmail)

	// Nothing else was sent than what was labelled.
	if extra := s.WaitFor(len(box.got)+1, 300*time.Millisecond); len(extra) != len(box.got) {
		t.Fatalf("the server sent %d messages, %d expected:\n%s", len(extra), len(box.got), subjects(extra))
	}
	return box.got
}

// cli runs the gatehouse binary with the server's environment and data
// directory (the CLI opens the same SQLite database and DKIM keys) and
// returns stdout, stderr and the exit code.
func cli(t *testing.T, env map[string]string, stdin []byte, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("gatehouse %v: %v", args, err)
		}
		code = ee.ExitCode()
	}
	return out.String(), errb.String(), code
}

// checkResult is the JSON of verify-message --json and POST /api/check.
type checkResult struct {
	Verdict string `json:"verdict"`
	Reasons []struct {
		Code string `json:"code"`
		Text string `json:"text"`
	} `json:"reasons"`
}

func (r checkResult) has(code string) bool {
	for _, x := range r.Reasons {
		if x.Code == code {
			return true
		}
	}
	return false
}

func (r checkResult) String() string {
	var sb strings.Builder
	sb.WriteString(r.Verdict)
	for _, x := range r.Reasons {
		fmt.Fprintf(&sb, "\n  [%s] %s", x.Code, x.Text)
	}
	return sb.String()
}

// verifyMessage runs gatehouse verify-message --json on raw, written to a
// file, and returns the exit code and the result.
func verifyMessage(t *testing.T, env map[string]string, data string, raw []byte) (int, checkResult) {
	t.Helper()
	f := filepath.Join(t.TempDir(), "message.eml")
	if err := os.WriteFile(f, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	out, errs, code := cli(t, env, nil, "verify-message", "--json", "--data", data, f)
	var res checkResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("verify-message --json (exit %d): %v\nstdout: %s\nstderr: %s", code, err, out, errs)
	}
	return code, res
}

// apiCheck posts raw to POST /api/check as message/rfc822.
func apiCheck(t *testing.T, base string, raw []byte) checkResult {
	t.Helper()
	resp, err := http.Post(base+"/api/check", "message/rfc822", bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var res checkResult
	if err := json.Unmarshal(b, &res); resp.StatusCode != 200 || err != nil {
		t.Fatalf("POST /api/check: %d %v\n%s", resp.StatusCode, err, b)
	}
	return res
}

// pageCheck uploads raw as the .eml file of the /check page's form, the
// way a browser posts it, and returns the verdict the page shows.
func pageCheck(t *testing.T, base string, raw []byte) (string, string) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("eml", "message.eml")
	fw.Write(raw)
	mw.WriteField("text", "")
	mw.WriteField("ref", "")
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, base+"/check", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Origin", base)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	v := verdictAttr.FindStringSubmatch(string(b))
	if resp.StatusCode != 200 || v == nil {
		t.Fatalf("POST /check: %d, no data-verdict\n%s", resp.StatusCode, b)
	}
	return v[1], string(b)
}

// expectGenuine checks one received message through the CLI (a file with
// --json, standard input, and the human text), the API and the page.
func expectGenuine(t *testing.T, p *proc, env map[string]string, m sent) {
	t.Helper()
	code, res := verifyMessage(t, env, p.Data, m.Raw)
	if code != 0 || res.Verdict != "genuine" || !res.has("content_matches") || !res.has("dkim_ours") {
		t.Errorf("%s: verify-message --json FILE exit %d, %s\nwant exit 0, genuine with content_matches and dkim_ours\n%s", m.name(), code, res, m.Raw)
	}
	out, errs, code := cli(t, env, m.Raw, "verify-message", "--json", "--data", p.Data, "-")
	var stdinRes checkResult
	if err := json.Unmarshal([]byte(out), &stdinRes); err != nil || code != 0 || stdinRes.Verdict != "genuine" {
		t.Errorf("%s: verify-message --json - (stdin): exit %d, %v\n%s%s", m.name(), code, err, out, errs)
	}
	out, errs, code = cli(t, env, m.Raw, "verify-message", "--lang", m.Lang, "--data", p.Data, "-")
	if code != 0 || !strings.Contains(out, "[content_matches]") || !strings.Contains(out, "[dkim_ours]") || strings.HasPrefix(strings.TrimSpace(out), "{") {
		t.Errorf("%s: verify-message --lang %s (text): exit %d\n%s%s", m.name(), m.Lang, code, out, errs)
	}
	if res := apiCheck(t, p.URL, m.Raw); res.Verdict != "genuine" || !res.has("content_matches") || !res.has("dkim_ours") {
		t.Errorf("%s: POST /api/check: %s", m.name(), res)
	}
	if v, _ := pageCheck(t, p.URL, m.Raw); v != "genuine" {
		t.Errorf("%s: the /check page says %s", m.name(), v)
	}
}

// expectNotOurs checks an altered message the same three ways: not
// genuine anywhere, and "not ours" (we did not send it as it is), with the
// reasons wanted.
func expectNotOurs(t *testing.T, p *proc, env map[string]string, what string, raw []byte, reasons ...string) {
	t.Helper()
	code, res := verifyMessage(t, env, p.Data, raw)
	if code == 0 || res.Verdict == "genuine" {
		t.Errorf("%s: verify-message exit %d, %s", what, code, res)
	} else if code != 1 || res.Verdict != "not_ours" {
		t.Errorf("%s: verify-message exit %d, %s; want 1, not_ours", what, code, res)
	}
	api := apiCheck(t, p.URL, raw)
	if api.Verdict != "not_ours" {
		t.Errorf("%s: POST /api/check: %s; want not_ours", what, api)
	}
	for _, c := range reasons {
		if !res.has(c) || !api.has(c) {
			t.Errorf("%s: no reason %s\nverify-message: %s\nPOST /api/check: %s", what, c, res, api)
		}
	}
	if v, _ := pageCheck(t, p.URL, raw); v != "not_ours" {
		t.Errorf("%s: the /check page says %s; want not_ours", what, v)
	}
}

// flip returns raw with the byte at i replaced by another letter of the
// same case.
func flip(t *testing.T, raw []byte, i int) []byte {
	t.Helper()
	if i < 0 || i >= len(raw) {
		t.Fatalf("no byte %d to alter", i)
	}
	out := bytes.Clone(raw)
	switch c := out[i]; {
	case c == 'z' || c == 'Z':
		out[i] = c - 1
	case ('a' <= c && c < 'z') || ('A' <= c && c < 'Z'):
		out[i] = c + 1
	default:
		t.Fatalf("byte %d is %q, not a letter", i, c)
	}
	if d := diffBytes(raw, out); d != 1 {
		t.Fatalf("altered %d bytes", d)
	}
	return out
}

func diffBytes(a, b []byte) int {
	n := 0
	for i := range a {
		if a[i] != b[i] {
			n++
		}
	}
	return n
}

// bodyLetter is the offset of the first lowercase ASCII letter of the
// text/plain part's body (quoted-printable escapes are upper case).
func bodyLetter(t *testing.T, raw []byte) int {
	t.Helper()
	ct := bytes.Index(raw, []byte("Content-Type: text/plain"))
	if ct < 0 {
		t.Fatal("no text/plain part")
	}
	start := bytes.Index(raw[ct:], []byte("\r\n\r\n"))
	if start < 0 {
		t.Fatal("no body in the text/plain part")
	}
	start += ct + 4
	for i := start; i < len(raw); i++ {
		if 'a' <= raw[i] && raw[i] <= 'z' {
			return i
		}
	}
	t.Fatal("no letter in the text/plain part")
	return -1
}

// subjectLetter is the offset of the first lowercase letter of the
// Subject's text (inside an encoded word, past its charset and encoding).
func subjectLetter(t *testing.T, raw []byte) int {
	t.Helper()
	head, _, _ := bytes.Cut(raw, []byte("\r\n\r\n"))
	i := bytes.Index(head, []byte("\r\nSubject: "))
	if i < 0 {
		t.Fatal("no Subject header")
	}
	i += len("\r\nSubject: ")
	if bytes.HasPrefix(head[i:], []byte("=?")) {
		// =?charset?q?text?=
		for n := 0; n < 3; n++ {
			j := bytes.IndexByte(head[i:], '?')
			if j < 0 {
				t.Fatal("malformed encoded word in the Subject")
			}
			i += j + 1
		}
	}
	for ; i < len(head) && head[i] != '\r'; i++ {
		if 'a' <= head[i] && head[i] <= 'z' {
			return i
		}
	}
	t.Fatal("no letter in the Subject")
	return -1
}

// linkLetter is the offset of the last letter of the first http(s)://…/check
// link in the body (the footer's "to check this message" link).
func linkLetter(t *testing.T, raw []byte, base string) int {
	t.Helper()
	_, body, _ := bytes.Cut(raw, []byte("\r\n\r\n"))
	link := []byte(base + "/check")
	i := bytes.Index(body, link)
	if i < 0 {
		t.Fatalf("no %s link in the body", link)
	}
	return len(raw) - len(body) + i + len(link) - 1
}

// TestE2E_EveryMessageTheServerSendsOverSMTPIsGenuineThroughTheCLITheAPIAndThePage
// (issue 10): the real binary, its smtp driver delivering to a real SMTP
// server, is made to send every kind of email it practically can — in
// English and in Japanese — by a holder driven over HTTP like a browser.
// Each message, exactly as received, is genuine to gatehouse
// verify-message (file with --json, standard input, human text), to POST
// /api/check and on the /check page, with the reasons content_matches
// and dkim_ours. The same message with one byte changed — in the body's
// words, in the Subject, in the footer's /check link — is not ours to
// all three.
func TestE2E_EveryMessageTheServerSendsOverSMTPIsGenuineThroughTheCLITheAPIAndThePage(t *testing.T) {
	t.Parallel()
	for _, lang := range []string{"en", "ja"} {
		t.Run(lang, func(t *testing.T) {
			t.Parallel()
			s, err := smtptest.Start(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			env := smtpEnv(s)
			env["GATEHOUSE_SIGNIN_NEW_DEVICE_CHECK"] = "email" // the default, which serve turns off
			env["GATEHOUSE_CHECK_LOOKUPS_PER_MINUTE"] = "10000"
			// Every kind of message to one address within a minute: the
			// per-address send limit has its own tests.
			env["GATEHOUSE_LIMIT_SENDS_PER_10M"], env["GATEHOUSE_LIMIT_SENDS_PER_DAY"] = "1000", "1000"
			p := serve(t, t.TempDir(), env)

			msgs := sendEveryKind(t, p, s, lang)
			purposes := map[string]bool{}
			for _, m := range msgs {
				purposes[m.Purpose] = true
				if got := smtptest.Header(m.Raw, "Content-Language"); got != lang {
					t.Errorf("%s: Content-Language %q", m.name(), got)
				}
				if algs := signatureAlgorithms(m.Raw); len(algs) != 2 || !algs["rsa-sha256"] || !algs["ed25519-sha256"] {
					t.Errorf("%s: DKIM-Signature algorithms %v, want rsa-sha256 and ed25519-sha256", m.name(), algs)
				}
			}
			if len(purposes) < 8 {
				t.Fatalf("only %d kinds of message sent", len(purposes))
			}
			t.Logf("%s: %d messages, %d purposes", lang, len(msgs), len(purposes))

			// Each message checked in its own parallel subtest: the
			// verify-message processes open the database beside the server.
			t.Run("genuine", func(t *testing.T) {
				for _, m := range msgs {
					t.Run(m.Purpose+"-"+m.ref(), func(t *testing.T) {
						t.Parallel()
						expectGenuine(t, p, env, m)
					})
				}
			})

			// One byte changed: in the words, the Subject, a link.
			t.Run("altered", func(t *testing.T) {
				for _, m := range msgs {
					if m.Purpose != "confirm_email" && m.Purpose != "new_device" {
						continue
					}
					for _, alt := range []struct {
						what, reason string
						at           int
					}{
						{"body", "body_differs", bodyLetter(t, m.Raw)},
						{"subject", "subject_differs", subjectLetter(t, m.Raw)},
						{"link", "body_differs", linkLetter(t, m.Raw, p.URL)},
					} {
						t.Run(m.Purpose+"-"+alt.what, func(t *testing.T) {
							t.Parallel()
							what := fmt.Sprintf("%s with one byte of its %s changed (%q at %d)", m.name(), alt.what, m.Raw[alt.at], alt.at)
							expectNotOurs(t, p, env, what, flip(t, m.Raw, alt.at), alt.reason, "dkim_broken")
						})
					}
				}
			})
		})
	}
}

// sigAlg is the a= tag of a DKIM-Signature field.
var sigAlg = regexp.MustCompile(`(?:^|;)\s*a=([a-z0-9-]+)`)

// signatureAlgorithms returns the a= of each DKIM-Signature field of raw's
// header, counted.
func signatureAlgorithms(raw []byte) map[string]bool {
	head, _, _ := bytes.Cut(raw, []byte("\r\n\r\n"))
	unfolded := strings.ReplaceAll(strings.ReplaceAll(string(head), "\r\n ", " "), "\r\n\t", " ")
	algs := map[string]bool{}
	n := 0
	for _, l := range strings.Split(unfolded, "\r\n") {
		name, v, ok := strings.Cut(l, ":")
		if !ok || !strings.EqualFold(name, "DKIM-Signature") {
			continue
		}
		n++
		if a := sigAlg.FindStringSubmatch(v); a != nil {
			algs[a[1]] = true
		}
	}
	if n != len(algs) {
		algs["(fields: "+fmt.Sprint(n)+")"] = true
	}
	return algs
}

// dnsRecords runs gatehouse dns-records and returns its zone lines (the
// lines that are neither comments nor empty).
func dnsRecords(t *testing.T, env map[string]string, data string) []string {
	t.Helper()
	out, errs, code := cli(t, env, nil, "dns-records", "--data", data)
	if code != 0 {
		t.Fatalf("dns-records: exit %d\n%s%s", code, out, errs)
	}
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		if l != "" && !strings.HasPrefix(l, ";") {
			lines = append(lines, l)
		}
	}
	return lines
}

var (
	zoneLine     = regexp.MustCompile(`^[A-Za-z0-9._-]+\. IN TXT( "[^"]{1,255}")+$`)
	quotedString = regexp.MustCompile(`"([^"]*)"`)
)

// txtRecords maps each zone line's name to its value, the quoted strings
// joined as a resolver joins them.
func txtRecords(t *testing.T, lines []string) map[string]string {
	t.Helper()
	recs := map[string]string{}
	for _, l := range lines {
		if !zoneLine.MatchString(l) {
			t.Errorf("not a zone line: %q", l)
			continue
		}
		name, _, _ := strings.Cut(l, " ")
		var v strings.Builder
		for _, q := range quotedString.FindAllStringSubmatch(l, -1) {
			v.WriteString(q[1])
		}
		if _, dup := recs[name]; dup {
			t.Errorf("two records for %s", name)
		}
		recs[name] = v.String()
	}
	return recs
}

// dkimKey is one entry of DATA/dkim/keys.json, read as the file is.
type dkimKey struct {
	Selector  string `json:"selector"`
	Algorithm string `json:"algorithm"`
	Public    []byte `json:"public"`
}

func keysJSON(t *testing.T, data string) []dkimKey {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(data, "dkim", "keys.json"))
	if err != nil {
		t.Fatal(err)
	}
	var idx struct{ Keys []dkimKey }
	if err := json.Unmarshal(b, &idx); err != nil {
		t.Fatal(err)
	}
	return idx.Keys
}

// python3DKIM is a Python interpreter that imports Debian's python3-dkim
// (dkimpy). Outside CI a missing module skips the test; under CI=true it
// fails it.
func python3DKIM(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"/usr/bin/python3", "python3"} {
		p, err := exec.LookPath(name)
		if err != nil {
			continue
		}
		if exec.Command(p, "-c", "import dkim, nacl.signing").Run() == nil {
			return p
		}
	}
	if inCI() {
		t.Fatal("python3-dkim is required under CI=true but `import dkim` failed (install Debian's python3-dkim)")
	}
	t.Skip("python3-dkim not installed; scripts/test installs it")
	return ""
}

// dkimpyVerify verifies every DKIM-Signature of the message on standard
// input with dkimpy, one by one (dkim.verify checks only the first), the
// public keys supplied locally: its DNS function answers from the records
// given as JSON, never from DNS.
const dkimpyVerify = `
import json, sys, dkim
from dkim.util import parse_tag_value
records = {k.lower(): v.encode() for k, v in json.loads(sys.argv[1]).items()}
asked = []
def dnsfunc(name, timeout=5):
    n = name.decode().lower()
    if not n.endswith("."):
        n += "."
    asked.append(n)
    return records.get(n)
msg = sys.stdin.buffer.read()
out = []
sigs = [v for (k, v) in dkim.DKIM(msg).headers if k.lower() == b"dkim-signature"]
for i, v in enumerate(sigs):
    tags = parse_tag_value(v)
    try:
        ok, err = bool(dkim.DKIM(msg).verify(idx=i, dnsfunc=dnsfunc)), ""
    except Exception as e:
        ok, err = False, repr(e)
    out.append({"a": tags.get(b"a", b"").decode(), "s": tags.get(b"s", b"").decode(),
                "d": tags.get(b"d", b"").decode(), "ok": ok, "err": err})
print(json.dumps({"signatures": out, "asked": asked}))
`

type dkimpyResult struct {
	Signatures []struct {
		A, S, D, Err string
		OK           bool
	}
	Asked []string
}

func runDkimpy(t *testing.T, python string, records map[string]string, raw []byte) dkimpyResult {
	t.Helper()
	rec, _ := json.Marshal(records)
	cmd := exec.Command(python, "-c", dkimpyVerify, string(rec))
	cmd.Stdin = bytes.NewReader(raw)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("dkimpy: %v\n%s%s", err, out.String(), errb.String())
	}
	var res dkimpyResult
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("dkimpy output: %v\n%s", err, out.String())
	}
	return res
}

// TestE2E_DKIMSignaturesVerifyWithPython3DKIM_BothAlgorithms (issue 10):
// "dkimverify with the public key supplied locally". Mail the real binary
// delivered over SMTP, in English and in Japanese, is verified by dkimpy
// (Debian's python3-dkim, an implementation that shares no code with
// Gatehouse), signature by signature, with the public keys taken from
// gatehouse dns-records' zone lines (checked against DATA/dkim/keys.json)
// and answered by a local DNS function: both the rsa-sha256 and the
// ed25519-sha256 signature verify, and one byte changed in the body
// breaks both.
func TestE2E_DKIMSignaturesVerifyWithPython3DKIM_BothAlgorithms(t *testing.T) {
	t.Parallel()
	python := python3DKIM(t)
	s, err := smtptest.Start(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	env := smtpEnv(s)
	p := serve(t, t.TempDir(), env)
	for i, lang := range []string{"en", "ja"} {
		newVisitor(t, p.URL, lang).mustPost("sign up", "/signup", url.Values{"email": {"dkimpy-" + lang + "@example.com"}, "password": {"violet canoe at dawn"}}, "/signup/confirm?")
		if got := s.WaitFor(i+1, 20*time.Second); len(got) != i+1 {
			t.Fatalf("%d messages received, want %d", len(got), i+1)
		}
	}

	recs := txtRecords(t, dnsRecords(t, env, p.Data))
	dkimRecs := map[string]string{}
	for _, k := range keysJSON(t, p.Data) {
		name := k.Selector + "._domainkey.shop.example."
		want := "v=DKIM1; k=" + k.Algorithm + "; p=" + base64.StdEncoding.EncodeToString(k.Public)
		if recs[name] != want {
			t.Fatalf("dns-records for %s:\n%q\nkeys.json says\n%q", name, recs[name], want)
		}
		dkimRecs[name] = recs[name]
	}
	if len(dkimRecs) != 2 {
		t.Fatalf("%d DKIM keys, want an rsa and an ed25519 one: %v", len(dkimRecs), dkimRecs)
	}

	for _, m := range s.Messages() {
		ref := smtptest.Header(m.Data, "X-Gatehouse-Reference")
		res := runDkimpy(t, python, dkimRecs, m.Data)
		algs := map[string]bool{}
		for _, sig := range res.Signatures {
			if !sig.OK || sig.D != "shop.example" {
				t.Errorf("%s: dkimpy refused the %s signature (s=%s, d=%s) %s", ref, sig.A, sig.S, sig.D, sig.Err)
			}
			algs[sig.A] = true
		}
		if len(res.Signatures) != 2 || !algs["rsa-sha256"] || !algs["ed25519-sha256"] {
			t.Errorf("%s: signatures %+v, want one rsa-sha256 and one ed25519-sha256", ref, res.Signatures)
		}
		if len(res.Asked) != 2 {
			t.Errorf("%s: dkimpy asked for the keys %q, want one lookup per signature", ref, res.Asked)
		}

		altered := flip(t, m.Data, bodyLetter(t, m.Data))
		for _, sig := range runDkimpy(t, python, dkimRecs, altered).Signatures {
			if sig.OK {
				t.Errorf("%s with one byte of its body changed: dkimpy accepts the %s signature", ref, sig.A)
			}
		}
		// Under keys that are not the installation's, the same verifier
		// refuses the unchanged message: it is the keys that verified it.
		other := map[string]string{}
		for name, v := range dkimRecs {
			other[name] = otherKey(t, v)
		}
		for _, sig := range runDkimpy(t, python, other, m.Data).Signatures {
			if sig.OK {
				t.Errorf("%s: dkimpy accepts the %s signature under another key", ref, sig.A)
			}
		}
	}
}

// TestE2E_DNSRecordsPrintsOneZoneLinePerRecord (issue 10): gatehouse
// dns-records prints one zone-file line per record — SPF, DKIM (rsa and
// ed25519), DMARC at p=quarantine, the BIMI template — for the domain of
// mail.from, or mail.domain when set; the DKIM values are keys.json's
// public keys. After gatehouse dkim rotate both generations are listed
// (the overlap), and a message signed before the rotation is still
// genuine to verify-message.
func TestE2E_DNSRecordsPrintsOneZoneLinePerRecord(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, domain string }{
		{"mail.from", ""},
		{"mail.domain", "mail.shop.example"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{"GATEHOUSE_MAIL_FROM": "Shop <no-reply@shop.example>"}
			for k, v := range cheapArgon {
				env[k] = v
			}
			domain := "shop.example"
			if tc.domain != "" {
				env["GATEHOUSE_MAIL_DOMAIN"], domain = tc.domain, tc.domain
			}
			data := t.TempDir()
			recs := txtRecords(t, dnsRecords(t, env, data))
			checkRecords := func(when string, recs map[string]string, keys []dkimKey, wantKeys int) {
				t.Helper()
				if v := recs[domain+"."]; !strings.HasPrefix(v, "v=spf1 ") {
					t.Errorf("%s: SPF record for %s. is %q", when, domain, v)
				}
				// DMARC is looked up at the From address's domain.
				if v := recs["_dmarc.shop.example."]; !strings.HasPrefix(v, "v=DMARC1;") || !strings.Contains(v, "p=quarantine") {
					t.Errorf("%s: DMARC record for _dmarc.shop.example. is %q", when, v)
				}
				if v := recs["default._bimi."+domain+"."]; !strings.HasPrefix(v, "v=BIMI1;") {
					t.Errorf("%s: BIMI record %q", when, v)
				}
				algs := map[string]int{}
				n := 0
				for name := range recs {
					if strings.Contains(name, "._domainkey.") {
						n++
						if !strings.HasSuffix(name, "._domainkey."+domain+".") {
							t.Errorf("%s: DKIM record %s is not under %s", when, name, domain)
						}
					}
				}
				for _, k := range keys {
					name := k.Selector + "._domainkey." + domain + "."
					want := "v=DKIM1; k=" + k.Algorithm + "; p=" + base64.StdEncoding.EncodeToString(k.Public)
					if recs[name] != want {
						t.Errorf("%s: %s is %q, keys.json's %s key is %q", when, name, recs[name], k.Algorithm, want)
					}
					algs[k.Algorithm]++
				}
				if n != wantKeys || len(keys) != wantKeys || algs["rsa"] != wantKeys/2 || algs["ed25519"] != wantKeys/2 {
					t.Errorf("%s: %d DKIM lines, %d keys in keys.json (%v), want %d", when, n, len(keys), algs, wantKeys)
				}
				if len(recs) != 3+wantKeys {
					t.Errorf("%s: %d records, want %d", when, len(recs), 3+wantKeys)
				}
			}
			checkRecords("first run", recs, keysJSON(t, data), 2)
			if !strings.HasPrefix(recs[domain+"."], "v=spf1 mx ") {
				t.Errorf("SPF with the dev driver %q, want the MX", recs[domain+"."])
			}

			// A message signed with the first generation: genuine whether
			// the mail domain is mail.from's or a name of its own (the
			// From address's domain is ours too).
			var raw []byte
			{
				p := serve(t, data, env)
				const email = "dns-holder@example.com"
				newVisitor(t, p.URL, "en").mustPost("sign up", "/signup", url.Values{"email": {email}, "password": {"violet canoe at dawn"}}, "/signup/confirm?")
				raw = devEML(t, p.URL, waitDevMail(t, p.URL, email, "confirm_email").Reference)
				if c := p.stop(); c != 0 {
					t.Fatalf("serve exit %d", c)
				}
			}

			before := keysJSON(t, data)
			out, errs, code := cli(t, env, nil, "dkim", "rotate", "--data", data)
			if code != 0 {
				t.Fatalf("dkim rotate: exit %d\n%s%s", code, out, errs)
			}
			keys := keysJSON(t, data)
			for i, k := range before {
				if i >= len(keys) || keys[i].Selector != k.Selector || !bytes.Equal(keys[i].Public, k.Public) {
					t.Fatalf("the rotation did not keep the key %s", k.Selector)
				}
			}
			checkRecords("after rotate", txtRecords(t, dnsRecords(t, env, data)), keys, 4)
			if raw == nil {
				return
			}
			for _, k := range before {
				if !bytes.Contains(raw, []byte("s="+k.Selector+";")) {
					t.Errorf("the message was not signed with the first generation's %s", k.Selector)
				}
			}
			if code, res := verifyMessage(t, env, data, raw); code != 0 || res.Verdict != "genuine" || !res.has("dkim_ours") || !res.has("content_matches") {
				t.Errorf("the message signed before the rotation: exit %d, %s", code, res)
			}
		})
	}
}

// waitDevMail polls the dev mailbox until a message to an address with the
// purpose is there.
func waitDevMail(t *testing.T, base, to, purpose string) devMail {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(base + "/dev/messages.json")
		if err != nil {
			t.Fatal(err)
		}
		var msgs []devMail
		err = json.NewDecoder(resp.Body).Decode(&msgs)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			if strings.EqualFold(m.To, to) && m.Purpose == purpose {
				return m
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s message to %s in the dev mailbox", purpose, to)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// devEML downloads /dev/messages/{reference}.eml, polling until the
// message has been delivered to the dev driver.
func devEML(t *testing.T, base, ref string) []byte {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(base + "/dev/messages/" + ref + ".eml")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == 200 {
			if ct := resp.Header.Get("Content-Type"); ct != "message/rfc822" {
				t.Fatalf("%s.eml: Content-Type %q", ref, ct)
			}
			return b
		}
		if resp.StatusCode != 404 || time.Now().After(deadline) {
			t.Fatalf("GET /dev/messages/%s.eml: %d\n%s", ref, resp.StatusCode, b)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestE2E_DevDriverServesTheRawSignedEmail (issue 10): with the dev driver
// (the default), /dev/messages/{reference}.eml on loopback answers the
// email's raw bytes as message/rfc822, with its two DKIM signatures, and
// verify-message says they are genuine.
func TestE2E_DevDriverServesTheRawSignedEmail(t *testing.T) {
	t.Parallel()
	p := serve(t, t.TempDir(), cheapArgon)
	const email = "dev-eml@example.com"
	newVisitor(t, p.URL, "ja").mustPost("sign up", "/signup", url.Values{"email": {email}, "password": {"violet canoe at dawn"}}, "/signup/confirm?")
	m := waitDevMail(t, p.URL, email, "confirm_email")
	raw := devEML(t, p.URL, m.Reference)
	algs := signatureAlgorithms(raw)
	if len(algs) != 2 || !algs["rsa-sha256"] || !algs["ed25519-sha256"] || smtptest.Header(raw, "X-Gatehouse-Reference") != m.Reference {
		head, _, _ := bytes.Cut(raw, []byte("\r\n\r\n"))
		t.Fatalf("%s.eml: DKIM-Signature algorithms %v, want rsa-sha256 and ed25519-sha256\n%s", m.Reference, algs, head)
	}
	if !strings.Contains(textPart(t, raw), m.code(t)) {
		t.Errorf("%s.eml does not carry the code of the stored message", m.Reference)
	}
	code, res := verifyMessage(t, cheapArgon, p.Data, raw)
	if code != 0 || res.Verdict != "genuine" || !res.has("content_matches") || !res.has("dkim_ours") {
		t.Fatalf("verify-message on %s.eml: exit %d, %s", m.Reference, code, res)
	}
	// Nothing else is answered: not a reference never issued, nor a name
	// that is not REFERENCE.eml.
	for _, path := range []string{"/dev/messages/GH-ZZZZ-ZZZZ-ZZZZ.eml", "/dev/messages/" + m.Reference + ".txt"} {
		resp, err := http.Get(p.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 404 {
			t.Errorf("GET %s: %d, want 404", path, resp.StatusCode)
		}
	}
}

// otherKey returns a DKIM record like rec with a freshly made public key
// of the same algorithm: a valid key, just not the one that signed.
func otherKey(t *testing.T, rec string) string {
	t.Helper()
	var pub []byte
	switch {
	case strings.Contains(rec, "k=rsa;"):
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		if pub, err = x509.MarshalPKIXPublicKey(&k.PublicKey); err != nil {
			t.Fatal(err)
		}
	case strings.Contains(rec, "k=ed25519;"):
		k, _, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		pub = k
	default:
		t.Fatalf("record of no known algorithm: %q", rec)
	}
	head, _, _ := strings.Cut(rec, "p=")
	return head + "p=" + base64.StdEncoding.EncodeToString(pub)
}
