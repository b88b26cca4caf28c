package web

import (
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"

	"github.com/boombuler/barcode/qr"

	"gatehouse/internal/account"
	"gatehouse/internal/code"
	"gatehouse/internal/form"
	"gatehouse/internal/httpcore"
	"gatehouse/internal/phone"
	"gatehouse/internal/request"
	"gatehouse/internal/totp"
	"gatehouse/internal/twostep"
)

// twoStepPage is the two-step settings: the methods, how strong each is,
// and what to add. It recommends the strongest first; email and SMS codes
// are named as the weaker kind (NIST SP 800-63B-4).
func (s *Server) twoStepPage(w http.ResponseWriter, r *http.Request) {
	st := state(r)
	p := s.newPage(r, "twostep.title")
	m, err := s.TwoStep.Methods(r.Context(), st.Account)
	if err != nil {
		httpcore.Fail(w, r, err)
		return
	}
	type app struct{ ID, Name, Added, LastUsed string }
	var apps []app
	for _, a := range m.Apps {
		x := app{ID: a.ID, Name: a.Name, Added: s.when(r, a.ConfirmedAt)}
		if !a.LastUsedAt.IsZero() {
			x.LastUsed = s.when(r, a.LastUsedAt)
		}
		apps = append(apps, x)
	}
	p.Data["On"], p.Data["Apps"], p.Data["BackupLeft"] = m.On(), apps, m.BackupLeft
	// After an operator's reset, this browser (one the account had not
	// used before it) may add no method until the waiting period ends: said
	// here, before the holder starts, with the end.
	until, err := s.TwoStep.ResetWaitUntil(r.Context(), st.Account, request.Origin{DeviceID: st.Session.DeviceID, Time: httpcore.Now(r)})
	if err != nil {
		httpcore.Fail(w, r, err)
		return
	}
	if !until.IsZero() {
		p.Data["ResetWaitUntil"] = s.when(r, until)
	}
	if m.Phone != "" {
		p.Data["Phone"], p.Data["PhoneConfirmed"] = phone.Mask(m.Phone), s.when(r, st.Account.PhoneConfirmedAt)
	}
	type key struct {
		ID, Name, Added, LastUsed string
		Flagged                   bool
	}
	var keys []key
	for _, k := range m.Passkeys {
		x := key{ID: k.ID, Name: k.Name, Added: s.when(r, k.CreatedAt), Flagged: k.Flagged}
		if !k.LastUsedAt.IsZero() {
			x.LastUsed = s.when(r, k.LastUsedAt)
		}
		keys = append(keys, x)
	}
	p.Data["Passkeys"] = keys
	if m.On() && s.SignIn.EmailFallback {
		p.Data["EmailFallback"] = account.MaskEmail(st.Account.Email)
	}
	s.notice(r, p)
	s.render(w, r, http.StatusOK, "two_step", p)
}

// appPage fills the enrolment page of a pending app: first the
// otpauth:// link that opens the app on the phone the page is open on,
// then the key with a copy button, and the QR code for a phone that
// scans the page from another screen.
func (s *Server) appPage(r *http.Request, app *totp.App, key *totp.Key) *page {
	p := s.newPage(r, "twostep.app_title")
	p.Values["e"] = app.ID
	if p.Values["name"] == "" {
		p.Values["name"] = s.Catalog.T(p.Lang, "twostep.app_default_name")
	}
	p.Data["URI"], p.Data["Secret"], p.Data["QR"] = key.URI, groupKey(key.Secret), qrSVG(key.URI, s.Catalog.T(p.Lang, "twostep.qr_label"))
	// On a phone, tapping the URI opens the authenticator app with it.
	// html/template allows only http(s) and mailto in href, so it is
	// marked safe here: it is our own otpauth:// URI, never input.
	p.Data["URILink"] = template.URL(key.URI)
	p.Data["RawSecret"] = key.Secret
	return p
}

// resetWaitFirst refuses the start of an enrolment while the waiting
// period after an operator's reset applies to this browser: before a key
// is shown (and typed into an app) or a code texted to a new number, not
// after (twostep.ErrResetWait; the two-step page says until when).
func (s *Server) resetWaitFirst(w http.ResponseWriter, r *http.Request) bool {
	st := state(r)
	until, err := s.TwoStep.ResetWaitUntil(r.Context(), st.Account, request.Origin{DeviceID: st.Session.DeviceID, Time: httpcore.Now(r)})
	if err == nil && until.IsZero() {
		return false
	}
	if err == nil {
		err = twostep.ErrResetWait
	}
	httpcore.Fail(w, r, err)
	return true
}

