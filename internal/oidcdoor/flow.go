package oidcdoor

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"gatehouse/internal/httpcore"
	gh "gatehouse/internal/oidc"
	"gatehouse/internal/random"
)

// ContinuePath is the hand-off: op sends the browser here with the stored
// request's id, and every detour (sign-in, re-verification, consent)
// comes back here until the request is answered.
const ContinuePath = "/oidc/authorize/continue"

// ConsentPath is the consent page (the holder's pages serve it).
const ConsentPath = "/oidc/consent"

// ContinueURL is the hand-off's address for a request.
func ContinueURL(id string) string { return ContinuePath + "?id=" + url.QueryEscape(id) }

// Proofs is what the holder's account can prove beyond a password: a
// method that is a second factor, and a passkey.
type Proofs struct{ Factor, Passkey bool }

// flowRoutes are the authorization code flow's routes.
func (d *Door) flowRoutes() []httpcore.Route {
	// The front channel: a browser sent by an application. Errors are
	// pages in the holder's language; the relying party may post the
	// authorization request (OpenID Connect Core §3.1.2.1).
	front := *d.Pages
	front.Name = "oidc-front"
	front.CrossSite = true
	// The back channel: the application's server (or a browser app) with
	// its client credentials or bearer token. OAuth errors are JSON.
	back := httpcore.NewJSON()
	back.Name = "oidc-token"
	back.Body = httpcore.FormBody
	back.CrossSite = true
	userinfo := *back
	userinfo.Name = "oidc-userinfo"
	userinfo.Body = formOrEmpty
	return []httpcore.Route{
		{Method: "GET", Path: AuthorizationPath, Access: httpcore.Public, Chain: &front, Origin: true, Handler: d.authorize},
		{Method: "POST", Path: AuthorizationPath, Access: httpcore.Public, Chain: &front, Origin: true, Handler: d.authorize},
		{Method: "GET", Path: ContinuePath, Access: httpcore.Public, Chain: d.Pages, Session: true, Origin: true, Handler: d.continueFlow},
		{Method: "POST", Path: TokenPath, Access: httpcore.Public, Chain: back, Handler: d.cors(d.token)},
		{Method: "OPTIONS", Path: TokenPath, Access: httpcore.Public, Chain: back, Handler: d.preflight("POST")},
		{Method: "POST", Path: RevocationPath, Access: httpcore.Public, Chain: back, Handler: d.cors(d.op(func(w http.ResponseWriter, r *http.Request) { op.Revoke(w, r, d.Flow.OP()) }))},
		{Method: "OPTIONS", Path: RevocationPath, Access: httpcore.Public, Chain: back, Handler: d.preflight("POST")},
		{Method: "GET", Path: EndSessionPath, Access: httpcore.Public, Chain: &front, Handler: d.endSession},
		{Method: "POST", Path: EndSessionPath, Access: httpcore.Public, Chain: &front, Handler: d.endSession},
		{Method: "GET", Path: UserinfoPath, Access: httpcore.Public, Chain: &userinfo, Handler: d.cors(d.userinfo)},
		{Method: "POST", Path: UserinfoPath, Access: httpcore.Public, Chain: &userinfo, Handler: d.cors(d.userinfo)},
		{Method: "OPTIONS", Path: UserinfoPath, Access: httpcore.Public, Chain: &userinfo, Handler: d.preflight("GET, POST")},
	}
}

// cors lets the pages of a public client — a browser app, calling from
// the origin of one of its redirect URIs (oidc.Clients.BrowserOrigin) —
// read the answer. Never with credentials: these endpoints read no
// cookie, and a browser must not send one. Any other origin gets the
// answer without the header, which its browser then withholds from it.
func (d *Door) cors(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Vary", "Origin")
		if origin := r.Header.Get("Origin"); origin != "" {
			if ok, err := d.Flow.Clients.BrowserOrigin(r.Context(), origin); err != nil {
				httpcore.Fail(w, r, err)
				return
			} else if ok {
				allowOrigin(w.Header(), origin)
			}
		}
		h(w, r)
	}
}

func allowOrigin(h http.Header, origin string) {
	h.Set("Access-Control-Allow-Origin", origin)
	// userinfo's refusal says why in it (RFC 6750 §3).
	h.Set("Access-Control-Expose-Headers", "WWW-Authenticate")
}

