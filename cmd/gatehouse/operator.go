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

	"gatehouse/internal/account"
	"gatehouse/internal/operator"
)

const operatorUsage = `usage: gatehouse operator add --email ADDR --role support|admin
       gatehouse operator remove --email ADDR
       gatehouse operator list`

// runOperator gives an account a role in the operator console, takes it
// away, or lists who has one. Only an account with a passkey or an
// authenticator app may be given one.
func runOperator(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, operatorUsage)
		return 2
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("operator "+sub, flag.ContinueOnError)
	email := fs.String("email", "", "the operator's account address (add, remove)")
	roleName := fs.String("role", "", "support or admin (add)")
	cfg, code := parseConfig(fs, args, stderr)
	if cfg == nil {
		return code
	}
	var role operator.Role
	switch {
	case sub != "add" && sub != "remove" && sub != "list":
		fmt.Fprintf(stderr, "gatehouse: unknown operator command %q (add, remove, list)\n%s\n", sub, operatorUsage)
		return 2
	case sub != "list" && strings.TrimSpace(*email) == "":
		fmt.Fprintln(stderr, operatorUsage)
		return 2
	case sub == "add":
		r, err := operator.ParseRole(*roleName)
		if err != nil {
			fmt.Fprintf(stderr, "gatehouse: --role: %v\n%s\n", err, operatorUsage)
			return 2
		}
		role = r
	}
	ctx := context.Background()
	a := openApp(ctx, cfg, stderr)
	if a == nil {
		return 1
	}
	defer a.Close()
	switch sub {
	case "add":
		o, err := a.Operators.Add(ctx, *email, role)
		switch {
		case errors.Is(err, account.ErrNotFound):
			fmt.Fprintf(stderr, "gatehouse: no account has the address %s\n", *email)
			return 1
		case errors.Is(err, operator.ErrWeakTwoStep):
			fmt.Fprintf(stderr, "gatehouse: %s cannot be an operator yet: the account needs two-step verification with a passkey or an authenticator app (SMS alone is not enough). Its holder turns it on at /account/two-step.\n", *email)
			return 1
		case err != nil:
			fmt.Fprintf(stderr, "gatehouse: %v\n", err)
			return 1
		}
		article := "a"
		if strings.ContainsRune("aeiou", rune(string(o.Role)[0])) {
			article = "an"
		}
		fmt.Fprintf(stdout, "%s is now %s %s operator\n", o.Email, article, o.Role)
	case "remove":
		err := a.Operators.Remove(ctx, *email)
		switch {
		case errors.Is(err, account.ErrNotFound):
			fmt.Fprintf(stderr, "gatehouse: no account has the address %s\n", *email)
			return 1
		case errors.Is(err, operator.ErrNotOperator):
			fmt.Fprintf(stderr, "gatehouse: %s is not an operator\n", *email)
			return 1
		case err != nil:
			fmt.Fprintf(stderr, "gatehouse: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "%s is no longer an operator\n", *email)
	case "list":
		list, err := a.Operators.Store.Operators(ctx)
		if err != nil {
			fmt.Fprintf(stderr, "gatehouse: %v\n", err)
			return 1
		}
		tw := tabwriter.NewWriter(stdout, 2, 8, 2, ' ', 0)
		fmt.Fprintln(tw, "EMAIL\tROLE\tSINCE")
		for _, o := range list {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", o.Email, o.Role, o.AddedAt.Format("2006-01-02 15:04"))
		}
		tw.Flush()
	}
	return 0
}

const auditUsage = `usage: gatehouse audit [--json] [--email ADDR] [--operator ADDR] [--since DURATION|RFC3339] [--limit N]`

// runAudit prints the audit trail, newest first: one JSON object per line
// with --json (operator, action, account, reason, at, …), a table
// otherwise.
func runAudit(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("audit", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "one JSON object per line")
	email := fs.String("email", "", "only lines about this holder's account")
	by := fs.String("operator", "", "only lines of this operator")
	since := fs.String("since", "", "only lines since then: a duration back from now (24h) or an RFC 3339 time")
	limit := fs.Int("limit", 100, "at most this many lines")
	cfg, code := parseConfig(fs, args, stderr)
	if cfg == nil {
		return code
	}
	f := operator.AuditFilter{Limit: *limit}
	if *since != "" {
		if d, err := time.ParseDuration(*since); err == nil {
			f.Since = time.Now().Add(-d)
		} else if t, err := time.Parse(time.RFC3339, *since); err == nil {
			f.Since = t
		} else {
			fmt.Fprintf(stderr, "gatehouse: --since %q is neither a duration (24h) nor an RFC 3339 time\n%s\n", *since, auditUsage)
			return 2
		}
	}
	if *limit < 1 || *limit > 100000 {
		fmt.Fprintf(stderr, "gatehouse: --limit must be between 1 and 100000\n%s\n", auditUsage)
		return 2
	}
	ctx := context.Background()
	a := openApp(ctx, cfg, stderr)
	if a == nil {
		return 1
	}
	defer a.Close()
	for _, x := range []struct {
		addr string
		id   *string
	}{{*email, &f.AccountID}, {*by, &f.OperatorID}} {
		if x.addr == "" {
			continue
		}
		acct, err := a.DB.AccountByEmail(ctx, x.addr)
		if err != nil {
			fmt.Fprintf(stderr, "gatehouse: no account has the address %s\n", x.addr)
			return 1
		}
		*x.id = acct.ID
	}
	entries, err := a.Operators.Store.Audit(ctx, f)
	if err != nil {
		fmt.Fprintf(stderr, "gatehouse: %v\n", err)
		return 1
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		for _, e := range entries {
			enc.Encode(map[string]any{
				"id": e.ID, "at": e.At.UTC().Format(time.RFC3339), "operator": e.OperatorEmail, "operator_id": e.OperatorID,
				"action": e.Action, "account": e.AccountID, "reason": e.Reason, "ip": e.IP, "device": e.Device, "detail": e.Detail,
			})
		}
		return 0
	}
	tw := tabwriter.NewWriter(stdout, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "AT\tOPERATOR\tACTION\tACCOUNT\tREASON\tDETAIL")
	for _, e := range entries {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", e.At.Format("2006-01-02 15:04:05"), e.OperatorEmail, e.Action, e.AccountID, e.Reason, e.Detail)
	}
	tw.Flush()
	return 0
}
