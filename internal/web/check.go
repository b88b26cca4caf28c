package web

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"html/template"
	"io"
	"mime"
	"net/http"
	"regexp"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/htmlindex"

	"gatehouse/internal/check"
	"gatehouse/internal/httpcore"
	"gatehouse/internal/outbox"
)

// maxUpload bounds a checker request: a raw email of check.MaxRaw, as a
// file in a form or base64 in JSON, with room for the rest of the form.
const maxUpload = check.MaxRaw*4/3 + 64<<10

// uploadOK accepts a form post, urlencoded or multipart (a file), up to
// maxUpload, and parses it.
func (s *Server) uploadOK(w http.ResponseWriter, r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || (mt != "application/x-www-form-urlencoded" && mt != "multipart/form-data") {
		httpcore.Answer(w, r, http.StatusUnsupportedMediaType, "error.content_type")
		return false
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxUpload)
	if mt == "multipart/form-data" {
		err = r.ParseMultipartForm(maxUpload)
	} else {
		err = r.ParseForm()
	}
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			httpcore.Answer(w, r, http.StatusRequestEntityTooLarge, "error.check_too_large")
		} else {
			httpcore.Answer(w, r, http.StatusBadRequest, "error.invalid_text")
		}
		return false
	}
	return true
}

// checkBodyOK accepts the API's three bodies and leaves them, bounded, for
// the handler.
func (s *Server) checkBodyOK(w http.ResponseWriter, r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || (mt != "application/json" && mt != "message/rfc822" && mt != "text/plain") {
		httpcore.Answer(w, r, http.StatusUnsupportedMediaType, "error.check_content_type")
		return false
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxUpload)
	return true
}

// checkForm is GET /check: paste a message, upload its .eml, or type its
// reference.
func (s *Server) checkForm(w http.ResponseWriter, r *http.Request) {
	p := s.newPage(r, "check.title")
	if state(r).Account != nil {
		// "Reported" thanks the holder who just reported; a link with it
		// shown to anyone else would say something that did not happen.
		s.notice(r, p)
	}
	p.Values["ref"] = r.URL.Query().Get("ref")
	s.checkPageData(r, p)
	s.render(w, r, http.StatusOK, "check", p)
}

// checkPageData adds what the page shows a signed-in holder: their reports.
func (s *Server) checkPageData(r *http.Request, p *page) {
	st := state(r)
	if st.Account == nil {
		return
	}
	reports, err := s.Reports.Of(r.Context(), st.Account.ID, 20)
	if err != nil {
		s.Log.ErrorContext(r.Context(), "read reports", "err", err)
		return
	}
	var views []reportView
	for _, rep := range reports {
		views = append(views, reportView{When: s.when(r, rep.CreatedAt), Verdict: s.Catalog.T(p.Lang, "check.verdict."+string(rep.Verdict)),
			Reference: rep.Reference, Kind: s.Catalog.T(p.Lang, "check.kind."+rep.Kind)})
	}
	p.Data["Reports"] = views
}

type reportView struct{ When, Verdict, Reference, Kind string }

// checkInput reads what the page's form asks about. The .eml file wins
// over pasted text, and text over the reference.
func (s *Server) checkInput(r *http.Request) (check.Input, string, error) {
	in := check.Input{Reference: r.PostFormValue("ref"), Text: r.PostFormValue("text")}
	if f, _, err := r.FormFile("eml"); err == nil {
		defer f.Close()
		b, err := io.ReadAll(io.LimitReader(f, check.MaxRaw+1))
		if err != nil {
			return in, "", err
		}
		if len(b) > 0 {
			in.Raw = b
		}
	}
	if in.Raw == nil {
		if c := r.PostFormValue("content"); c != "" { // "report this" carries it back
			if b, err := base64.StdEncoding.DecodeString(c); err == nil {
				in.Raw = b
			}
		}
	}
	if in.Raw == nil && !utf8.ValidString(in.Text) {
		in.Text = strings.ToValidUTF8(in.Text, "\uFFFD")
	}
	switch {
	case in.Raw != nil:
		return in, "eml", nil
	case strings.TrimSpace(in.Text) != "":
		return in, "text", nil
	}
	return in, "reference", nil
}

