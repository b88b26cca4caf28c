// Package adminapi is the front door for the operator's programs: a JSON
// API under /api/admin/ to find accounts, disable, enable and delete them,
// list and revoke their sessions, read their sign-in attempts, messages
// and devices, and register and remove OpenID Connect clients. A program
// proves itself with an API key (package apikey) in the Authorization
// header — "Bearer gh_…" — and each route needs one scope of the key,
// named beside it in the route table. The API describes itself at
// /api/openapi.json (OpenAPI 3.1, openapi.json in this package).
//
// The door decides nothing about accounts or sessions itself: disabling
// is account.Service.Disable (which ends every session of the account, as
// `gatehouse user disable` does), deleting is account.Service.Delete, a
// session is revoked by the session manager, clients are oidc.Clients', and
// every error is answered by the core's error mapper.
package adminapi

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"gatehouse/internal/account"
	"gatehouse/internal/apikey"
	"gatehouse/internal/device"
	"gatehouse/internal/httpcore"
	"gatehouse/internal/oidc"
	"gatehouse/internal/outbox"
	"gatehouse/internal/session"
	"gatehouse/internal/signin"
)

// Access is the admin API's access level: a live API key that carries the
// route's scope. Its gate is Door.Gate, registered in the core's Gates.
const Access = httpcore.Door + 1

// Door serves the admin API.
type Door struct {
	Keys     *apikey.Service
	Accounts *account.Service
	Sessions *session.Manager
	// Attempts are the sign-in attempts (the store), Messages the outbox,
	// Devices the browsers accounts were used on, Clients the OpenID
	// Connect clients.
	Attempts Attempts
	Messages Messages
	Devices  Devices
	Clients  Clients
	// Deliveries are the stored security events and logout tokens, Retrier
	// the sender that puts a failed one back in line.
	Deliveries Deliveries
	Retrier    Retrier
	Log        *slog.Logger
}

// Attempts reads an account's sign-in attempts (signin.Store).
type Attempts interface {
	AttemptsPage(ctx context.Context, accountID string, q signin.AttemptQuery) ([]*signin.Attempt, error)
}

// Messages reads stored messages (outbox.Store).
type Messages interface {
	AccountMessages(ctx context.Context, accountID string, q outbox.AccountQuery) ([]*outbox.Message, error)
	MessageByReference(ctx context.Context, ref string) (*outbox.Message, error)
}

// Devices lists an account's devices (device.Devices).
type Devices interface {
	List(ctx context.Context, accountID string) ([]device.AccountDevice, error)
}

// Clients registers, lists and removes OpenID Connect clients
// (oidc.Clients).
type Clients interface {
	Add(ctx context.Context, n oidc.NewClient) (*oidc.Client, string, error)
	List(ctx context.Context) ([]*oidc.Client, error)
	Remove(ctx context.Context, id string) error
}

// route is one URL of the admin API: the core's route and the scope a key
// needs for it.
type route struct {
	Scope apikey.Scope
	httpcore.Route
}