func (s *Server) appForm(w http.ResponseWriter, r *http.Request) {
	st := state(r)
	if s.resetWaitFirst(w, r) {
		return
	}
	var app *totp.App
	var key *totp.Key
	var err error
	if e := r.URL.Query().Get("e"); e != "" {
		app, key, err = s.TwoStep.Apps.Pending(r.Context(), st.Account.ID, e, st.Account.Email)
	} else {
		app, key, err = s.TwoStep.Apps.Begin(r.Context(), st.Account.ID, st.Account.Email)
	}
	if err != nil {
		httpcore.Fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "two_step_app", s.appPage(r, app, key))
}

func (s *Server) appSubmit(w http.ResponseWriter, r *http.Request) {
	st := state(r)
	if s.resetWaitFirst(w, r) {
		return
	}
	e, _ := httpcore.Field(r, "e")
	app, key, err := s.TwoStep.Apps.Pending(r.Context(), st.Account.ID, e, st.Account.Email)
	if err != nil {
		httpcore.Fail(w, r, err)
		return
	}
	name, okName := httpcore.Field(r, "name")
	p := s.appPage(r, app, key)
	p.Values["name"] = name
	if v, ok := httpcore.Field(r, "code"); ok && len(v) <= 32 {
		p.Values["code"] = v
	}
	bad := form.Errors{}
	if _, err := totp.CleanName(name); !okName || err != nil {
		bad["name"] = "error.app_name"
	}
	c, ok := typedCode(r)
	if !ok {
		bad["code"] = "error.code_format"
		if p.Values["code"] == "" {
			bad["code"] = "error.required"
		}
	}
	if len(bad) > 0 {
		s.formError(w, r, "two_step_app", p, bad)
		return
	}
	o := httpcore.OriginOf(r)
	res, err := s.TwoStep.ConfirmApp(r.Context(), st.Account, app.ID, name, c, o)
	if err != nil {
		// A wrong or replayed code, a bad name: beside the field; an app
		// that is gone: "request unknown" (the error mapper says which).
		s.formError(w, r, "two_step_app", p, err)
		return
	}
	if !res.TurnedOn {
		httpcore.Redirect(w, r, "/account/two-step", url.Values{"notice": {"app_added"}})
		return
	}
	// Shown once, in this answer: the codes are stored only as hashes.
	s.render(w, r, http.StatusOK, "two_step_backup", s.backupPage(r, res.BackupCodes, false))
}

// backupPage shows new backup codes, once: the codes are stored only as
// hashes. They can be copied (with the site script), printed (a print
// stylesheet keeps only them and the service's name) or downloaded as a
// text file. The download is a data: link built here, so it needs no
// script and no second request: nothing keeps the codes on the server.
func (s *Server) backupPage(r *http.Request, codes []string, renewed bool) *page {
	p := s.newPage(r, "twostep.backup_title")
	p.Data["Codes"], p.Data["Renewed"] = codes, renewed
	p.Data["ServiceName"] = s.ServiceName
	p.Data["Download"] = template.URL("data:text/plain;charset=utf-8," + url.PathEscape(backupText(codes)))
	p.Data["FileName"] = backupFileName(s.ServiceName)
	return p
}

// backupText is the downloaded file: the codes, one a line.
func backupText(codes []string) string {
	return strings.Join(codes, "\n") + "\n"
}

// backupFileName names the downloaded file after the service, in the
// letters any file system takes ("example-shop-backup-codes.txt").
func backupFileName(service string) string {
	var b strings.Builder
	dash := false
	for _, c := range strings.ToLower(service) {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(c)
			dash = false
		default:
			dash = true
		}
		if b.Len() >= 40 {
			break
		}
	}
	if b.Len() == 0 {
		return "backup-codes.txt"
	}
	return b.String() + "-backup-codes.txt"
}

// groupKey writes a base32 key in groups of four, as apps ask for it.
func groupKey(k string) string {
	var b strings.Builder
	for i := 0; i < len(k); i += 4 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(k[i:min(i+4, len(k))])
	}
	return b.String()
}