// checkSubmit is POST /check: the verdict, with its reasons.
func (s *Server) checkSubmit(w http.ResponseWriter, r *http.Request) {
	p := s.newPage(r, "check.title")
	in, kind, err := s.checkInput(r)
	if err != nil {
		s.errorPage(w, r, http.StatusBadRequest, "error.invalid_text")
		return
	}
	p.Values["ref"], p.Values["text"] = in.Reference, in.Text
	res, err := s.Checker.Check(r.Context(), in, p.Lang)
	if err != nil {
		// A refused input at the field it concerns, with the form kept.
		s.checkPageData(r, p)
		s.formError(w, r, "check", p, err)
		return
	}
	p.Data["Result"] = s.resultView(r, p.Lang, res)
	// The verdict is the first thing the document's title says (a screen
	// reader announces it); the visible h1 stays the page's name, since
	// the result box right under it says the verdict. The form below
	// starts empty: an old paste must not be checked again in place of a
	// newly typed reference.
	p.DocTitle = s.Catalog.T(p.Lang, "check.verdict."+string(res.Verdict)) + " — " + p.Title
	delete(p.Values, "text")
	delete(p.Values, "ref")
	if st := state(r); st.Account != nil && res.Verdict != check.Genuine {
		// "Report this" sends the content back: nothing is kept until the
		// holder chooses to.
		rep := map[string]string{"kind": kind, "ref": in.Reference, "text": in.Text}
		if in.Raw != nil {
			rep["content"] = base64.StdEncoding.EncodeToString(in.Raw)
		}
		p.Data["Report"] = rep
	}
	s.checkPageData(r, p)
	s.render(w, r, http.StatusOK, "check", p)
}

// resultView is a result as the page shows it.
type resultView struct {
	Verdict, Title, Advice string
	Reasons                []reasonView
	// Own is our message, when the signed-in reader is its holder: the
	// page shows what we sent and links to its story.
	Own *outbox.Message
	// NotYours is set when a signed-in reader checks a genuine message we
	// sent to someone else: "genuine" alone would let a forwarded message
	// (with another account's code) pass for the reader's own.
	NotYours bool
}

type reasonView struct {
	Code, Level string
	Text        template.HTML
}

// referenceRun is a reference as reasons print it; the page keeps it on
// one line (a reference broken at a hyphen reads as two).
var referenceRun = regexp.MustCompile(`GH-[0-9A-Z]{4}-[0-9A-Z]{4}(?:-[0-9A-Z]{4})?`)

func reasonHTML(text string) template.HTML {
	return template.HTML(referenceRun.ReplaceAllString(template.HTMLEscapeString(text), `<span class="nowrap">$0</span>`))
}

func (s *Server) resultView(r *http.Request, lang string, res *check.Result) resultView {
	v := resultView{Verdict: string(res.Verdict), Title: s.Catalog.T(lang, "check.verdict."+string(res.Verdict)),
		Advice: s.Checker.Advice(res, lang)}
	for _, x := range res.Reasons {
		v.Reasons = append(v.Reasons, reasonView{Code: x.Code, Text: reasonHTML(x.Text), Level: map[check.Level]string{check.Bad: "bad", check.Good: "good", check.Note: "note"}[x.Level]})
	}
	if st := state(r); st.Account != nil && res.Message != nil {
		m := res.Message
		// A message sent before its account existed (a sign-up's) is the
		// reader's when it went to their address.
		mine := m.AccountID == st.Account.ID || m.AccountID == "" && strings.EqualFold(m.To, st.Account.Email)
		switch {
		case mine:
			v.Own = m
		case res.Verdict == check.Genuine:
			v.NotYours = true
		}
	}
	return v
}