// table is the admin API's part of the one route table, every fact of a
// route on its line, its scope first. The OpenAPI document (openapi.json)
// describes each route; a test holds the two together.
func (d *Door) table() []route {
	api := httpcore.NewJSON()
	return []route{
		{apikey.AccountsRead, httpcore.Route{Method: "GET", Path: "/api/admin/accounts", Access: Access, Chain: api, Handler: d.listAccounts}},
		{apikey.AccountsRead, httpcore.Route{Method: "GET", Path: "/api/admin/accounts/{id}", Access: Access, Chain: api, Handler: d.showAccount}},
		{apikey.AccountsWrite, httpcore.Route{Method: "POST", Path: "/api/admin/accounts/{id}/disable", Access: Access, Chain: api, Body: emptyOrJSON, Origin: true, Handler: d.disable}},
		{apikey.AccountsWrite, httpcore.Route{Method: "POST", Path: "/api/admin/accounts/{id}/enable", Access: Access, Chain: api, Body: emptyOrJSON, Origin: true, Handler: d.enable}},
		{apikey.AccountsWrite, httpcore.Route{Method: "DELETE", Path: "/api/admin/accounts/{id}", Access: Access, Chain: api, Body: emptyOrJSON, Origin: true, Handler: d.deleteAccount}},
		{apikey.SessionsRead, httpcore.Route{Method: "GET", Path: "/api/admin/accounts/{id}/sessions", Access: Access, Chain: api, Handler: d.listSessions}},
		{apikey.SessionsWrite, httpcore.Route{Method: "POST", Path: "/api/admin/sessions/{id}/revoke", Access: Access, Chain: api, Body: emptyOrJSON, Origin: true, Handler: d.revokeSession}},
		{apikey.ActivityRead, httpcore.Route{Method: "GET", Path: "/api/admin/accounts/{id}/attempts", Access: Access, Chain: api, Handler: d.listAttempts}},
		{apikey.ActivityRead, httpcore.Route{Method: "GET", Path: "/api/admin/accounts/{id}/messages", Access: Access, Chain: api, Handler: d.listMessages}},
		{apikey.ActivityRead, httpcore.Route{Method: "GET", Path: "/api/admin/messages/{reference}", Access: Access, Chain: api, Handler: d.showMessage}},
		{apikey.DevicesRead, httpcore.Route{Method: "GET", Path: "/api/admin/accounts/{id}/devices", Access: Access, Chain: api, Handler: d.listDevices}},
		{apikey.ClientsRead, httpcore.Route{Method: "GET", Path: "/api/admin/clients", Access: Access, Chain: api, Handler: d.listClients}},
		{apikey.ClientsWrite, httpcore.Route{Method: "POST", Path: "/api/admin/clients", Access: Access, Chain: api, Origin: true, Handler: d.addClient}},
		{apikey.ClientsWrite, httpcore.Route{Method: "DELETE", Path: "/api/admin/clients/{id}", Access: Access, Chain: api, Body: emptyOrJSON, Origin: true, Handler: d.removeClient}},
		{apikey.DeliveriesRead, httpcore.Route{Method: "GET", Path: "/api/admin/deliveries", Access: Access, Chain: api, Handler: d.listDeliveries}},
		{apikey.DeliveriesWrite, httpcore.Route{Method: "POST", Path: "/api/admin/deliveries/{id}/retry", Access: Access, Chain: api, Body: emptyOrJSON, Origin: true, Handler: d.retryDelivery}},
		// The document that describes them: public, like any API's.
		{"", httpcore.Route{Method: "GET", Path: "/api/openapi.json", Access: httpcore.Public, Chain: api, Handler: d.openAPI}},
	}
}

// Routes is the admin API's part of the one route table.
func (d *Door) Routes() []httpcore.Route {
	var out []httpcore.Route
	for _, rt := range d.table() {
		out = append(out, rt.Route)
	}
	return out
}

// Scope returns the scope the admin API's table names for a route ("" for
// the public document), and whether the table has the route.
func (d *Door) Scope(method, path string) (apikey.Scope, bool) {
	for _, rt := range d.table() {
		if rt.Method == method && rt.Path == path {
			return rt.Scope, true
		}
	}
	return "", false
}

