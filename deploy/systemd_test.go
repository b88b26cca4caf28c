package deploy_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// installedBinary is where the unit expects gatehouse (README: install
// the binary there).
const installedBinary = "/usr/local/bin/gatehouse"

func unitPath(t *testing.T) string {
	return filepath.Join(repoRoot(t), "deploy", "gatehouse.service")
}

// unitWithBinary writes a copy of the unit, named as it is, that differs
// only in ExecStart's binary: bin, since systemd-analyze verify insists
// that the binary exists and this machine has none at installedBinary.
func unitWithBinary(t *testing.T, bin, extra string) string {
	t.Helper()
	b, err := os.ReadFile(unitPath(t))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	n := 0
	for i, l := range lines {
		if rest, ok := strings.CutPrefix(l, "ExecStart="+installedBinary+" "); ok {
			lines[i] = "ExecStart=" + bin + " " + rest
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d lines start ExecStart=%s, want 1", n, installedBinary)
	}
	if extra != "" {
		for i, l := range lines {
			if l == "[Service]" {
				lines = slices.Insert(lines, i+1, extra)
				break
			}
		}
	}
	path := filepath.Join(t.TempDir(), "gatehouse.service")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestSystemdUnit_Verifies: `systemd-analyze verify` accepts the unit
// without a word about it (an unknown or misspelt key is only a warning,
// exit code 0, so the output is read too: a control copy with a misspelt
// key shows that this systemd does complain).
func TestSystemdUnit_Verifies(t *testing.T) {
	need(t, "systemd-analyze")
	bin, _ := staticBinary(t)

	verify := func(unit string) (string, error) {
		out, err := exec.Command("systemd-analyze", "verify", unit).CombinedOutput()
		var about []string
		for _, l := range strings.Split(string(out), "\n") {
			// Only what concerns this unit: verify also loads the
			// targets it names, whose warnings are the machine's.
			if strings.Contains(l, "gatehouse") {
				about = append(about, l)
			}
		}
		return strings.Join(about, "\n"), err
	}
	if out, err := verify(unitWithBinary(t, bin, "")); err != nil || out != "" {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
	if out, _ := verify(unitWithBinary(t, bin, "ProtectClok=yes")); !strings.Contains(out, "ProtectClok") {
		t.Errorf("control: verify said nothing of a misspelt key, so its silence proves nothing:\n%s", out)
	}
}

// TestSystemdUnit_SecurityExposureBelow2: `systemd-analyze security`
// rates the unit below 2.0 (0 is the best, 10 a unit with no hardening),
// and credits the unit with what the issue asks for by name.
func TestSystemdUnit_SecurityExposureBelow2(t *testing.T) {
	need(t, "systemd-analyze")
	// --offline (systemd 252 on) analyses the file itself, with no
	// systemd running.
	out, err := exec.Command("systemd-analyze", "security", "--no-pager", "--offline=yes", unitPath(t)).CombinedOutput()
	if err != nil {
		t.Fatalf("systemd-analyze security --offline=yes: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`Overall exposure level for gatehouse\.service: (\d+\.\d+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("no overall exposure level in:\n%s", out)
	}
	exposure, _ := strconv.ParseFloat(string(m[1]), 64)
	t.Logf("exposure level %.1f", exposure)
	if exposure >= 2.0 {
		t.Errorf("exposure level %.1f, want below 2.0:\n%s", exposure, out)
	}
	// Each check is a line "✓ NAME DESCRIPTION" (met) or "✗ …".
	met := map[string]string{}
	for _, l := range strings.Split(string(out), "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(l), "✓ "); ok {
			name, desc, _ := strings.Cut(rest, " ")
			met[name] = strings.TrimSpace(desc)
		}
	}
	for _, want := range []string{
		"User=/DynamicUser=", "ProtectSystem=", "NoNewPrivileges=",
		"SystemCallFilter=~@privileged", "SystemCallFilter=~@resources", "SystemCallArchitectures=",
		"CapabilityBoundingSet=~CAP_SYS_ADMIN", "CapabilityBoundingSet=~CAP_NET_(BIND_SERVICE|BROADCAST|RAW)",
		"PrivateTmp=", "ProtectHome=", "PrivateDevices=", "ProtectKernelTunables=", "ProtectKernelModules=",
		"ProtectKernelLogs=", "RestrictAddressFamilies=~AF_PACKET", "RestrictAddressFamilies=~AF_NETLINK",
		"RestrictNamespaces=~user", "LockPersonality=", "MemoryDenyWriteExecute=", "UMask=",
	} {
		if _, ok := met[want]; !ok {
			t.Errorf("systemd-analyze security does not credit %s", want)
		}
	}
	if d := met["ProtectSystem="]; !strings.Contains(d, "strict") {
		t.Errorf("ProtectSystem: %q, want strict", d)
	}
	if t.Failed() {
		t.Logf("systemd-analyze security:\n%s", out)
	}
}

// TestSystemdUnit_SyscallFilterAllowsWhatGatehouseCalls runs the static
// binary (the release and container build) under strace through a
// holder's sign-up, confirmation, account page, sign-out and password
// sign-in, and a SIGTERM stop, and checks that every system call it made
// is in the unit's SystemCallFilter as this machine's systemd expands it,
// and every socket family in RestrictAddressFamilies: no systemd runs
// here to apply them, and a call the filter refuses would fail in
// production (EPERM) with no test to say so.
func TestSystemdUnit_SyscallFilterAllowsWhatGatehouseCalls(t *testing.T) {
	need(t, "systemd-analyze")
	need(t, "strace")
	bin, _ := staticBinary(t)
	unit := readUnit(t)
	allowed := allowedSyscalls(t, unit["SystemCallFilter"])
	families := strings.Fields(strings.Join(unit["RestrictAddressFamilies"], " "))
	if len(allowed) < 100 || len(families) == 0 {
		t.Fatalf("the unit's filter allows %d calls and families %v: not what the unit says", len(allowed), families)
	}

	// The service runs as an unprivileged user (DynamicUser), and that
	// matters: run as root, SQLite gives its journal the database's owner
	// with fchown, which @privileged holds. So strace and the server run
	// as nobody when the test is root, in a directory nobody can use.
	dir, err := os.MkdirTemp("", "gatehouse-strace-") // t.TempDir's parent is root's alone
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	var cred *syscall.Credential
	if os.Geteuid() == 0 {
		cred = &syscall.Credential{Uid: 65534, Gid: 65534}
		if err := os.Chown(dir, 65534, 65534); err != nil {
			t.Fatal(err)
		}
	}
	traced := filepath.Join(dir, "gatehouse")
	copyFile(t, bin, traced, 0o755)
	trace := filepath.Join(dir, "strace.out")
	cmd := exec.Command("strace", "-f", "-qq", "-e", "signal=none", "-o", trace, "--",
		traced, "serve", "--listen", "127.0.0.1:0", "--data", filepath.Join(dir, "data"))
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	cmd.Env = append(os.Environ(), "GATEHOUSE_ARGON2_MEMORY_KIB=8192", "GATEHOUSE_ARGON2_ITERATIONS=1", "GATEHOUSE_SIGNIN_NEW_DEVICE_CHECK=off")
	srv := startLogged(t, cmd)
	// Killing strace would leave the server running, detached: kill the
	// server first (cleanups run last-registered first).
	t.Cleanup(func() {
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", cmd.Process.Pid, cmd.Process.Pid)); err == nil {
			for _, f := range strings.Fields(string(b)) {
				if pid, err := strconv.Atoi(f); err == nil {
					syscall.Kill(pid, syscall.SIGKILL)
				}
			}
		}
	})
	var base string
	deadline := time.After(60 * time.Second)
	for base == "" {
		select {
		case line := <-srv.seen:
			if m := regexp.MustCompile(`Open (http://\S+)/ in your browser`).FindStringSubmatch(line); m != nil {
				base = m[1]
			}
		case <-srv.done:
			t.Fatalf("gatehouse under strace ended:\n%s", srv.output())
		case <-deadline:
			t.Fatalf("gatehouse under strace did not start:\n%s", srv.output())
		}
	}

	holderWalk(t, base)

	tracee := childOf(t, cmd.Process.Pid)
	syscall.Kill(tracee, syscall.SIGTERM)
	if code := srv.wait(t, 30*time.Second); code != 0 {
		t.Errorf("gatehouse under strace: exit code %d after SIGTERM:\n%s", code, srv.output())
	}

	calls, usedFamilies := readTrace(t, trace, traced)
	var refused []string
	for c := range calls {
		if !allowed[c] {
			refused = append(refused, c)
		}
	}
	slices.Sort(refused)
	if len(refused) > 0 {
		t.Errorf("the unit's SystemCallFilter refuses %v, which gatehouse called", refused)
	}
	for f := range usedFamilies {
		if !slices.Contains(families, f) {
			t.Errorf("gatehouse opened an %s socket; RestrictAddressFamilies=%s refuses it", f, strings.Join(families, " "))
		}
	}
	t.Logf("%d distinct system calls %v, socket families %v", len(calls), slices.Sorted(maps.Keys(calls)), slices.Sorted(maps.Keys(usedFamilies)))
}

// readUnit returns the [Service] settings of deploy/gatehouse.service,
// each key's values in order.
func readUnit(t *testing.T) map[string][]string {
	t.Helper()
	b, err := os.ReadFile(unitPath(t))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	section := ""
	for _, l := range strings.Split(string(b), "\n") {
		l = strings.TrimSpace(l)
		if strings.HasPrefix(l, "[") {
			section = l
			continue
		}
		if k, v, ok := strings.Cut(l, "="); ok && section == "[Service]" && !strings.HasPrefix(l, "#") {
			out[k] = append(out[k], v)
		}
	}
	return out
}

// allowedSyscalls is what a list of SystemCallFilter= settings lets
// through, as systemd reads them: the first, an allow list; each later
// one starting with ~ takes its calls away. Groups (@name) are expanded
// with this machine's `systemd-analyze syscall-filter`.
func allowedSyscalls(t *testing.T, filters []string) map[string]bool {
	t.Helper()
	out, err := exec.Command("systemd-analyze", "syscall-filter", "--no-pager").Output()
	if err != nil {
		t.Fatalf("systemd-analyze syscall-filter: %v", err)
	}
	groups := map[string][]string{}
	group := ""
	for _, l := range strings.Split(string(out), "\n") {
		switch {
		case strings.HasPrefix(l, "@"):
			group = strings.TrimSpace(l)
		case strings.HasPrefix(l, " ") && group != "":
			if e := strings.TrimSpace(l); e != "" && !strings.HasPrefix(e, "#") {
				groups[group] = append(groups[group], e)
			}
		default:
			group = "" // a comment or the calls in no group
		}
	}
	var expand func(name string, into map[string]bool)
	expand = func(name string, into map[string]bool) {
		if !strings.HasPrefix(name, "@") {
			into[name] = true
			return
		}
		entries, ok := groups[name]
		if !ok {
			t.Fatalf("systemd-analyze syscall-filter knows no group %s", name)
		}
		for _, e := range entries {
			expand(e, into)
		}
	}
	allowed := map[string]bool{}
	for i, f := range filters {
		deny := strings.HasPrefix(f, "~")
		if i == 0 && deny {
			t.Fatal("the first SystemCallFilter is a deny list: want an allow list")
		}
		set := map[string]bool{}
		for _, name := range strings.Fields(strings.TrimPrefix(f, "~")) {
			expand(name, set)
		}
		for c := range set {
			if deny {
				delete(allowed, c)
			} else {
				allowed[c] = true
			}
		}
	}
	return allowed
}

// readTrace reads strace's output from the server's start (the execve of
// bin, where systemd applies the filter): the names of the calls made,
// and the families of the sockets opened.
func readTrace(t *testing.T, path, bin string) (calls, families map[string]bool) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	calls, families = map[string]bool{}, map[string]bool{}
	call := regexp.MustCompile(`^(?:\d+\s+)?([a-z0-9_]+)\(`)
	socket := regexp.MustCompile(`\bsocket\((AF_[A-Z0-9]+)`)
	started := false
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		l := sc.Text()
		if !started {
			started = strings.Contains(l, `execve("`+bin+`"`) && strings.HasSuffix(l, "= 0")
			continue
		}
		if m := call.FindStringSubmatch(l); m != nil {
			calls[m[1]] = true
		}
		if m := socket.FindStringSubmatch(l); m != nil {
			families[m[1]] = true
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if !started || !calls["socket"] || !calls["openat"] {
		t.Fatalf("the trace %s has no execve of %s, or no socket or openat after it: not a trace of the server", path, bin)
	}
	return calls, families
}

// childOf returns the one child process of pid.
func childOf(t *testing.T, pid int) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(b))
	if len(f) != 1 {
		t.Fatalf("process %d has children %v, want one", pid, f)
	}
	child, _ := strconv.Atoi(f[0])
	return child
}

