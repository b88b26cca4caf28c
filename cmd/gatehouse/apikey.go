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

	"gatehouse/internal/apikey"
)

const apikeyUsage = `usage: gatehouse apikey create --name NAME --scope SCOPE [--scope SCOPE…] [--json]
       gatehouse apikey list
       gatehouse apikey revoke ID
scopes: `

// runAPIKey makes, lists and revokes the admin API's keys. A new key is
// printed once: only its hash is kept.
func runAPIKey(args []string, stdout, stderr io.Writer) int {
	var names []string
	for _, s := range apikey.Scopes {
		names = append(names, string(s))
	}
	usage := apikeyUsage + strings.Join(names, ", ")
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return 2
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("apikey "+sub, flag.ContinueOnError)
	name := fs.String("name", "", "the key's name: the program that uses it (create)")
	var scopes []apikey.Scope
	fs.Func("scope", "a scope the key may use, repeatable: "+strings.Join(names, ", ")+" (create)", func(v string) error {
		for _, f := range strings.Split(v, ",") {
			s, err := apikey.ParseScope(strings.TrimSpace(f))
			if err != nil {
				return err
			}
			scopes = append(scopes, s)
		}
		return nil
	})
	asJSON := fs.Bool("json", false, `print {"id","key","scopes"} as JSON (create)`)
	// revoke's ID may come before or after the flags.
	var id string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		id, args = args[0], args[1:]
	}
	cfg, code := parseConfig(fs, args, stderr)
	if cfg == nil {
		return code
	}
	if id == "" && fs.NArg() > 0 {
		id = fs.Arg(0)
	}
	switch {
	case sub != "create" && sub != "list" && sub != "revoke":
		fmt.Fprintf(stderr, "gatehouse: unknown apikey command %q (create, list, revoke)\n%s\n", sub, usage)
		return 2
	case sub == "create" && (strings.TrimSpace(*name) == "" || len(scopes) == 0):
		fmt.Fprintln(stderr, usage)
		return 2
	case sub == "revoke" && id == "":
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
	case "create":
		key, k, err := a.APIKeys.Create(ctx, *name, scopes)
		if err != nil {
			fmt.Fprintf(stderr, "gatehouse: create API key: %v\n", err)
			return 1
		}
		if *asJSON {
			json.NewEncoder(stdout).Encode(map[string]any{"id": k.ID, "key": key, "scopes": k.Scopes})
			return 0
		}
		fmt.Fprintf(stdout, "created API key %s (%s) with %s\n%s\nThis key is shown once: only its hash is kept.\n", k.ID, k.Name, apikey.JoinScopes(k.Scopes), key)
	case "list":
		keys, err := a.APIKeys.List(ctx)
		if err != nil {
			fmt.Fprintf(stderr, "gatehouse: %v\n", err)
			return 1
		}
		tw := tabwriter.NewWriter(stdout, 2, 8, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tSCOPES\tCREATED\tLAST USED\tREVOKED")
		for _, k := range keys {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Name, strings.ReplaceAll(apikey.JoinScopes(k.Scopes), " ", ","),
				k.CreatedAt.Format("2006-01-02 15:04"), stamp(k.LastUsedAt), stamp(k.RevokedAt))
		}
		tw.Flush()
	case "revoke":
		if err := a.APIKeys.Revoke(ctx, id); err != nil {
			if errors.Is(err, apikey.ErrNotFound) {
				fmt.Fprintf(stderr, "gatehouse: no API key has the id %s\n", id)
			} else {
				fmt.Fprintf(stderr, "gatehouse: revoke %s: %v\n", id, err)
			}
			return 1
		}
		fmt.Fprintf(stdout, "revoked API key %s\n", id)
	}
	return 0
}

// stamp is a time for a listing; "-" for none.
func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Format("2006-01-02 15:04")
}