// Gate is the Access level's gate: the request's bearer key must be live
// (else 401 with WWW-Authenticate: Bearer) and carry the route's scope
// (else 403). The request's origin then names the key. A route of this
// level missing from the door's table stops the server.
func (d *Door) Gate(rt *httpcore.Route, next http.HandlerFunc) http.HandlerFunc {
	scope, ok := d.Scope(rt.Method, rt.Path)
	if !ok {
		panic(fmt.Sprintf("adminapi: route %s %s has the admin API's access level and no scope in its table", rt.Method, rt.Path))
	}
	return func(w http.ResponseWriter, r *http.Request) {
		token, presented := bearer(r)
		key, err := d.Keys.Check(r.Context(), token)
		if errors.Is(err, apikey.ErrInvalid) {
			challenge := `Bearer realm="gatehouse"`
			if presented {
				challenge += `, error="invalid_token"`
			}
			w.Header().Set("WWW-Authenticate", challenge)
		}
		if err != nil {
			httpcore.Fail(w, r, err)
			return
		}
		if !key.Allows(scope) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="gatehouse", error="insufficient_scope", scope="`+string(scope)+`"`)
			httpcore.Fail(w, r, apikey.ErrScope)
			return
		}
		httpcore.StateOf(r).Client = "API key " + key.Name + " (" + key.ID + ")"
		next(w, r)
	}
}

// bearer is the request's bearer token (RFC 6750 §2.1), and whether one
// was presented at all.
func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", h != ""
	}
	return strings.TrimSpace(token), true
}

// emptyOrJSON is the body rule of the admin API's POSTs, which take no
// body: none at all, or JSON (ignored) as the chain's rule has it.
func emptyOrJSON(w http.ResponseWriter, r *http.Request) bool {
	if r.ContentLength == 0 && r.Header.Get("Content-Type") == "" {
		return true
	}
	return httpcore.JSONBody(w, r)
}

// MaxLimit is the most rows one page lists (accounts, attempts,
// messages); DefaultLimit is a page without limit=.
const (
	MaxLimit     = 100
	DefaultLimit = 50
)

// accountView is what the admin API shows of an account: never its
// password hash, a code, a secret or its whole phone number.
type accountView struct {
	ID       string `json:"id"`
	Email    string `json:"email"`
	Status   string `json:"status"`
	Language string `json:"language"`
	TimeZone string `json:"time_zone,omitempty"`
	// PhoneEnding is the last two digits of the phone number, as the
	// account page shows it; empty without one.
	PhoneEnding         string     `json:"phone_ending,omitempty"`
	PhoneConfirmed      bool       `json:"phone_confirmed"`
	PasswordCompromised bool       `json:"password_compromised"`
	CreatedAt           time.Time  `json:"created_at"`
	ConfirmedAt         *time.Time `json:"confirmed_at"`
	PasswordChangedAt   *time.Time `json:"password_changed_at"`
}

func viewAccount(a *account.Account) accountView {
	return accountView{
		ID: a.ID, Email: a.Email, Status: string(a.Status), Language: a.Language, TimeZone: a.TimeZone,
		PhoneEnding: account.PhoneEnding(a.Phone), PhoneConfirmed: !a.PhoneConfirmedAt.IsZero(),
		PasswordCompromised: !a.PasswordCompromisedAt.IsZero(),
		CreatedAt:           a.CreatedAt, ConfirmedAt: when(a.ConfirmedAt), PasswordChangedAt: when(a.PasswordChangedAt),
	}
}

// sessionView is what the admin API shows of a session: never its token.
type sessionView struct {
	ID              string    `json:"id"`
	AccountID       string    `json:"account_id"`
	DeviceID        string    `json:"device_id"`
	IP              string    `json:"ip"`
	CreatedAt       time.Time `json:"created_at"`
	LastSeenAt      time.Time `json:"last_seen_at"`
	AuthenticatedAt time.Time `json:"authenticated_at"`
	// ExpiresAt is when the session ends if it stays unused.
	ExpiresAt time.Time `json:"expires_at"`
	Remember  bool      `json:"remember"`
}

func when(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// listAccounts: GET /api/admin/accounts?q=PREFIX&limit=N&cursor=C — the
// accounts whose address starts with q, in address order, a page at a
// time; next_cursor (null on the last page) asks for the next.
func (d *Door) listAccounts(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, ok := pageLimit(q)
	after, cursorOK := openCursor(q.Get("cursor"))
	if !ok || !cursorOK {
		httpcore.Answer(w, r, http.StatusBadRequest, "error.api_query")
		return
	}
	page, err := d.Accounts.Search(r.Context(), q.Get("q"), after, limit+1)
	if err != nil {
		httpcore.Fail(w, r, err)
		return
	}
	var next *string
	if len(page) > limit {
		page = page[:limit]
		c := cursor(page[limit-1])
		next = &c
	}
	views := make([]accountView, 0, len(page))
	for _, a := range page {
		views = append(views, viewAccount(a))
	}
	writeJSON(w, map[string]any{"accounts": views, "next_cursor": next})
}

// pageLimit reads limit= (1 to MaxLimit, DefaultLimit when absent);
// false when it is not valid.
func pageLimit(q url.Values) (int, bool) {
	v := q.Get("limit")
	if v == "" {
		return DefaultLimit, true
	}
	n, err := strconv.Atoi(v)
	return n, err == nil && n >= 1 && n <= MaxLimit
}

// cursor is the opaque position after an account in address order.
func cursor(a *account.Account) string {
	return base64.RawURLEncoding.EncodeToString([]byte("a1:" + strings.ToLower(a.Email)))
}

// openCursor reads a cursor; "" is the first page.
func openCursor(c string) (string, bool) {
	if c == "" {
		return "", true
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return "", false
	}
	after, ok := strings.CutPrefix(string(b), "a1:")
	return after, ok && after != ""
}

// showAccount: GET /api/admin/accounts/{id}.
func (d *Door) showAccount(w http.ResponseWriter, r *http.Request) {
	a, err := d.Accounts.ByID(r.Context(), r.PathValue("id"))
	if err != nil {
		httpcore.Fail(w, r, err)
		return
	}
	writeJSON(w, map[string]any{"account": viewAccount(a)})
}

// disable: POST /api/admin/accounts/{id}/disable — the account can no
// longer sign in, and every session of it ends at once.
func (d *Door) disable(w http.ResponseWriter, r *http.Request) {
	d.change(w, r, "disabled", d.Accounts.Disable)
}

// enable: POST /api/admin/accounts/{id}/enable — a disabled account may
// sign in again (its ended sessions stay ended).
func (d *Door) enable(w http.ResponseWriter, r *http.Request) {
	d.change(w, r, "enabled", d.Accounts.Enable)
}

// change applies a change of status to the account the path names, logs
// which key made it, and answers with the account as it now is.
func (d *Door) change(w http.ResponseWriter, r *http.Request, what string, apply func(ctx context.Context, id string) error) {
	id := r.PathValue("id")
	if _, err := d.Accounts.ByID(r.Context(), id); err != nil {
		httpcore.Fail(w, r, err)
		return
	}
	if err := apply(r.Context(), id); err != nil {
		httpcore.Fail(w, r, err)
		return
	}
	o := httpcore.OriginOf(r)
	d.log().InfoContext(r.Context(), "admin api: account "+what, "account", id, "client", o.Client, "ip", o.IP)
	a, err := d.Accounts.ByID(r.Context(), id)
	if err != nil {
		httpcore.Fail(w, r, err)
		return
	}
	writeJSON(w, map[string]any{"account": viewAccount(a)})
}

// deleteAccount: DELETE /api/admin/accounts/{id} — the account and
// everything kept of it go, its sessions ended first (see
// account.Service.Delete); 404 for an unknown account.
func (d *Door) deleteAccount(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	a, err := d.Accounts.Delete(r.Context(), id)
	if err != nil {
		httpcore.Fail(w, r, err)
		return
	}
	o := httpcore.OriginOf(r)
	d.log().InfoContext(r.Context(), "admin api: account deleted", "account", id, "client", o.Client, "ip", o.IP)
	writeJSON(w, map[string]any{"account": map[string]any{"id": a.ID, "email": a.Email, "deleted": true}})
}

// listSessions: GET /api/admin/accounts/{id}/sessions — the account's
// live sessions, the most recently used first.
func (d *Door) listSessions(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if _, err := d.Accounts.ByID(r.Context(), id); err != nil {
		httpcore.Fail(w, r, err)
		return
	}
	all, err := d.Sessions.List(r.Context(), id)
	if err != nil {
		httpcore.Fail(w, r, err)
		return
	}
	views := make([]sessionView, 0, len(all))
	for _, s := range all {
		views = append(views, sessionView{ID: s.ID, AccountID: s.AccountID, DeviceID: s.DeviceID, IP: s.IP,
			CreatedAt: s.CreatedAt, LastSeenAt: s.LastSeenAt, AuthenticatedAt: s.AuthenticatedAt, ExpiresAt: s.ExpiresAt(), Remember: s.Remember})
	}
	writeJSON(w, map[string]any{"sessions": views})
}

// revokeSession: POST /api/admin/sessions/{id}/revoke — the session ends
// at once, on every node; 404 when no live session has the id.
func (d *Door) revokeSession(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := d.Sessions.Revoke(r.Context(), id); err != nil {
		httpcore.Fail(w, r, err)
		return
	}
	o := httpcore.OriginOf(r)
	d.log().InfoContext(r.Context(), "admin api: session revoked", "session", id, "client", o.Client, "ip", o.IP)
	writeJSON(w, map[string]any{"session": map[string]any{"id": id, "revoked": true}})
}

func (d *Door) log() *slog.Logger {
	if d.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return d.Log
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}