// checkReport is POST /check/report (signed in): the holder chose to file
// the message they checked (check.Reports.File checks it again and keeps
// it, sealed, on their account).
func (s *Server) checkReport(w http.ResponseWriter, r *http.Request) {
	st := state(r)
	p := s.newPage(r, "check.title")
	in, _, err := s.checkInput(r)
	if err != nil {
		httpcore.Answer(w, r, http.StatusBadRequest, "error.invalid_text")
		return
	}
	if _, _, err := s.Reports.File(r.Context(), st.Account.ID, st.IP, in, p.Lang); err != nil {
		httpcore.Fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/check?notice=reported", http.StatusSeeOther)
}

// apiCheckRequest is the JSON body of POST /api/check.
type apiCheckRequest struct {
	Reference string `json:"reference"`
	Text      string `json:"text"`
	// EML is a raw email, base64 (standard alphabet).
	EML  string `json:"eml"`
	Lang string `json:"lang"`
}

// apiCheck is POST /api/check: the checker for programs. The body is JSON
// ({"reference"}, {"text"} or {"eml": base64}), or the raw email as
// message/rfc822, or the text as text/plain; the answer is
// {"verdict", "reasons": [{"code", "text"}]} in the language asked for
// (?lang=, "lang", or Accept-Language).
func (s *Server) apiCheck(w http.ResponseWriter, r *http.Request) {
	st := state(r)
	lang := st.Lang
	if l := r.URL.Query().Get("lang"); l == "ja" || l == "en" {
		lang = l
	}
	var in check.Input
	mt, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mt {
	case "application/json":
		var req apiCheckRequest
		dec := json.NewDecoder(r.Body)
		if err := dec.Decode(&req); err != nil {
			s.answerTooLargeOr(w, r, err, "error.check_json")
			return
		}
		// One object, and nothing after it.
		if err := dec.Decode(&json.RawMessage{}); err != io.EOF {
			s.answerTooLargeOr(w, r, err, "error.check_json")
			return
		}
		if req.Lang == "ja" || req.Lang == "en" {
			lang = req.Lang
		}
		in = check.Input{Reference: req.Reference, Text: req.Text}
		if req.EML != "" {
			b, err := base64.StdEncoding.DecodeString(req.EML)
			if err != nil {
				httpcore.Answer(w, r, http.StatusUnprocessableEntity, "error.check_base64")
				return
			}
			in.Raw = b
		}
	default:
		b, err := io.ReadAll(r.Body)
		if err != nil {
			s.answerTooLargeOr(w, r, err, "error.invalid_text")
			return
		}
		if mt == "message/rfc822" {
			in.Raw = b
			break
		}
		// A text in Shift_JIS, ISO-2022-JP, EUC-JP … as its charset says.
		if cs := params["charset"]; cs != "" && !strings.EqualFold(cs, "utf-8") && !strings.EqualFold(cs, "us-ascii") {
			enc, err := htmlindex.Get(cs)
			if err != nil {
				httpcore.Answer(w, r, http.StatusUnsupportedMediaType, "error.check_charset")
				return
			}
			if b, err = enc.NewDecoder().Bytes(b); err != nil {
				httpcore.Answer(w, r, http.StatusUnprocessableEntity, "error.check_charset")
				return
			}
		}
		in.Text = string(b)
	}
	st.Lang = lang
	res, err := s.Checker.Check(r.Context(), in, lang)
	if err != nil {
		httpcore.Fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Language", lang)
	json.NewEncoder(w).Encode(res)
}

func (s *Server) answerTooLargeOr(w http.ResponseWriter, r *http.Request, err error, key string) {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		httpcore.Answer(w, r, http.StatusRequestEntityTooLarge, "error.check_too_large")
		return
	}
	httpcore.Answer(w, r, http.StatusBadRequest, key)
}
