package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"gatehouse/internal/check"
	"gatehouse/internal/dkimkeys"
	"gatehouse/internal/i18n"
)

// runDKIM is gatehouse dkim rotate|list: the installation's DKIM keys.
func runDKIM(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || (args[0] != "rotate" && args[0] != "list") {
		fmt.Fprintln(stderr, "usage: gatehouse dkim rotate [--overlap 48h] | gatehouse dkim list")
		return 2
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("dkim "+sub, flag.ContinueOnError)
	overlap := fs.Duration("overlap", 48*time.Hour, "how long the keys being replaced keep signing beside the new ones (rotate): time for the new DNS records to be published and seen")
	cfg, code := parseConfig(fs, args, stderr)
	if cfg == nil {
		return code
	}
	dir := cfg.DKIMDir()
	now := time.Now()
	if sub == "rotate" {
		if *overlap < 0 {
			fmt.Fprintln(stderr, "gatehouse: --overlap must not be negative")
			return 2
		}
		if _, err := dkimkeys.Open(dir, now); err != nil { // a first pair first, if there is none
			fmt.Fprintf(stderr, "gatehouse: %v\n", err)
			return 1
		}
		added, err := dkimkeys.Rotate(dir, now, *overlap)
		if err != nil {
			fmt.Fprintf(stderr, "gatehouse: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "; New DKIM keys in %s. Publish these records now; the keys they replace keep signing for %s.\n", dir, *overlap)
		for _, k := range added {
			rec := dkimkeys.Record{Name: k.Selector + "._domainkey." + cfg.MailDomain() + ".", Value: k.Record()}
			fmt.Fprintln(stdout, rec.ZoneLine())
		}
		fmt.Fprintln(stdout, "; A running server starts signing with them by itself; gatehouse dns-records prints every record.")
		return 0
	}
	ring, err := dkimkeys.Load(dir)
	if err != nil {
		fmt.Fprintf(stderr, "gatehouse: %v\n", err)
		return 1
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SELECTOR\tALGORITHM\tCREATED\tSTATE")
	for _, k := range ring.Keys() {
		state := "signing"
		switch {
		case !k.Signs(now) && !k.RetireAt.IsZero():
			state = "retired " + k.RetireAt.Format(time.DateOnly) + " (public key kept for the checker)"
		case !k.RetireAt.IsZero():
			state = "signing until " + k.RetireAt.Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", k.Selector, k.Algorithm, k.Created.Format(time.DateOnly), state)
	}
	tw.Flush()
	return 0
}

// runDNSRecords is gatehouse dns-records: the TXT records to publish for
// the mail domain, one zone-file line each.
func runDNSRecords(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("dns-records", flag.ContinueOnError)
	reportTo := fs.String("report-to", "", "address for DMARC aggregate reports (default dmarc-reports@MAILDOMAIN)")
	logo := fs.String("logo-url", "", "HTTPS URL of the brand logo for the BIMI template (default https://MAILDOMAIN/brand/logo.svg)")
	cfg, code := parseConfig(fs, args, stderr)
	if cfg == nil {
		return code
	}
	ring, err := dkimkeys.Open(cfg.DKIMDir(), time.Now())
	if err != nil {
		fmt.Fprintf(stderr, "gatehouse: %v\n", err)
		return 1
	}
	var hosts []string
	if cfg.String("mail.driver") == "smtp" && cfg.String("smtp.host") != "" {
		hosts = []string{cfg.String("smtp.host")}
	}
	domain := cfg.MailDomain()
	fromDomain := ""
	if a, err := mail.ParseAddress(cfg.String("mail.from")); err == nil {
		if i := strings.LastIndexByte(a.Address, '@'); i >= 0 {
			fromDomain = a.Address[i+1:]
		}
	}
	fmt.Fprintf(stdout, "; DNS records for %s, the mail domain of this Gatehouse (mail.domain, or the domain of mail.from).\n", domain)
	for _, rec := range ring.DNSRecords(dkimkeys.Publish{Domain: domain, SPFHosts: hosts, ReportTo: *reportTo, LogoURL: *logo, FromDomain: fromDomain}, time.Now()) {
		fmt.Fprintln(stdout)
		for _, c := range rec.Comment {
			fmt.Fprintln(stdout, "; "+c)
		}
		fmt.Fprintln(stdout, rec.ZoneLine())
	}
	return 0
}

// verifyExitError is verify-message's exit status when it could not check
// at all; 0, 1 and 2 are verdicts.
const verifyExitError = 3

// runVerifyMessage is gatehouse verify-message FILE|-: the checker on the
// command line. Exit status 0 genuine, 1 not from us, 2 cannot tell, 3 the
// message could not be checked.
func runVerifyMessage(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("verify-message", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, `print {"verdict": …, "reasons": [{"code": …, "text": …}]}`)
	lang := fs.String("lang", "en", "language of the reasons: en or ja")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: gatehouse verify-message [--json] [--lang en|ja] FILE|-\n\nFILE is a raw email (.eml) or a pasted text (an email body or an SMS); - reads standard input.\nExit status: 0 genuine, 1 not from us, 2 cannot tell, 3 could not check.")
		fs.PrintDefaults()
	}
	cfg, code := parseConfig(fs, reorder(args), stderr)
	if cfg == nil {
		if code == 0 {
			return 0
		}
		return verifyExitError
	}
	if fs.NArg() != 1 || (*lang != "en" && *lang != "ja") {
		fs.Usage()
		return verifyExitError
	}
	cat := i18n.New()
	// fail says why nothing was checked, in the reader's language (and as
	// JSON for a script that asked for it), and is exit status 3.
	fail := func(code string, args ...any) int {
		msg := cat.T(*lang, code, args...)
		if *asJSON {
			json.NewEncoder(stdout).Encode(map[string]any{"error": map[string]string{"code": strings.TrimPrefix(code, "error."), "message": msg}})
		}
		fmt.Fprintf(stderr, "gatehouse: %s\n", msg)
		return verifyExitError
	}
	// The checker answers from an installation's records and keys. Opening
	// a data directory that has none would make a new, empty installation
	// — and call every genuine message "not from us".
	if _, err := os.Stat(filepath.Join(cfg.DKIMDir(), "keys.json")); err != nil {
		return fail("error.cli_no_installation", cfg.String("data"))
	}
	if p := cfg.DatabasePath(); p != "" {
		if _, err := os.Stat(p); err != nil {
			return fail("error.cli_no_installation", cfg.String("data"))
		}
	}
	if cfg.String("public_url") == "" {
		fmt.Fprintf(stderr, "gatehouse: %s\n", cat.T(*lang, "error.cli_no_public_url", cfg.PublicURL()))
	}
	var b []byte
	var err error
	if name := fs.Arg(0); name == "-" {
		b, err = io.ReadAll(io.LimitReader(os.Stdin, check.MaxRaw+1))
	} else {
		b, err = os.ReadFile(name)
	}
	if err != nil {
		return fail("error.cli_read", fs.Arg(0), err)
	}
	ctx := context.Background()
	a := openApp(ctx, cfg, stderr)
	if a == nil {
		return verifyExitError
	}
	defer a.Close()
	in := check.Input{Text: string(b)}
	switch {
	case check.LooksLikeEmail(b):
		in = check.Input{Raw: b}
	case !utf8.Valid(b) || bytes.IndexByte(b, 0) >= 0:
		// Neither an email nor a text: a picture, a PDF …
		return fail("error.check_not_email")
	}
	res, err := a.Checker.Check(ctx, in, *lang)
	switch {
	case errors.Is(err, check.ErrEmpty):
		return fail("error.check_empty")
	case errors.Is(err, check.ErrTooLarge):
		return fail("error.check_too_large")
	case err != nil:
		fmt.Fprintf(stderr, "gatehouse: %v\n", err)
		return verifyExitError
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.Encode(res)
		return res.Verdict.ExitCode()
	}
	fmt.Fprintln(stdout, a.Checker.Catalog.T(*lang, "check.verdict."+string(res.Verdict)))
	for _, r := range res.Reasons {
		mark := map[check.Level]string{check.Bad: "✗", check.Good: "✓", check.Note: "·"}[r.Level]
		fmt.Fprintf(stdout, "  %s %s [%s]\n", mark, r.Text, r.Code)
	}
	fmt.Fprintln(stdout, a.Checker.Advice(res, *lang))
	return res.Verdict.ExitCode()
}

// reorder puts flags before the file argument, so that both
// "verify-message --json FILE" and "verify-message FILE --json" work.
func reorder(args []string) []string {
	var flags, rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-" || !strings.HasPrefix(a, "-"):
			rest = append(rest, a)
		case a == "--":
			rest = append(rest, args[i+1:]...)
			i = len(args)
		default:
			flags = append(flags, a)
			// A flag that takes a value, written as two arguments.
			if !strings.Contains(a, "=") && i+1 < len(args) && takesValue(a) {
				flags = append(flags, args[i+1])
				i++
			}
		}
	}
	return append(flags, rest...)
}

func takesValue(flagArg string) bool {
	switch strings.TrimLeft(flagArg, "-") {
	case "json", "h", "help":
		return false
	}
	return true
}

// runReports is gatehouse reports: the operator's view of the messages
// holders reported from the checker.
func runReports(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("reports", flag.ContinueOnError)
	limit := fs.Int("limit", 50, "how many, newest first")
	show := fs.String("show", "", "print the content of the report with this id")
	cfg, code := parseConfig(fs, args, stderr)
	if cfg == nil {
		return code
	}
	ctx := context.Background()
	a := openApp(ctx, cfg, stderr)
	if a == nil {
		return 1
	}
	defer a.Close()
	reports, err := a.DB.RecentReports(ctx, max(*limit, 1))
	if err != nil {
		fmt.Fprintf(stderr, "gatehouse: %v\n", err)
		return 1
	}
	if *show != "" {
		for _, r := range reports {
			if r.ID == *show {
				b, err := a.Outbox.Box.Open(r.Content, []byte("report:"+r.ID))
				if err != nil {
					fmt.Fprintf(stderr, "gatehouse: %v\n", err)
					return 1
				}
				stdout.Write(b)
				return 0
			}
		}
		fmt.Fprintf(stderr, "gatehouse: no report %s among the newest %d\n", *show, *limit)
		return 1
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tREPORTED\tACCOUNT\tKIND\tVERDICT\tREFERENCE\tREASONS")
	for _, r := range reports {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.CreatedAt.Format(time.RFC3339), r.AccountID, r.Kind, r.Verdict, r.Reference, strings.Join(r.Reasons, ","))
	}
	tw.Flush()
	return 0
}