// preflight answers a browser's question before a browser app's call that
// is not a simple form post (userinfo with an Authorization header): 204
// with what the call may carry, for a public client's origin, and 403
// without any CORS header for every other.
func (d *Door) preflight(methods string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Add("Vary", "Origin")
		origin := r.Header.Get("Origin")
		ok, err := d.Flow.Clients.BrowserOrigin(r.Context(), origin)
		if err != nil {
			httpcore.Fail(w, r, err)
			return
		}
		if !ok {
			httpcore.JSONError(w, r, http.StatusForbidden, "error.cross_origin",
				"this origin is not where a public client's redirect URIs are (gatehouse client add --public --redirect-uri)")
			return
		}
		allowOrigin(h, origin)
		h.Set("Access-Control-Allow-Methods", methods)
		h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
		h.Set("Access-Control-Max-Age", "600")
		w.WriteHeader(http.StatusNoContent)
	}
}

// endSession is RP-initiated logout: op checks the id_token_hint and the
// return address against the client, and the browser goes on to the page
// that asks the holder (TerminateSessionFromRequest).
func (d *Door) endSession(w http.ResponseWriter, r *http.Request) {
	d.op(func(w http.ResponseWriter, r *http.Request) { op.EndSession(w, r, d.Flow.OP()) })(w, r)
}

// formOrEmpty takes a userinfo request's body: none, or a form carrying
// the access token (RFC 6750 §2.2).
func formOrEmpty(w http.ResponseWriter, r *http.Request) bool {
	if r.ContentLength == 0 && r.Header.Get("Content-Type") == "" {
		return true
	}
	return httpcore.FormBody(w, r)
}

// op runs one of op's handlers with the issuer it needs in the context.
func (d *Door) op(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		h(w, r.WithContext(op.ContextWithIssuer(r.Context(), d.Issuer)))
	}
}

// authorize validates the application's request (op), stores it bound to
// this browser and sends the browser to the hand-off.
func (d *Door) authorize(w http.ResponseWriter, r *http.Request) {
	o := httpcore.OriginOf(r)
	ctx := gh.WithDevice(op.ContextWithIssuer(r.Context(), d.Issuer), o.DeviceID)
	op.Authorize(w, r.WithContext(ctx), authorizer{d.Flow.OP(), d})
}

// token answers the two grants Gatehouse offers, and nothing else: op
// would otherwise hand other grant types to handlers for flows Gatehouse
// does not serve.
func (d *Door) token(w http.ResponseWriter, r *http.Request) {
	switch oidc.GrantType(r.PostFormValue("grant_type")) {
	case oidc.GrantTypeCode, oidc.GrantTypeRefreshToken:
		d.op(func(w http.ResponseWriter, r *http.Request) { op.Exchange(w, r, d.Flow.OP()) })(w, r)
	default:
		op.RequestError(w, r, oidc.ErrUnsupportedGrantType().WithDescription("only authorization_code and refresh_token"), nil)
	}
}

// userinfo answers with the claims of a live access token. op's own
// refusal is a bare 401; a bearer client is told why (RFC 6750 §3).
func (d *Door) userinfo(w http.ResponseWriter, r *http.Request) {
	rec := &challenge{ResponseWriter: w}
	d.op(func(w http.ResponseWriter, r *http.Request) { op.Userinfo(w, r, d.Flow.OP()) })(rec, r)
}

// challenge adds the WWW-Authenticate header to a 401.
type challenge struct{ http.ResponseWriter }

func (c *challenge) WriteHeader(status int) {
	if status == http.StatusUnauthorized || status == http.StatusForbidden {
		c.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		status = http.StatusUnauthorized
	}
	c.ResponseWriter.WriteHeader(status)
}

// authorizer is op's provider with Gatehouse's own validation of the
// authorization request.
type authorizer struct {
	*op.Provider
	d *Door
}

