package httpcore

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// notRequestErrors are the exported sentinel errors that never reach a
// request: start-up, storage and command-line failures, each a server
// fault (500, logged) if one ever did.
var notRequestErrors = map[string]string{
	"app.ErrSecretsMissing":        "start-up: the secrets file is missing",
	"app.ErrWrongSecrets":          "start-up: the secrets do not open the database",
	"crypt.ErrOpen":                "storage: sealed data does not open",
	"dkimkeys.ErrNone":             "start-up: no DKIM key",
	"outbox.ErrDuplicateReference": "storage: retried inside Enqueue",
	"outbox.ErrEmpty":              "a draft without text: a programming error",
	"password.ErrMalformedHash":    "storage: a stored hash does not parse",
	"postgres.ErrSchemaTooNew":     "start-up: a newer schema",
	"schema.ErrTooNew":             "start-up: a newer schema",
	"secrets.ErrMissing":           "start-up: the secrets file is missing",
	"sqlite.ErrSchemaTooNew":       "start-up: a newer schema",
	"transfer.ErrMismatch":         "gatehouse migrate-data: the copy differs",
	"account.ErrBusy":              "the same error as password.ErrBusy",
	"method.ErrPasskey":            "the same error as signin.ErrPasskey",
	"method.ErrWrong":              "sign-in turns it into code.ErrWrongCode or code.ErrLocked",
	"apikey.ErrScopeUnknown":       "gatehouse apikey create: a scope name the operator typed",
	"apikey.ErrName":               "gatehouse apikey create: the name the operator typed",
	"oidc.ErrClientNotFound":       "op's token endpoint answers it as OAuth invalid_client itself; the pages turn it into oidc.ErrNotYours",
	"oidc.ErrWrongSecret":          "op's token endpoint answers it as OAuth invalid_client itself",
	"oidc.ErrNotFound":             "the flow's storage: op turns it into invalid_grant, the hand-off into error.oidc_request",
	"oidc.ErrUsed":                 "the flow's storage: op turns it into invalid_grant, the hand-off into error.oidc_request",
	"oidc.ErrNoSigningKey":         "a server fault: the first key is made on the first start or the first JWKS request",
	"delivery.ErrEmpty":            "the deliveries worker: nothing due",
	"delivery.ErrBadSignature":     "a webhook receiver's check (delivery.Verify), never Gatehouse's own requests",
	"delivery.ErrStale":            "a webhook receiver's check (delivery.Verify), never Gatehouse's own requests",
	"archive.ErrDamaged":           "gatehouse restore: the backup file",
	"archive.ErrFormatTooNew":      "gatehouse restore: the backup file",
	"archive.ErrInUse":             "gatehouse restore: the data directory",
	"archive.ErrInstalled":         "gatehouse restore: the data directory",
	"archive.ErrNotBackup":         "gatehouse restore: the backup file",
	"archive.ErrWeakPassphrase":    "gatehouse backup: the passphrase file",
	"archive.ErrWrongDatabase":     "gatehouse restore: the configuration",
	"archive.ErrWrongPassphrase":   "gatehouse restore: the passphrase file",
	"sqlite.ErrInUse":              "gatehouse restore: the database file",
	"bench.ErrInstalled":           "gatehouse bench --database: a database that holds an installation",
	// The console (not built yet) will answer these in requests; until
	"operator.ErrRoleUnknown": "gatehouse operator add: the role the operator typed",
}

// sentinels lists the exported package-level Err… variables of every
// package under internal/, as "pkg.ErrName".
func sentinels(t *testing.T) []string {
	t.Helper()
	var out []string
	err := filepath.Walk("..", func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return err
		}
		f, err := parser.ParseFile(token.NewFileSet(), p, nil, 0)
		if err != nil {
			return err
		}
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.VAR {
				continue
			}
			for _, sp := range g.Specs {
				for _, n := range sp.(*ast.ValueSpec).Names {
					if n.IsExported() && strings.HasPrefix(n.Name, "Err") {
						out = append(out, f.Name.Name+"."+n.Name)
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// mapped lists the sentinels the failures table names, as written in
// errors.go.
func mapped(t *testing.T) map[string]bool {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "errors.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		vs, ok := n.(*ast.ValueSpec)
		if !ok || len(vs.Names) != 1 || vs.Names[0].Name != "failures" {
			return true
		}
		ast.Inspect(vs, func(n ast.Node) bool {
			if sel, ok := n.(*ast.SelectorExpr); ok {
				if pkg, ok := sel.X.(*ast.Ident); ok && strings.HasPrefix(sel.Sel.Name, "Err") {
					out[pkg.Name+"."+sel.Sel.Name] = true
				}
				return false
			}
			if id, ok := n.(*ast.Ident); ok && strings.HasPrefix(id.Name, "Err") {
				out["httpcore."+id.Name] = true // the core's own
			}
			return true
		})
		return false
	})
	return out
}

// TestFailures_EverySentinelIsKnown: every exported sentinel error of the
// capability packages is in the failures table (with its status and
// sentence) or named as one that never reaches a request — so a new
// sentinel cannot answer 500 by being forgotten.
func TestFailures_EverySentinelIsKnown(t *testing.T) {
	t.Parallel()
	known := mapped(t)
	if len(known) < 40 {
		t.Fatalf("read only %d sentinels from the failures table", len(known))
	}
	for _, name := range sentinels(t) {
		_, excused := notRequestErrors[name]
		switch {
		case known[name] && excused:
			t.Errorf("%s is both mapped and excused", name)
		case !known[name] && !excused:
			t.Errorf("%s is neither in the failures table (errors.go) nor in notRequestErrors", name)
		}
	}
}
