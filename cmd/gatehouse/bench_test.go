package main

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"gatehouse/internal/pgtest"
)

// cheapBench makes every hash of a bench cheap and sends its throw-away
// data directory into a directory of the test's, returned, so that the
// test can see it is gone afterwards.
func cheapBench(t *testing.T) string {
	t.Helper()
	t.Setenv("GATEHOUSE_ARGON2_MEMORY_KIB", "8192")
	t.Setenv("GATEHOUSE_ARGON2_ITERATIONS", "1")
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	return tmp
}

// benchJSON runs bench with short phases and --json and returns the
// report as generic JSON (the keys are the command's interface).
func benchJSON(t *testing.T, extra ...string) map[string]any {
	t.Helper()
	args := append([]string{"bench", "--duration", "300ms", "--clients", "2", "--target", "20ms", "--json"}, extra...)
	code, out, errs := runCLI(t, "", args...)
	if code != 0 {
		t.Fatalf("bench: %d %s\n%s", code, errs, out)
	}
	var rep map[string]any
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("not one JSON object: %v\n%s", err, out)
	}
	return rep
}

// num reads a number at a dotted path of the report, failing when it is
// not there.
func num(t *testing.T, rep map[string]any, path string) float64 {
	t.Helper()
	var v any = rep
	for _, k := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("%s: %v is not an object", path, v)
		}
		if v, ok = m[k]; !ok {
			t.Fatalf("%s: no key %q in %v", path, k, m)
		}
	}
	n, ok := v.(float64)
	if !ok {
		t.Fatalf("%s: %v is not a number", path, v)
	}
	return n
}

// checkRate: a phase of requests had successes, and its percentiles are
// in order.
func checkRate(t *testing.T, rep map[string]any, name string) {
	t.Helper()
	if n := num(t, rep, name+".per_s"); n <= 0 {
		t.Errorf("%s.per_s = %v", name, n)
	}
	if p50, p99 := num(t, rep, name+".p50_ms"), num(t, rep, name+".p99_ms"); p50 <= 0 || p50 > p99 {
		t.Errorf("%s: p50 %v, p99 %v", name, p50, p99)
	}
}

func TestCLI_Bench(t *testing.T) {
	tmp := cheapBench(t)
	rep := benchJSON(t, "--flood", "6")
	if rep["database"] != "sqlite" {
		t.Errorf("database %v", rep["database"])
	}
	for _, k := range []string{"hash_ms", "hash_bound_per_s", "signin.ratio", "peak_memory_mib", "flood.peak_memory_mib"} {
		if n := num(t, rep, k); n <= 0 {
			t.Errorf("%s = %v", k, n)
		}
	}
	if num(t, rep, "argon2.memory_kib") != 8192 || num(t, rep, "argon2.iterations") != 1 || num(t, rep, "argon2.workers") < 1 {
		t.Errorf("argon2: %v (the configured parameters)", rep["argon2"])
	}
	for _, k := range []string{"signin", "session_check", "forward_auth", "flood.signin", "flood.session_check"} {
		checkRate(t, rep, k)
	}
	if st, _ := rep["signin"].(map[string]any)["statuses"].(map[string]any); st["303"] == nil {
		t.Errorf("sign-in statuses %v: no 303", st)
	}
	if num(t, rep, "flood.posts") != 6 {
		t.Errorf("flood: %v", rep["flood"])
	}
	// The calibration for 20 ms: within the limits, the lanes kept.
	if m, p := num(t, rep, "suggestion.memory_kib"), num(t, rep, "suggestion.parallelism"); m < 8192 || m > 64<<10 || p != 1 {
		t.Errorf("suggestion %v", rep["suggestion"])
	}
	if num(t, rep, "suggestion.iterations") < 1 || num(t, rep, "suggestion.hash_ms") <= 0 {
		t.Errorf("suggestion %v", rep["suggestion"])
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("left behind in the temporary directory: %v", left)
	}

	// The table, without a calibration or a flood.
	code, out, errs := runCLI(t, "", "bench", "--duration", "100ms", "--clients", "1", "--target", "0")
	if code != 0 {
		t.Fatalf("bench: %d %s", code, errs)
	}
	for _, want := range []string{"hash bound", "sign-ins", "ratio", "session checks", "forward-auth checks", "peak memory", "p99"} {
		if !strings.Contains(out, want) {
			t.Errorf("table has no %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "suggested") || strings.Contains(out, "flood") {
		t.Errorf("a calibration or flood nobody asked for:\n%s", out)
	}
}

func TestCLI_BenchBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--duration", "0s"},
		{"--clients", "0"},
		{"--flood", "-1"},
		{"--target", "-1s"},
		{"--max-memory", "4"},
		{"--database", "sqlite:/tmp/x.db"},
		{"--no-such-flag"},
		{"extra"},
	} {
		code, out, errs := runCLI(t, "", append([]string{"bench"}, args...)...)
		if code != 2 || out != "" || errs == "" {
			t.Errorf("%v: %d %q %q", args, code, out, errs)
		}
	}
}

// On PostgreSQL the run works in a schema of its own, gone afterwards, and
// refuses a database that holds an installation.
func TestCLI_BenchPostgres(t *testing.T) {
	db := pgtest.NewDatabase(t)
	cheapBench(t)
	rep := benchJSON(t, "--database", db, "--target", "0")
	if rep["database"] != "postgres" {
		t.Errorf("database %v", rep["database"])
	}
	checkRate(t, rep, "signin")
	checkRate(t, rep, "session_check")
	checkRate(t, rep, "forward_auth")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var left int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'gatehouse_bench_%'`).Scan(&left); err != nil || left != 0 {
		t.Errorf("schemas left behind: %d %v", left, err)
	}
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'`).Scan(&left); err != nil || left != 0 {
		t.Errorf("tables made outside the run's schema: %d %v", left, err)
	}

	if code, _, errs := runCLI(t, "", "migrate", "--database", db, "--data", t.TempDir()); code != 0 {
		t.Fatalf("migrate: %s", errs)
	}
	code, _, errs := runCLI(t, "", "bench", "--database", db, "--duration", "100ms", "--target", "0")
	if code != 1 || !strings.Contains(errs, "already holds a Gatehouse installation") {
		t.Fatalf("bench beside an installation: %d %q", code, errs)
	}
}
