package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"gatehouse/internal/oidc"
	"gatehouse/internal/oidcdoor"
)

// stringList is a flag that may be given more than once.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, " ") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

// runClient is gatehouse client add|list|remove: the applications that
// sign their users in through Gatehouse (OpenID Connect).
func runClient(args []string, stdout, stderr io.Writer) int {
	const usage = "usage: gatehouse client add --name NAME --redirect-uri URI [--redirect-uri URI …] [--public] [--first-party] [--post-logout-redirect-uri URI …] [--backchannel-logout-uri URI] [--json]\n" +
		"       gatehouse client list [--json]\n" +
		"       gatehouse client remove ID"
	if len(args) == 0 || (args[0] != "add" && args[0] != "list" && args[0] != "remove") {
		fmt.Fprintln(stderr, usage)
		return 2
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("client "+sub, flag.ContinueOnError)
	name := fs.String("name", "", "the application's name, as holders see it (add)")
	var redirects, postLogout stringList
	fs.Var(&redirects, "redirect-uri", "where codes are sent, matched exactly; repeat for several (add)")
	fs.Var(&postLogout, "post-logout-redirect-uri", "where RP-initiated logout may return; repeat for several (add)")
	public := fs.Bool("public", false, "a browser or native app that cannot keep a secret: no secret, PKCE required (add)")
	firstParty := fs.Bool("first-party", false, "the installation's own application: no consent page (add)")
	backchannel := fs.String("backchannel-logout-uri", "", "where logout tokens are posted when a holder's session ends (add)")
	asJSON := fs.Bool("json", false, `print JSON: {"client_id": …, "client_secret": …} (add), the clients (list)`)
	if sub == "remove" {
		args = reorder(args)
	}
	cfg, code := parseConfig(fs, args, stderr)
	if cfg == nil {
		return code
	}
	switch {
	case sub == "add" && (*name == "" || len(redirects) == 0 || fs.NArg() != 0),
		sub == "list" && fs.NArg() != 0,
		sub == "remove" && fs.NArg() != 1:
		fmt.Fprintln(stderr, usage)
		return 2
	}
	ctx := context.Background()
	a := openApp(ctx, cfg, stderr)
	if a == nil {
		return 1
	}
	defer a.Close()
	switch sub {
	case "add":
		c, secret, err := a.Clients.Add(ctx, oidc.NewClient{
			Name: *name, RedirectURIs: redirects, PostLogoutRedirectURIs: postLogout,
			BackchannelLogoutURI: *backchannel, Public: *public, FirstParty: *firstParty,
		})
		if err != nil {
			fmt.Fprintf(stderr, "gatehouse: %v\n", err)
			return 1
		}
		if *asJSON {
			out := map[string]string{"client_id": c.ID}
			if secret != "" {
				out["client_secret"] = secret
			}
			json.NewEncoder(stdout).Encode(out)
			return 0
		}
		fmt.Fprintf(stdout, "client_id:     %s\n", c.ID)
		if secret != "" {
			fmt.Fprintf(stdout, "client_secret: %s\n", secret)
			fmt.Fprintln(stdout, "The secret is shown this once; Gatehouse keeps only a keyed hash of it.")
		} else {
			fmt.Fprintln(stdout, "A public client: no secret; it must use PKCE (S256).")
		}
		fmt.Fprintf(stdout, "Discovery: %s%s\n", a.OIDC.Issuer, oidcdoor.DiscoveryPath)
	case "list":
		clients, err := a.Clients.List(ctx)
		if err != nil {
			fmt.Fprintf(stderr, "gatehouse: %v\n", err)
			return 1
		}
		if *asJSON {
			type row struct {
				ClientID               string    `json:"client_id"`
				Name                   string    `json:"name"`
				Public                 bool      `json:"public"`
				FirstParty             bool      `json:"first_party"`
				RedirectURIs           []string  `json:"redirect_uris"`
				PostLogoutRedirectURIs []string  `json:"post_logout_redirect_uris"`
				BackchannelLogoutURI   string    `json:"backchannel_logout_uri,omitempty"`
				CreatedAt              time.Time `json:"created_at"`
			}
			out := []row{}
			for _, c := range clients {
				out = append(out, row{c.ID, c.Name, c.Public(), c.FirstParty, nonNil(c.RedirectURIs), nonNil(c.PostLogoutRedirectURIs), c.BackchannelLogoutURI, c.CreatedAt})
			}
			enc := json.NewEncoder(stdout)
			enc.SetIndent("", "  ")
			enc.Encode(out)
			return 0
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "CLIENT ID\tNAME\tTYPE\tFIRST-PARTY\tCREATED\tREDIRECT URIS")
		for _, c := range clients {
			kind := "confidential"
			if c.Public() {
				kind = "public"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%t\t%s\t%s\n", c.ID, c.Name, kind, c.FirstParty, c.CreatedAt.Format(time.DateOnly), strings.Join(c.RedirectURIs, " "))
		}
		tw.Flush()
	case "remove":
		id := fs.Arg(0)
		if err := a.Clients.Remove(ctx, id); err != nil {
			if errors.Is(err, oidc.ErrClientNotFound) {
				fmt.Fprintf(stderr, "gatehouse: no client %s\n", id)
			} else {
				fmt.Fprintf(stderr, "gatehouse: %v\n", err)
			}
			return 1
		}
		fmt.Fprintf(stdout, "removed client %s: it can no longer sign anyone in\n", id)
	}
	return 0
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
