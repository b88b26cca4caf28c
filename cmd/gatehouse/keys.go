package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"gatehouse/internal/oidc"
)

// runKeys is gatehouse keys rotate-signing|list: the keys the OpenID
// provider signs its tokens with.
func runKeys(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || (args[0] != "rotate-signing" && args[0] != "list") {
		fmt.Fprintln(stderr, "usage: gatehouse keys rotate-signing [--publish-ahead 10m] [--overlap 24h] | gatehouse keys list [--json]")
		return 2
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("keys "+sub, flag.ContinueOnError)
	ahead := fs.Duration("publish-ahead", oidc.DefaultPublishAhead, "how long the new key is published before it signs (rotate-signing): relying parties and every node must have fetched it first")
	overlap := fs.Duration("overlap", oidc.DefaultOverlap, "how long the keys it replaces stay published beyond their tokens' lifetime (rotate-signing)")
	asJSON := fs.Bool("json", false, "print the keys as JSON (list)")
	cfg, code := parseConfig(fs, args, stderr)
	if cfg == nil {
		return code
	}
	if *ahead < 0 || *overlap < 0 {
		fmt.Fprintln(stderr, "gatehouse: --publish-ahead and --overlap must not be negative")
		return 2
	}
	ctx := context.Background()
	a := openApp(ctx, cfg, stderr)
	if a == nil {
		return 1
	}
	defer a.Close()
	if sub == "rotate-signing" {
		k, err := a.SigningKeys.Rotate(ctx, *ahead, *overlap)
		if err != nil {
			fmt.Fprintf(stderr, "gatehouse: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "new signing key %s: published now, signs from %s.\n", k.KID, k.ActiveFrom.Format(time.RFC3339))
		fmt.Fprintf(stdout, "The keys it replaces stay published until %s.\n", k.ActiveFrom.Add(oidc.MaxTokenLifetime+*overlap).Format(time.RFC3339))
		return 0
	}
	// A listing is also how an operator looks at a new installation:
	// it has its first key by then.
	if err := a.SigningKeys.Ensure(ctx); err != nil {
		fmt.Fprintf(stderr, "gatehouse: %v\n", err)
		return 1
	}
	keys, err := a.SigningKeys.List(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "gatehouse: %v\n", err)
		return 1
	}
	now := time.Now()
	states := oidc.States(keys, now)
	if *asJSON {
		type row struct {
			KID         string     `json:"kid"`
			Algorithm   string     `json:"alg"`
			State       string     `json:"state"`
			CreatedAt   time.Time  `json:"created_at"`
			ActiveFrom  time.Time  `json:"active_from"`
			RetireAfter *time.Time `json:"retire_after"`
		}
		out := []row{}
		for _, k := range keys {
			r := row{k.KID, k.Algorithm, string(states[k.KID]), k.CreatedAt, k.ActiveFrom, nil}
			if !k.RetireAfter.IsZero() {
				r.RetireAfter = &k.RetireAfter
			}
			out = append(out, r)
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.Encode(out)
		return 0
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KID\tALG\tSTATE\tCREATED\tACTIVE FROM\tRETIRE AFTER")
	for _, k := range keys {
		retire := "-"
		if !k.RetireAfter.IsZero() {
			retire = k.RetireAfter.Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", k.KID, k.Algorithm, states[k.KID], k.CreatedAt.Format(time.RFC3339), k.ActiveFrom.Format(time.RFC3339), retire)
	}
	tw.Flush()
	return 0
}