// qrSVG draws the QR code of text as inline SVG, rendered on the server:
// no script, no image request, nothing the content security policy has to
// allow, and the secret never leaves the page. Each row's dark modules are
// merged into runs, which keeps the markup small.
func qrSVG(text, label string) template.HTML {
	code, err := qr.Encode(text, qr.M, qr.Auto)
	if err != nil {
		return ""
	}
	n := code.Bounds().Dx()
	const quiet = 4
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="qr" role="img" aria-label="%s" viewBox="0 0 %d %d" width="240" height="240" xmlns="http://www.w3.org/2000/svg">`,
		template.HTMLEscapeString(label), n+2*quiet, n+2*quiet)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#fff"/><path fill="#000" d="`, n+2*quiet, n+2*quiet)
	for y := 0; y < n; y++ {
		for x := 0; x < n; {
			if r, _, _, _ := code.At(x, y).RGBA(); r != 0 {
				x++
				continue
			}
			start := x
			for x < n {
				if r, _, _, _ := code.At(x, y).RGBA(); r != 0 {
					break
				}
				x++
			}
			fmt.Fprintf(&b, "M%d %dh%dv1h-%dz", start+quiet, y+quiet, x-start, x-start)
		}
	}
	b.WriteString(`"/></svg>`)
	return template.HTML(b.String())
}

// phoneForm asks for the mobile number that will receive codes by SMS
// (step-up first: it adds or changes a way into the account).
func (s *Server) phoneForm(w http.ResponseWriter, r *http.Request) {
	if s.resetWaitFirst(w, r) {
		return
	}
	s.render(w, r, http.StatusOK, "two_step_phone", s.phonePage(r))
}

func (s *Server) phonePage(r *http.Request) *page {
	st := state(r)
	p := s.newPage(r, "twostep.phone_title")
	p.Data["Region"], p.Data["PhoneExample"] = s.regionName(p.Lang), s.PhoneExample
	if !st.Account.PhoneConfirmedAt.IsZero() {
		p.Data["Current"] = phone.Mask(st.Account.Phone)
	}
	return p
}

// phoneSubmit sends a code by SMS to the number typed; the holder lands on
// the page that takes it back.
func (s *Server) phoneSubmit(w http.ResponseWriter, r *http.Request) {
	st := state(r)
	if s.resetWaitFirst(w, r) {
		return
	}
	p := s.phonePage(r)
	typed, ok := httpcore.Field(r, "phone")
	p.Values["phone"] = typed
	switch {
	case !ok:
		s.formError(w, r, "two_step_phone", p, form.Errors{"phone": "error.invalid_text"})
		return
	case strings.TrimSpace(typed) == "":
		s.formError(w, r, "two_step_phone", p, form.Errors{"phone": "error.required"})
		return
	}
	o := httpcore.OriginOf(r)
	ch, err := s.TwoStep.Phone.Begin(r.Context(), st.Account, typed, o)
	if err != nil {
		s.formError(w, r, "two_step_phone", p, err) // not a number, not a mobile, the same: beside the field
		return
	}
	httpcore.Redirect(w, r, "/account/two-step/phone/confirm", url.Values{"c": {ch.ID}})
}

// phoneCode is the page that takes back the code sent to a number being
// enrolled.
func (s *Server) phoneCode() heldCode {
	return heldCode{
		template: "two_step_phone_confirm", title: "twostep.phone_confirm_title", path: "/account/two-step/phone/confirm",
		pending: s.TwoStep.Phone.Pending, resend: s.TwoStep.Phone.Resend,
		shown: func(ch *code.Challenge) string { return phone.Mask(ch.Destination) },
	}
}

// phoneConfirm takes the code back: the number becomes the account's, and
// the first method turns two-step verification on and shows the backup
// codes once.
func (s *Server) phoneConfirm(w http.ResponseWriter, r *http.Request, p *page, ch *code.Challenge, c string, o request.Origin) {
	res, err := s.TwoStep.ConfirmPhone(r.Context(), state(r).Account, ch.ID, c, o)
	if err != nil {
		s.formError(w, r, "two_step_phone_confirm", p, err)
		return
	}
	if !res.TurnedOn {
		n := "phone_added"
		if res.Replaced {
			n = "phone_changed"
		}
		httpcore.Redirect(w, r, "/account/two-step", url.Values{"notice": {n}})
		return
	}
	s.render(w, r, http.StatusOK, "two_step_backup", s.backupPage(r, res.BackupCodes, false))
}

// phoneRemove forgets the number (step-up first); if it was the last
// method, two-step verification is off.
func (s *Server) phoneRemove(w http.ResponseWriter, r *http.Request) {
	o := httpcore.OriginOf(r)
	off, err := s.TwoStep.RemovePhone(r.Context(), state(r).Account, o)
	if err != nil {
		httpcore.Fail(w, r, err)
		return
	}
	n := "phone_removed"
	if off {
		n = "two_step_off"
	}
	httpcore.Redirect(w, r, "/account/two-step", url.Values{"notice": {n}})
}