// holderWalk does what a holder does on a first visit: sign up, confirm
// the address with the emailed code (the dev driver's mailbox), open the
// account page, sign out, and sign in with the password.
func holderWalk(t *testing.T, base string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 20 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	const email, password = "holder@example.com", "a long and unguessable passphrase"
	post := func(path string, form url.Values) *http.Response {
		t.Helper()
		req, _ := http.NewRequest("POST", base+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", base)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	get := func(path string) *http.Response {
		t.Helper()
		resp, err := c.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	resp := post("/signup", url.Values{"email": {email}, "password": {password}})
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || loc == nil || loc.Query().Get("c") == "" {
		t.Fatalf("POST /signup: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	code := ""
	for deadline := time.Now().Add(20 * time.Second); code == "" && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		r, err := http.Get(base + "/dev/messages.json")
		if err != nil {
			t.Fatal(err)
		}
		var msgs []struct{ To, Text string }
		json.NewDecoder(r.Body).Decode(&msgs)
		r.Body.Close()
		for _, m := range msgs {
			if c := regexp.MustCompile(`(?m)^\s+(\d{6})$`).FindStringSubmatch(m.Text); m.To == email && c != nil {
				code = c[1]
			}
		}
	}
	if code == "" {
		t.Fatal("no confirmation code in /dev/messages.json")
	}
	if resp := post("/signup/confirm", url.Values{"c": {loc.Query().Get("c")}, "code": {code}}); resp.Header.Get("Location") != "/account?notice=account_created" {
		t.Fatalf("POST /signup/confirm: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp := get("/account"); resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /account: %d", resp.StatusCode)
	}
	if resp := post("/signout", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("POST /signout: %d", resp.StatusCode)
	}
	if resp := post("/signin", url.Values{"email": {email}, "password": {password}}); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/account") {
		t.Fatalf("POST /signin: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
}
