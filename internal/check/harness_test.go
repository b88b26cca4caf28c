package check_test

import (
	"context"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"gatehouse/internal/check"
	"gatehouse/internal/crypt"
	"gatehouse/internal/dkimkeys"
	"gatehouse/internal/i18n"
	"gatehouse/internal/notice"
	"gatehouse/internal/outbox"
	"gatehouse/internal/random"
	"gatehouse/internal/request"
	"gatehouse/internal/sqlite"
)

// The installation the checker's tests run against: the same one the
// phishing corpus (testdata/phishing) imitates.
const (
	service   = "Gatehouse"
	from      = "Gatehouse <no-reply@gatehouse.example>"
	domain    = "gatehouse.example"
	publicURL = "https://gatehouse.example"
)

// env is a real store, outbox, DKIM key ring and notice composer, with the
// checker reading them.
type env struct {
	t       *testing.T
	db      *sqlite.DB
	outbox  *outbox.Outbox
	notices *notice.Composer
	mailer  *outbox.Mailer
	keys    *dkimkeys.Ring
	keyDir  string
	checker *check.Checker
	now     time.Time
}

func newEnv(t testing.TB) *env {
	t.Helper()
	dir := t.TempDir()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(dir, "gatehouse.db"), true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	now := time.Date(2026, 12, 2, 9, 30, 0, 0, time.UTC)
	keyDir := filepath.Join(dir, "dkim")
	keys, err := dkimkeys.Open(keyDir, now)
	if err != nil {
		t.Fatal(err)
	}
	box, err := crypt.New(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	cat := i18n.New()
	cat.SetDefaultZones(map[string]*time.Location{"ja": time.FixedZone("JST", 9*3600), "en": time.UTC})
	mailer, err := outbox.NewMailer(from, "", keys)
	if err != nil {
		t.Fatal(err)
	}
	mailer.Now = func() time.Time { return now }
	ob := &outbox.Outbox{Store: db, Drivers: map[request.Channel]outbox.Driver{request.Email: outbox.DevDriver{}, request.SMS: outbox.DevDriver{}},
		Catalog: cat, Box: box, ServiceName: service, PublicURL: publicURL, Clock: func() time.Time { return now }}
	e := &env{db: db, outbox: ob, mailer: mailer, keys: keys, keyDir: keyDir, now: now,
		notices: &notice.Composer{Outbox: ob, Catalog: cat, ServiceName: service},
		checker: &check.Checker{Messages: db, Keys: keys, Catalog: cat, ServiceName: service, MailDomain: domain, PublicURL: publicURL,
			Zone: func(lang string) *time.Location { return cat.Zone(lang, "") }},
	}
	if tt, ok := t.(*testing.T); ok {
		e.t = tt
	}
	return e
}

// send composes and stores a message as the server would, and returns it
// as delivered: code in place, and for an email its signed raw bytes.
func (e *env) send(t testing.TB, n notice.Notice) (*outbox.Message, []byte) {
	t.Helper()
	if n.Purpose.HasCode() {
		n.Code, n.Valid = random.Digits(6), 10*time.Minute
		if n.Cause == "" {
			n.Cause = request.YouJustNow
		}
		n.ChallengeID = random.ID()
	}
	if n.Origin.IP == "" {
		n.Origin = request.Origin{IP: "198.51.100.23", Browser: "Chrome 131", OS: "Windows 10", Time: e.now}
	}
	m, err := e.notices.Send(context.Background(), n)
	if err != nil {
		t.Fatalf("send %s: %v", n.Purpose, err)
	}
	shown, err := e.outbox.Reveal(m)
	if err != nil {
		t.Fatal(err)
	}
	if shown.Channel == request.SMS {
		return shown, nil
	}
	raw, err := e.mailer.Build(shown)
	if err != nil {
		t.Fatal(err)
	}
	return shown, raw
}

// genuineSet is one message of every purpose on every channel it may be
// sent on, in both languages.
type genuineMessage struct {
	name string
	msg  *outbox.Message
	raw  []byte // nil for an SMS
}

func (e *env) everyMessage(t testing.TB) []genuineMessage {
	var purposes []request.Purpose
	for p := range notice.Channels {
		purposes = append(purposes, p)
	}
	sort.Slice(purposes, func(i, j int) bool { return purposes[i] < purposes[j] })
	var out []genuineMessage
	for _, p := range purposes {
		for _, ch := range notice.Channels[p] {
			for _, lang := range []string{"en", "ja"} {
				to := "holder-" + lang + "@example.com"
				if ch == request.SMS {
					to = "+819012345678"
				}
				n := notice.Notice{Purpose: p, Channel: ch, To: to, Language: lang, AccountID: "acct-" + lang,
					Method: "app", Address: "n•••@example.com", Name: "YubiKey", Phone: "•••• 5678", Remaining: 3}
				m, raw := e.send(t, n)
				out = append(out, genuineMessage{name: string(p) + "/" + string(ch) + "/" + lang, msg: m, raw: raw})
			}
		}
	}
	return out
}

// htmlText is what a holder copies from an HTML message in a mail program:
// its visible text.
func htmlText(h string) string {
	var b strings.Builder
	inTag, skip := false, false
	for i := 0; i < len(h); i++ {
		c := h[i]
		switch {
		case c == '<':
			inTag = true
			rest := strings.ToLower(h[i:min(i+7, len(h))])
			if strings.HasPrefix(rest, "<title") {
				skip = true
			}
			if strings.HasPrefix(rest, "</title") {
				skip = false
			}
			if strings.HasPrefix(rest, "<p") || strings.HasPrefix(rest, "<hr") {
				b.WriteByte('\n')
			}
		case c == '>':
			inTag = false
		case !inTag && !skip:
			b.WriteByte(c)
		}
	}
	return strings.NewReplacer("&#39;", "'", "&quot;", `"`, "&amp;", "&", "&lt;", "<", "&gt;", ">", "&#34;", `"`).Replace(b.String())
}
