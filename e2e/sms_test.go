package e2e

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// gateway is an SMS gateway on a loopback port, as an operator would run
// behind the http driver: it checks each request's signature itself
// (HMAC-SHA256 of the body under the shared secret, computed here, not
// with Gatehouse's code) and keeps what it accepted.
type gateway struct {
	t      *testing.T
	secret string
	srv    *httptest.Server

	mu       sync.Mutex
	accepted []gatewaySMS
	refused  int
}

type gatewaySMS struct{ To, Text, Reference string }

func newGateway(t *testing.T, secret string) *gateway {
	g := &gateway{t: t, secret: secret}
	g.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<16))
		m := hmac.New(sha256.New, []byte(secret))
		m.Write(body)
		want := "sha256=" + hex.EncodeToString(m.Sum(nil))
		var sms gatewaySMS
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" ||
			!hmac.Equal([]byte(r.Header.Get("X-Gatehouse-Signature")), []byte(want)) || json.Unmarshal(body, &sms) != nil {
			g.mu.Lock()
			g.refused++
			g.mu.Unlock()
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		g.mu.Lock()
		g.accepted = append(g.accepted, sms)
		g.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(g.srv.Close)
	return g
}

var originBound = regexp.MustCompile(`\n@([^ \n]+) #(\d{6})$`)

// texts waits until at least n SMS reached the gateway for a number and
// returns them, oldest first.
func (g *gateway) texts(to string, n int) []gatewaySMS {
	g.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		g.mu.Lock()
		var got []gatewaySMS
		for _, m := range g.accepted {
			if m.To == to {
				got = append(got, m)
			}
		}
		refused := g.refused
		g.mu.Unlock()
		if refused > 0 {
			g.t.Fatalf("the gateway refused %d requests (signature)", refused)
		}
		if len(got) >= n {
			return got
		}
		time.Sleep(50 * time.Millisecond)
	}
	g.t.Fatalf("no SMS %d to %s reached the gateway", n, to)
	return nil
}

// code returns the code of the n-th code-bearing SMS (counting from 1) to
// a number, read from its origin-bound last line. Notices texted to the
// number (two-step turned on, a password change) carry no code and are
// not counted.
func (g *gateway) code(to string, n int) string {
	g.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		var codes []gatewaySMS
		for _, m := range g.texts(to, 1) {
			if originBound.MatchString(m.Text) {
				codes = append(codes, m)
			}
		}
		if len(codes) >= n {
			sms := codes[n-1]
			m := originBound.FindStringSubmatch(sms.Text)
			if m[1] != "127.0.0.1" || sms.Reference == "" {
				g.t.Fatalf("SMS without its origin-bound last line or reference: %+v", sms)
			}
			return m[2]
		}
		if time.Now().After(deadline) {
			g.t.Fatalf("no code-bearing SMS %d to %s reached the gateway", n, to)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestBrowser_SMS_EnrolSignInAndStepUpBeforeChangingThePhone: in headless
// Chromium and in Japanese, a holder adds a mobile number (the code reaches
// a real local gateway that checks the request's signature), sees the
// backup codes, signs in again with a code by SMS, and later — once the
// step-up window has passed — must prove it's them by SMS before the
// number can be changed; every page passes the accessibility check.
func TestBrowser_SMS_EnrolSignInAndStepUpBeforeChangingThePhone(t *testing.T) {
	const secret = "gateway shared secret for the test"
	g := newGateway(t, secret)
	env := map[string]string{
		"GATEHOUSE_SMS_DRIVER": "http", "GATEHOUSE_SMS_HTTP_URL": g.srv.URL, "GATEHOUSE_SMS_HTTP_SECRET": secret,
		"GATEHOUSE_SESSION_STEP_UP_WITHIN": "10s",
	}
	for k, v := range cheapArgon {
		env[k] = v
	}
	p := serve(t, t.TempDir(), env)
	const email, pw, number = "sms-user@example.com", "violet canoe at dawn", "+819012345678"
	b := openTab(t)
	signUpJa(t, p, b, email)
	b.run("confirm", typeInto("#f-code", latestCode(t, p.URL, email)), submit("/signup/confirm", "#account-email"))
	b.run("open the phone page", chromedp.Navigate(p.URL+"/account/two-step/phone"), visible("#f-phone"))
	checkA11y(t, b.ctx, "phone page")
	b.run("type a number", typeInto("#f-phone", "090-1234-5678"), submit("/account/two-step/phone", "#f-code"))
	if ac := b.attr("#f-code", "autocomplete"); ac != "one-time-code" {
		t.Fatalf("code input autocomplete=%q", ac)
	}
	checkA11y(t, b.ctx, "phone code page")
	b.run("confirm the number", typeInto("#f-code", g.code(number, 1)), submit("/account/two-step/phone/confirm", ".backup-code"))
	if n := len(strings.Fields(b.eval(`Array.from(document.querySelectorAll(".backup-code")).map(e => e.textContent).join(" ")`))); n != 10 {
		t.Fatalf("%d backup codes shown", n)
	}
	b.run("settings", chromedp.Navigate(p.URL+"/account/two-step"), visible("#phone-listed"))
	if txt := b.text("#phone-listed"); !strings.Contains(txt, "末尾78") {
		t.Fatalf("settings list the number as %q", txt)
	}
	b.run("sign out", chromedp.Navigate(p.URL+"/account"), visible("#account-email"), clickAndLoad(`form[action="/signout"] button`, "#f-email"))
	b.run("password", typeInto("#f-email", email), typeInto("#f-password", pw), submit("/signin", "#f-code"))
	checkA11y(t, b.ctx, "SMS step page")
	b.run("SMS code", typeInto("#f-code", fullWidth(g.code(number, 2))), submit("/signin/verify", "#account-email"))
	signedIn := time.Now()

	// Past the step-up window (10 seconds here), changing the number first
	// asks for the password and a code by SMS to the current number.
	time.Sleep(time.Until(signedIn.Add(12 * time.Second)))
	b.run("phone page after the window", chromedp.Navigate(p.URL+"/account/two-step/phone"), visible("#f-password"))
	if path := b.path(); path != "/account/reverify" {
		t.Fatalf("changing the phone after the window opened %s, not the re-verification", path)
	}
	checkA11y(t, b.ctx, "re-verification")
	b.run("re-verify: password", typeInto("#f-password", pw), submit("/account/reverify", "#f-code"))
	b.run("re-verify: SMS code", typeInto("#f-code", g.code(number, 3)), submit("/signin/verify", "#f-phone"))
	b.run("a new number", typeInto("#f-phone", "080-9876-5432"), submit("/account/two-step/phone", "#f-code"))
	b.run("confirm the new number", typeInto("#f-code", g.code("+818098765432", 1)), submit("/account/two-step/phone/confirm", "#phone-listed"))
	if txt := b.text("#phone-listed"); !strings.Contains(txt, "末尾32") {
		t.Fatalf("settings after the change list %q", txt)
	}
	// The old number hears that codes no longer go there.
	// (its texts: the enrolment code, the two-step notice, the sign-in
	// and step-up codes, then this)
	told := false
	for _, m := range g.texts(number, 5) {
		told = told || strings.Contains(m.Text, "別の番号")
	}
	if !told {
		t.Fatalf("the old number was not told of the change; its SMS:\n%+v", g.texts(number, 1))
	}
}
