package bench

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
)

// WriteText writes the report as an aligned table for a person, with the
// suggested parameters as configuration lines to paste.
func (r *Report) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	db := map[string]string{"sqlite": "SQLite", "postgres": "PostgreSQL"}[r.Database]
	fmt.Fprintf(tw, "gatehouse bench\t%s, %d CPUs, %d clients, %gs a phase\n", db, r.CPUs, r.Clients, r.PhaseSeconds)
	fmt.Fprintf(tw, "argon2id\t%d KiB, %d %s, %d %s; %d hashing workers\n", r.Argon2.MemoryKiB,
		r.Argon2.Iterations, plural(int(r.Argon2.Iterations), "pass", "passes"),
		r.Argon2.Parallelism, plural(int(r.Argon2.Parallelism), "lane", "lanes"), r.Argon2.Workers)
	fmt.Fprintf(tw, "one hash\t%s ms\n", num(r.HashMS))
	fmt.Fprintf(tw, "hash bound\t%s /s\t(every worker hashing)\n", num(r.HashBound))
	fmt.Fprintf(tw, "sign-ins\t%s /s\tratio %s\tp50 %s ms\tp99 %s ms\t%s\n", num(r.SignIn.PerSecond), num(r.SignIn.Ratio),
		num(r.SignIn.P50MS), num(r.SignIn.P99MS), statuses(r.SignIn.Statuses))
	writeRate(tw, "session checks", r.SessionCheck, "GET /account")
	writeRate(tw, "forward-auth checks", r.ForwardAuth, "GET /auth/verify")
	fmt.Fprintf(tw, "peak memory\t%s MiB\t(this process, server and clients)\n", num(r.PeakMemoryMiB))
	if f := r.Flood; f != nil {
		fmt.Fprintf(tw, "\nflood\t%d sign-in posts at once\n", f.Posts)
		fmt.Fprintf(tw, "sign-ins\t%s /s\t\tp50 %s ms\tp99 %s ms\t%s\n", num(f.SignIn.PerSecond),
			num(f.SignIn.P50MS), num(f.SignIn.P99MS), statuses(f.SignIn.Statuses))
		writeRate(tw, "session checks", f.SessionCheck, "GET /account")
		fmt.Fprintf(tw, "peak memory\t%s MiB\n", num(f.PeakMemoryMiB))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if s := r.Suggestion; s != nil {
		fmt.Fprintf(w, "\nsuggested for %s ms a hash (measured %s ms, about %s sign-ins/s on %d workers holding %s MiB):\n",
			num(s.TargetMS), num(s.HashMS), num(s.HashBound), r.Argon2.Workers, num(s.HashingMemoryMiB))
		fmt.Fprintf(w, "argon2:\n  memory_kib: %d\n  iterations: %d\n  parallelism: %d\n", s.MemoryKiB, s.Iterations, s.Parallelism)
	}
	return nil
}

func writeRate(tw io.Writer, name string, r Rate, what string) {
	fmt.Fprintf(tw, "%s\t%s /s\t\tp50 %s ms\tp99 %s ms\t%s (%s)\n", name, num(r.PerSecond), num(r.P50MS), num(r.P99MS),
		statuses(r.Statuses), what)
}

// statuses writes a status mix as "303×120 503×4", in status order.
func statuses(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "×" + strconv.Itoa(m[k])
	}
	return strings.Join(parts, " ")
}

// num writes a figure with three significant digits at most, and no
// exponent: 0.412, 41.2, 412, 4120.
func num(x float64) string {
	switch {
	case x == 0:
		return "0"
	case x >= 100 || x <= -100:
		return strconv.FormatFloat(x, 'f', 0, 64)
	case x >= 10 || x <= -10:
		return strconv.FormatFloat(x, 'f', 1, 64)
	case x >= 1 || x <= -1:
		return strconv.FormatFloat(x, 'f', 2, 64)
	}
	return strconv.FormatFloat(x, 'f', 3, 64)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
