package adminapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"gatehouse/internal/httpcore"
	"gatehouse/internal/oidc"
)

// clientView is what the admin API shows of an OpenID Connect client:
// never its secret's hash.
type clientView struct {
	ClientID               string    `json:"client_id"`
	Name                   string    `json:"name"`
	Public                 bool      `json:"public"`
	FirstParty             bool      `json:"first_party"`
	RedirectURIs           []string  `json:"redirect_uris"`
	PostLogoutRedirectURIs []string  `json:"post_logout_redirect_uris"`
	BackchannelLogoutURI   string    `json:"backchannel_logout_uri"`
	CreatedAt              time.Time `json:"created_at"`
}

func viewClient(c *oidc.Client) clientView {
	return clientView{
		ClientID: c.ID, Name: c.Name, Public: c.Public(), FirstParty: c.FirstParty,
		RedirectURIs: nonNil(c.RedirectURIs), PostLogoutRedirectURIs: nonNil(c.PostLogoutRedirectURIs),
		BackchannelLogoutURI: c.BackchannelLogoutURI, CreatedAt: c.CreatedAt,
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// listClients: GET /api/admin/clients — the live clients, oldest first.
func (d *Door) listClients(w http.ResponseWriter, r *http.Request) {
	all, err := d.Clients.List(r.Context())
	if err != nil {
		httpcore.Fail(w, r, err)
		return
	}
	views := make([]clientView, 0, len(all))
	for _, c := range all {
		views = append(views, viewClient(c))
	}
	writeJSON(w, map[string]any{"clients": views})
}

// newClient is the body of POST /api/admin/clients: what `gatehouse
// client add` asks for.
type newClient struct {
	Name                   string   `json:"name"`
	RedirectURIs           []string `json:"redirect_uris"`
	PostLogoutRedirectURIs []string `json:"post_logout_redirect_uris"`
	BackchannelLogoutURI   string   `json:"backchannel_logout_uri"`
	Public                 bool     `json:"public"`
	FirstParty             bool     `json:"first_party"`
}

// addClient: POST /api/admin/clients — registers a client, as `gatehouse
// client add` does: 201 with the client and, for a confidential client,
// its secret, shown this once (only its HMAC is kept). A body that is not
// the object above is 400; a client oidc.Clients would refuse (no name,
// no redirect URI, a URI it does not allow) is 422, saying why.
func (d *Door) addClient(w http.ResponseWriter, r *http.Request) {
	var body newClient
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil || dec.More() {
		httpcore.Answer(w, r, http.StatusBadRequest, "error.api_body")
		return
	}
	if err := checkClient(body); err != nil {
		httpcore.AnswerText(w, r, http.StatusUnprocessableEntity, "error.api_client", err.Error())
		return
	}
	c, secret, err := d.Clients.Add(r.Context(), oidc.NewClient{
		Name: body.Name, RedirectURIs: body.RedirectURIs, PostLogoutRedirectURIs: body.PostLogoutRedirectURIs,
		BackchannelLogoutURI: body.BackchannelLogoutURI, Public: body.Public, FirstParty: body.FirstParty,
	})
	if err != nil {
		httpcore.Fail(w, r, err)
		return
	}
	o := httpcore.OriginOf(r)
	d.log().InfoContext(r.Context(), "admin api: client added", "client_id", c.ID, "name", c.Name, "client", o.Client, "ip", o.IP)
	var shown *string
	if secret != "" {
		shown = &secret
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	json.NewEncoder(w).Encode(map[string]any{"client": viewClient(c), "client_secret": shown})
}

// checkClient applies oidc.Clients.Add's rules before it is called, so
// that what the operator got wrong is a 422 that says what, and any error
// Add still returns is the server's.
func checkClient(b newClient) error {
	if strings.TrimSpace(b.Name) == "" {
		return errors.New("a client needs a name: the holder sees it on the consent and connected-applications pages")
	}
	if len(b.RedirectURIs) == 0 {
		return errors.New("a client needs at least one redirect URI")
	}
	for _, u := range append(append([]string(nil), b.RedirectURIs...), b.PostLogoutRedirectURIs...) {
		if err := oidc.ValidateRedirectURI(u, b.Public); err != nil {
			return err
		}
	}
	if b.BackchannelLogoutURI != "" {
		if err := oidc.ValidateRedirectURI(b.BackchannelLogoutURI, false); err != nil {
			return err
		}
	}
	return nil
}

// removeClient: DELETE /api/admin/clients/{id} — the client is refused
// everywhere from now on (its record stays, to name it in history); 404
// for an unknown or already removed client.
func (d *Door) removeClient(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	err := d.Clients.Remove(r.Context(), id)
	if errors.Is(err, oidc.ErrClientNotFound) {
		err = httpcore.ErrUnknown
	}
	if err != nil {
		httpcore.Fail(w, r, err)
		return
	}
	o := httpcore.OriginOf(r)
	d.log().InfoContext(r.Context(), "admin api: client removed", "client_id", id, "client", o.Client, "ip", o.IP)
	writeJSON(w, map[string]any{"client": map[string]any{"client_id": id, "removed": true}})
}
