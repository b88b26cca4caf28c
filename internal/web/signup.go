package web

import (
	"net/http"
	"net/url"

	"gatehouse/internal/account"
)

func (s *Server) signupForm(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "signup", s.newPage(r, "signup.title"))
}

// origin recognises the browser (setting its device cookie when new) and
// describes where the request came from.
func (s *Server) origin(w http.ResponseWriter, r *http.Request) (account.Origin, error) {
	var token string
	if c, err := r.Cookie(deviceCookie); err == nil {
		token = c.Value
	}
	dev, fresh, err := s.Devices.Recognise(r.Context(), token, clientIP(r), r.UserAgent())
	if err != nil {
		return account.Origin{}, err
	}
	if fresh != "" {
		setCookie(w, deviceCookie, fresh, s.now().Add(400*24*3600e9), 400*24*3600)
	}
	return account.Origin{DeviceID: dev.ID, IP: dev.IP, Browser: dev.Browser, OS: dev.OS, Time: s.now()}, nil
}

func (s *Server) signupSubmit(w http.ResponseWriter, r *http.Request) {
	p := s.newPage(r, "signup.title")
	email, okE := field(r, "email")
	phone, okP := field(r, "phone")
	p.Values["email"], p.Values["phone"] = email, phone
	bad := account.FieldErrors{}
	if !okE {
		bad["email"] = "error.invalid_text"
	}
	if !okP {
		bad["phone"] = "error.invalid_text"
	}
	if len(bad) > 0 {
		s.formError(w, r, "signup", p, bad)
		return
	}
	o, err := s.origin(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	id, err := s.Accounts.Register(r.Context(), account.Registration{
		Email: email, Password: secret(r, "password"), Phone: phone, Language: p.Lang, Origin: o,
	})
	if err != nil {
		s.formError(w, r, "signup", p, err)
		return
	}
	redirect(w, r, "/signup/confirm", url.Values{"c": {id}})
}

// challengeID reads the request id a code page continues with.
func challengeID(r *http.Request) string {
	if r.Method == http.MethodPost {
		v, _ := field(r, "c")
		return v
	}
	return r.URL.Query().Get("c")
}