// ValidateAuthRequest adds to op's checks what op leaves to the provider:
// PKCE with S256 for public clients (and S256 whenever PKCE is used),
// the query response mode only, no request objects.
func (a authorizer) ValidateAuthRequest(ctx context.Context, req *oidc.AuthRequest, s op.Storage, v *op.IDTokenHintVerifier) (string, error) {
	c, err := s.GetClientByClientID(ctx, req.ClientID)
	if err != nil {
		return "", oidc.ErrInvalidRequestRedirectURI().WithDescription("unknown client")
	}
	sub, err := op.ValidateAuthRequestClient(ctx, req, c, v)
	if err != nil {
		return "", err
	}
	if req.CodeChallenge != "" && req.CodeChallengeMethod != oidc.CodeChallengeMethodS256 {
		return "", oidc.ErrInvalidRequest().WithDescription("code_challenge_method must be S256")
	}
	if c.AuthMethod() == oidc.AuthMethodNone && req.CodeChallenge == "" {
		return "", oidc.ErrInvalidRequest().WithDescription("a public client must use PKCE (code_challenge with S256)")
	}
	if req.ResponseMode != "" && req.ResponseMode != oidc.ResponseModeQuery {
		return "", oidc.ErrInvalidRequest().WithDescription("only response_mode=query is supported")
	}
	if req.RequestParam != "" {
		return "", oidc.ErrRequestNotSupported()
	}
	if !slices.Contains(req.Scopes, oidc.ScopeOpenID) {
		return "", oidc.ErrInvalidScope().WithDescription("the openid scope is required")
	}
	return sub, nil
}

