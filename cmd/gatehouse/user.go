package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"gatehouse/internal/account"
)

func runUser(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: gatehouse user create|list|disable|delete [flags]")
		return 2
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("user "+sub, flag.ContinueOnError)
	email := fs.String("email", "", "the account's email address")
	lang := fs.String("lang", "en", "language of the account's messages: en or ja")
	pwStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input (create)")
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
	switch sub {
	case "create":
		if *email == "" || !*pwStdin {
			fmt.Fprintln(stderr, "usage: gatehouse user create --email ADDRESS --password-stdin < password-file")
			return 2
		}
		line, err := bufio.NewReader(os.Stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			fmt.Fprintf(stderr, "gatehouse: read password: %v\n", err)
			return 1
		}
		acc, err := a.Accounts.Create(ctx, *email, strings.TrimRight(line, "\r\n"), *lang)
		if err != nil {
			fmt.Fprintf(stderr, "gatehouse: create %s: %v\n", *email, err)
			return 1
		}
		fmt.Fprintf(stdout, "created %s (%s)\n", acc.Email, acc.ID)
	case "list":
		accs, err := a.Accounts.List(ctx)
		if err != nil {
			fmt.Fprintf(stderr, "gatehouse: %v\n", err)
			return 1
		}
		tw := tabwriter.NewWriter(stdout, 2, 8, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tEMAIL\tSTATUS\tCREATED")
		for _, acc := range accs {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", acc.ID, acc.Email, acc.Status, acc.CreatedAt.Format("2006-01-02 15:04"))
		}
		tw.Flush()
	case "disable":
		if _, err := account.NormalizeEmail(*email); err != nil {
			fmt.Fprintln(stderr, "usage: gatehouse user disable --email ADDRESS")
			return 2
		}
		acc, err := a.Accounts.DisableByEmail(ctx, *email)
		if err != nil {
			fmt.Fprintf(stderr, "gatehouse: disable %s: %v\n", *email, err)
			return 1
		}
		fmt.Fprintf(stdout, "disabled %s and signed out its sessions\n", acc.Email)
	case "delete":
		if _, err := account.NormalizeEmail(*email); err != nil {
			fmt.Fprintln(stderr, "usage: gatehouse user delete --email ADDRESS")
			return 2
		}
		acc, err := a.Accounts.DeleteByEmail(ctx, *email)
		if err != nil {
			fmt.Fprintf(stderr, "gatehouse: delete %s: %v\n", *email, err)
			return 1
		}
		fmt.Fprintf(stdout, "deleted %s (%s) with its sessions, devices, methods, codes, attempts and messages\n", acc.Email, acc.ID)
	default:
		fmt.Fprintf(stderr, "gatehouse: unknown user command %q (create, list, disable, delete)\n", sub)
		return 2
	}
	return 0
}
