package outbox_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"strings"
	"testing"

	"gatehouse/internal/outbox"
)

// overrideHead is the start of an operator's email template: its own
// look, then what every message carries.
const overrideHead = `<!doctype html><html lang="{{.Lang}}"><head><title>{{.Subject}}</title></head><body>
<p class="banner">Shop Co. — {{.Service}}</p>
{{range $i, $p := .Paragraphs}}<p>{{$p}}</p>{{if and (eq $i 0) $.Code}}<p><b>{{$.Code}}</b></p>{{end}}{{end}}
`

// TestUseHTMLTemplate_AMessageKeepsItsReferenceLineAndFooter: an
// operator's email template that shows every part of a message is used;
// one that drops the reference line, drops or hides another footer line,
// the text or the code is refused, the error naming the file, what is
// missing and how to write it.
func TestUseHTMLTemplate_AMessageKeepsItsReferenceLineAndFooter(t *testing.T) {
	t.Parallel()
	const name = "/etc/gatehouse/look/mail/message.html"
	for _, tc := range []struct{ what, src, want string }{
		{"reference line dropped",
			overrideHead + `{{range .Footer}}{{if not (or (eq (printf "%.7s" .) "Message") (eq (printf "%.9s" .) "メッセージ参照番号"))}}<p>{{.}}</p>{{end}}{{end}}</body></html>`,
			`the message's reference line ("Message reference: GH-7K3P-Q9XW-2MRC.") is missing or hidden (in English`},
		{"footer dropped", overrideHead + `</body></html>`, `the message's reference line ("Message reference: GH-7K3P-Q9XW-2MRC.") is missing`},
		{"one footer line dropped", overrideHead + `{{range $i, $l := .Footer}}{{if $i}}<p>{{$l}}</p>{{end}}{{end}}</body></html>`, `the footer line "Didn't expect this code? See why it came`},
		{"footer hidden", overrideHead + `<div style="color:#999; display: none">{{range .Footer}}<p>{{.}}</p>{{end}}</div></body></html>`, "is missing or hidden"},
		{"footer in the head", `<html><head><title>{{range .Footer}}{{.}}{{end}}</title></head><body>{{range .Paragraphs}}<p>{{.}}</p>{{end}}{{.Code}}</body></html>`, "is missing or hidden"},
		{"footer with the hidden attribute", overrideHead + `<footer hidden>{{range .Footer}}<p>{{.}}</p>{{end}}</footer></body></html>`, "is missing or hidden"},
		{"text dropped", `<p>{{.Code}}</p>{{range .Footer}}<p>{{.}}</p>{{end}}`, `the message's text ("The message's first paragraph.") is missing`},
		{"code dropped", `{{range .Paragraphs}}<p>{{.}}</p>{{end}}{{range .Footer}}<p>{{.}}</p>{{end}}`, `the code ("••••••") is missing`},
		{"does not parse", `{{range .Footer}}`, "message.html:1: unexpected EOF"},
		{"fails to draw", `{{.Footer.Nothing}}`, "can't evaluate field Nothing"},
	} {
		o, _ := newOutbox(t, &recordingDriver{})
		err := o.UseHTMLTemplate(name, tc.src)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), name+": ") {
			t.Errorf("%s: err %v, want it to name the file and %q", tc.what, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "missing") && !strings.Contains(err.Error(), "{{range .Footer}}<p>{{.}}</p>{{end}}") {
			t.Errorf("%s: the error does not say how to write it: %v", tc.what, err)
		}
	}

	// The built-in template, an operator's starting point, passes.
	builtin, err := os.ReadFile("message.html")
	if err != nil {
		t.Fatal(err)
	}
	if err := newOutboxOnly(t).UseHTMLTemplate(name, string(builtin)); err != nil {
		t.Errorf("the built-in template: %v", err)
	}

	// A whole template is used for every email: its look, the message's
	// parts, its footer.
	o, db := newOutbox(t, &recordingDriver{})
	o.Support = "https://help.example"
	good := overrideHead + `<hr><div class="footer">{{range .Footer}}<p>{{.}}</p>{{end}}</div></body></html>`
	if err := o.UseHTMLTemplate(name, good); err != nil {
		t.Fatal(err)
	}
	m, err := o.Enqueue(context.Background(), draft("a@example.com"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(m.HTML, "Shop Co. — Shop") || !strings.Contains(m.HTML, m.Reference) || !strings.Contains(m.HTML, "<b>••••••</b>") {
		t.Fatalf("the template is not used:\n%s", m.HTML)
	}
	shown, err := o.Reveal(stored(t, db, m.ID))
	if err != nil || !strings.Contains(shown.HTML, "<b>123456</b>") {
		t.Fatalf("the code is not put back in the HTML part: %v\n%s", err, shown.HTML)
	}
}

// TestUseHTMLTemplate_AMessageDrawnWithoutItsFooterGetsTheBuiltInPart: a
// template that passes the check's sample but would leave out a real
// message's reference line (it looks at the subject) does not: that
// message gets the built-in HTML part, and the operator a logged error.
func TestUseHTMLTemplate_AMessageDrawnWithoutItsFooterGetsTheBuiltInPart(t *testing.T) {
	t.Parallel()
	o, _ := newOutbox(t, &recordingDriver{})
	var log bytes.Buffer
	o.Log = slog.New(slog.NewTextHandler(&log, nil))
	sly := overrideHead + `{{if eq .Subject "Subject"}}{{range .Footer}}<p>{{.}}</p>{{end}}{{end}}<p>sly</p></body></html>`
	if err := o.UseHTMLTemplate("message.html", sly); err != nil {
		t.Fatal(err)
	}
	m, err := o.Enqueue(context.Background(), draft("a@example.com"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(m.HTML, "sly") || !strings.Contains(m.HTML, m.Reference) {
		t.Fatalf("a message without its footer was stored:\n%s", m.HTML)
	}
	if !strings.Contains(log.String(), "leaves out what a message carries") || !strings.Contains(log.String(), "reference line") {
		t.Errorf("not logged: %s", log.String())
	}
}

// TestHTMLPart_TheBrandColourUnderTheName: the built-in HTML part draws
// the line under the service's name in brand.color, Gatehouse's blue
// without one.
func TestHTMLPart_TheBrandColourUnderTheName(t *testing.T) {
	t.Parallel()
	o, _ := newOutbox(t, &recordingDriver{})
	m, err := o.Enqueue(context.Background(), draft("a@example.com"))
	if err != nil || !strings.Contains(m.HTML, "border-bottom:3px solid #0b57d0") {
		t.Fatalf("%v\n%s", err, m.HTML)
	}
	o.Color = "#7a1f5c"
	m, err = o.Enqueue(context.Background(), draft("a@example.com"))
	if err != nil || !strings.Contains(m.HTML, "border-bottom:3px solid #7a1f5c") {
		t.Fatalf("%v\n%s", err, m.HTML)
	}
}

func newOutboxOnly(t *testing.T) *outbox.Outbox {
	o, _ := newOutbox(t, &recordingDriver{})
	return o
}