// continueFlow is the hand-off: it decides what the request still needs
// — a sign-in, a fresh one, a second step, a passkey, consent — sends the
// browser there (each comes back here), and answers the application once
// everything is met.
func (d *Door) continueFlow(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("id")
	ctx := op.ContextWithIssuer(r.Context(), d.Issuer)
	r = r.WithContext(ctx)
	req, err := d.Flow.Store.AuthRequest(ctx, id, d.Flow.Clock.Now())
	o := httpcore.OriginOf(r)
	if errors.Is(err, gh.ErrNotFound) || err == nil && (req.DeviceID != o.DeviceID || !req.DoneAt.IsZero()) {
		// Expired, finished, or brought by another browser (a link to a
		// half-finished request must not sign someone else in).
		httpcore.Answer(w, r, http.StatusBadRequest, "error.oidc_request")
		return
	}
	if err != nil {
		httpcore.Fail(w, r, err)
		return
	}
	client, err := d.Flow.Clients.Store.ClientByID(ctx, req.ClientID)
	if err != nil {
		httpcore.Answer(w, r, http.StatusBadRequest, "error.oidc_request")
		return
	}
	fail := func(e *oidc.Error) { d.answer(w, r, req, client.Name, e) }
	if !req.DeniedAt.IsZero() {
		fail(oidc.ErrAccessDenied().WithDescription("the holder did not allow it"))
		return
	}
	st := httpcore.StateOf(r)
	p := req.Params
	none := p.Has(oidc.PromptNone)
	here := ContinueURL(req.ID)
	s, a := st.Session, st.Account
	if s == nil || a == nil || (p.HintSubject != "" && a.ID != p.HintSubject) {
		if none {
			fail(oidc.ErrLoginRequired())
			return
		}
		q := url.Values{"next": {here}}
		if p.LoginHint != "" {
			q.Set("email", p.LoginHint)
		}
		if s != nil {
			// Signed in as someone else than the application expects:
			// the sign-in page offers to switch.
			q.Set("switch", "1")
		}
		httpcore.Redirect(w, r, "/signin", q)
		return
	}
	now := d.Flow.Clock.Now()
	authTime := s.CreatedAt
	if s.AuthenticatedAt.After(authTime) {
		authTime = s.AuthenticatedAt
	}
	// How fresh the proof must be: max_age is the time allowed since the
	// holder last proved who they are, counted back from the request
	// (OpenID Connect Core §3.1.2.1) — not from this hop, or a slow
	// re-verification could end already too old and send the holder
	// round again. prompt=login (op turns it into max_age=0) asks for a
	// proof made after the request.
	var freshAfter time.Time
	if p.MaxAge != nil {
		freshAfter = req.CreatedAt.Add(-time.Duration(*p.MaxAge) * time.Second)
	}
	reverify := func(method string) {
		if none {
			fail(oidc.ErrInteractionRequired())
			return
		}
		q := url.Values{"next": {here}}
		if method != "" {
			q.Set("method", method)
		}
		httpcore.Redirect(w, r, "/account/reverify", q)
	}
	if authTime.Before(freshAfter) {
		reverify("")
		return
	}
	proofs, err := d.Proofs(ctx, a)
	if err != nil {
		httpcore.Fail(w, r, err)
		return
	}
	amr := s.AMR
	acr := ""
	for _, want := range p.ACRValues {
		switch want {
		case ACRPHR:
			if !proofs.Passkey {
				continue // an acr the account cannot give is voluntary
			}
			if !slices.Contains(amr, "swk") && !slices.Contains(amr, "hwk") {
				reverify("passkey")
				return
			}
			acr = ACRPHR
		case ACRMFA:
			if !proofs.Factor {
				continue
			}
			if !slices.Contains(amr, "mfa") {
				reverify("")
				return
			}
			acr = ACRMFA
		}
		if acr != "" {
			break
		}
	}
	if acr == "" && len(p.ACRValues) == 0 {
		// Nothing asked: say the strongest the session proved.
		switch {
		case slices.Contains(amr, "swk") || slices.Contains(amr, "hwk"):
			acr = ACRPHR
		case slices.Contains(amr, "mfa"):
			acr = ACRMFA
		}
	}
	if !client.FirstParty {
		g, err := d.Flow.Store.Grant(ctx, a.ID, client.ID)
		if err != nil && !errors.Is(err, gh.ErrNotFound) {
			httpcore.Fail(w, r, err)
			return
		}
		if g == nil || !g.Covers(p.Scopes) || p.Has(oidc.PromptConsent) && g.LastUsedAt.Before(req.CreatedAt) {
			if none {
				fail(&oidc.Error{ErrorType: "consent_required"}) // OpenID Connect Core §3.1.2.6
				return
			}
			httpcore.Redirect(w, r, ConsentPath, url.Values{"id": {req.ID}})
			return
		}
	} else if err := d.Flow.Store.SaveGrant(ctx, &gh.Grant{AccountID: a.ID, ClientID: client.ID, Scopes: p.Scopes,
		CreatedAt: now, LastUsedAt: now, LastDeviceID: o.DeviceID}); err != nil {
		httpcore.Fail(w, r, err)
		return
	}
	sid, err := d.Flow.Store.AppSession(ctx, s.ID, client.ID, a.ID, random.ID(), now)
	if err != nil {
		httpcore.Fail(w, r, err)
		return
	}
	res := gh.Result{SessionID: s.ID, SID: sid, AuthTime: authTime.Truncate(time.Second), AMR: amr, ACR: acr}
	if err := d.Flow.Store.CompleteAuthRequest(ctx, req.ID, a.ID, res, now); err != nil {
		if errors.Is(err, gh.ErrUsed) {
			httpcore.Answer(w, r, http.StatusBadRequest, "error.oidc_request")
			return
		}
		httpcore.Fail(w, r, err)
		return
	}
	req.AccountID, req.Result, req.DoneAt = a.ID, res, now
	target, err := op.BuildAuthResponseCallbackURL(ctx, gh.OPRequest(req), d.Flow.OP())
	if err != nil {
		httpcore.Fail(w, r, err)
		return
	}
	d.leave(w, r, target, client.Name)
}

// answer sends an error to the application, at its validated redirect
// URI.
func (d *Door) answer(w http.ResponseWriter, r *http.Request, req *gh.Request, app string, e *oidc.Error) {
	e.State = req.Params.State
	target, err := op.AuthResponseURL(req.Params.RedirectURI, oidc.ResponseType(req.Params.ResponseType),
		oidc.ResponseMode(req.Params.ResponseMode), e, d.Flow.OP().Encoder())
	if err != nil {
		httpcore.Fail(w, r, err)
		return
	}
	d.leave(w, r, target, app)
}

// leave sends the browser back to the application. After one of
// Gatehouse's own forms (a sign-in, a second step, consent), browsers
// hold the redirect to the pages' CSP form-action 'self' and would block
// a redirect to the application; such a browser gets a page that moves on
// by itself instead. A browser that came straight from the application
// (or a program) gets the plain redirect.
func (d *Door) leave(w http.ResponseWriter, r *http.Request, target, app string) {
	if r.Header.Get("Sec-Fetch-Site") == "same-origin" && d.Hop != nil {
		d.Hop(w, r, target, app)
		return
	}
	http.Redirect(w, r, target, http.StatusFound)
}
