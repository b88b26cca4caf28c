package deploy_test

import (
	"bufio"
	"debug/elf"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// image is what the Dockerfile's last stage says about the image.
type image struct {
	From       string
	User       string // UID:GID
	UID, GID   int
	Env        []string
	Entrypoint []string
	Volume     string
	Expose     string
	Copies     []imageCopy
}

// imageCopy is one COPY --from=<build stage> of the last stage.
type imageCopy struct {
	Src, Dst, Chown string
	Line            int
}

func readImage(t *testing.T, df *dockerfile, r *buildRecipe) *image {
	t.Helper()
	s := df.stage("")
	img := &image{From: s.From}
	one := func(cmd string) instruction {
		t.Helper()
		ins := s.all(cmd)
		if len(ins) != 1 {
			t.Fatalf("the image's stage has %d %s instructions, want 1", len(ins), cmd)
		}
		return ins[0]
	}
	img.User = one("USER").Args
	ids := strings.Split(img.User, ":")
	var err1, err2 error
	img.UID, err1 = strconv.Atoi(ids[0])
	img.GID, err2 = strconv.Atoi(ids[len(ids)-1])
	if len(ids) != 2 || err1 != nil || err2 != nil {
		t.Fatalf("USER %s: want numeric UID:GID (the image has no user database)", img.User)
	}
	env, err := s.env()
	if err != nil {
		t.Fatal(err)
	}
	img.Env = env
	if err := json.Unmarshal([]byte(one("ENTRYPOINT").Args), &img.Entrypoint); err != nil {
		t.Fatalf("ENTRYPOINT %s: want the exec form (a JSON array): %v", one("ENTRYPOINT").Args, err)
	}
	vols := jsonOrWords(one("VOLUME").Args)
	if len(vols) != 1 {
		t.Fatalf("VOLUME %v: want one data volume", vols)
	}
	img.Volume = vols[0]
	img.Expose = one("EXPOSE").Args
	for _, in := range s.all("COPY") {
		f := strings.Fields(in.Args)
		c := imageCopy{Line: in.Line}
		from := ""
		for len(f) > 0 && strings.HasPrefix(f[0], "--") {
			if v, ok := strings.CutPrefix(f[0], "--from="); ok {
				from = v
			} else if v, ok := strings.CutPrefix(f[0], "--chown="); ok {
				c.Chown = v
			} else {
				t.Fatalf("line %d: COPY %s: the tests read only --from and --chown", in.Line, f[0])
			}
			f = f[1:]
		}
		if from != r.Stage || len(f) != 2 {
			t.Fatalf("line %d: COPY %s: want COPY --from=%s SRC DST", in.Line, in.Args, r.Stage)
		}
		c.Src, c.Dst = f[0], f[1]
		img.Copies = append(img.Copies, c)
	}
	return img
}

// flagValue returns the value after --name in args.
func flagValue(args []string, name string) string {
	for i, a := range args {
		if a == "--"+name && i+1 < len(args) {
			return args[i+1]
		}
		if v, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			return v
		}
	}
	return ""
}

func loadImage(t *testing.T) (*dockerfile, *buildRecipe, *image) {
	t.Helper()
	df, err := readDockerfile(filepath.Join(repoRoot(t), "deploy", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := df.buildRecipe()
	if err != nil {
		t.Fatal(err)
	}
	return df, r, readImage(t, df, r)
}

// TestDockerfile_Recipe: the image is an empty base with the binary the
// build stage made as its entry point, run by a numeric non-root user,
// serving on the exposed port with its data in the one volume (owned by
// that user), and the build context never carries a local installation.
func TestDockerfile_Recipe(t *testing.T) {
	df, r, img := loadImage(t)
	if len(df.Stages) != 2 {
		t.Errorf("%d stages, want two: build, then the image", len(df.Stages))
	}
	if !strings.HasPrefix(df.Stages[0].From, "golang:1.26") {
		t.Errorf("build stage FROM %s, want golang:1.26 (the project's Go)", df.Stages[0].From)
	}
	if img.From != "scratch" {
		t.Errorf("image FROM %s, want scratch: nothing but what the stage copies in", img.From)
	}
	if img.UID == 0 || img.GID == 0 {
		t.Errorf("USER %s runs as root", img.User)
	}
	if len(img.Entrypoint) < 2 || img.Entrypoint[1] != "serve" {
		t.Fatalf("ENTRYPOINT %v: want the binary, then serve", img.Entrypoint)
	}
	var binaryCopied, volumeCopied bool
	for _, c := range img.Copies {
		if c.Src == r.Out && c.Dst == img.Entrypoint[0] {
			binaryCopied = true
		}
		if c.Dst == img.Volume {
			volumeCopied = true
			if _, ok := r.Mkdirs[c.Src]; !ok {
				t.Errorf("line %d: the volume's mount point %s is copied from %s, which the build stage does not mkdir", c.Line, c.Dst, c.Src)
			}
			if c.Chown != img.User {
				t.Errorf("line %d: the volume's mount point is owned by %q, want the USER %s (an empty volume takes its owner)", c.Line, c.Chown, img.User)
			}
		}
	}
	if !binaryCopied {
		t.Errorf("no COPY --from=%s %s %s: the entry point is not the binary go build made", r.Stage, r.Out, img.Entrypoint[0])
	}
	if !volumeCopied {
		t.Errorf("the image has no %s owned by %s: an empty volume would be root's, and the server could not write it", img.Volume, img.User)
	}
	if data := flagValue(img.Entrypoint, "data"); data != img.Volume {
		t.Errorf("serve --data %q, want the VOLUME %s", data, img.Volume)
	}
	if _, port, err := net.SplitHostPort(flagValue(img.Entrypoint, "listen")); err != nil || port != img.Expose {
		t.Errorf("serve --listen %q, want the EXPOSEd port %s on every address", flagValue(img.Entrypoint, "listen"), img.Expose)
	}
	ignore, err := os.ReadFile(filepath.Join(repoRoot(t), "deploy", "Dockerfile.dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	for _, must := range []string{"gatehouse-data", ".git", "test-artifacts"} {
		if !slices.Contains(strings.Fields(string(ignore)), must) {
			t.Errorf("Dockerfile.dockerignore does not leave out %s", must)
		}
	}
}

// TestDockerfile_BinaryIsStatic builds gatehouse with the build stage's
// own go build line (read from the Dockerfile, so the two cannot drift)
// and checks what the image relies on: no ELF interpreter or shared
// library (it runs on an empty image), no symbol or DWARF tables, no
// build paths, and the version the build argument names.
func TestDockerfile_BinaryIsStatic(t *testing.T) {
	bin, r := staticBinary(t)
	if !slices.Contains(r.Assign, "CGO_ENABLED=0") {
		t.Errorf("the go build line sets %v, want CGO_ENABLED=0", r.Assign)
	}
	if _, ok := r.flag("trimpath"); !ok {
		t.Errorf("go %v: no -trimpath", r.Args)
	}
	ld, _ := r.flag("ldflags")
	if f := strings.Fields(ld); !slices.Contains(f, "-s") || !slices.Contains(f, "-w") {
		t.Errorf("-ldflags %q: want -s -w", ld)
	}

	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("program header %v: the binary needs a dynamic loader", p.Type)
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("the binary needs shared libraries %v", libs)
	}
	for _, s := range f.Sections {
		if s.Name == ".symtab" || strings.HasPrefix(s.Name, ".debug_") || strings.HasPrefix(s.Name, ".zdebug_") {
			t.Errorf("section %s: -s -w should have left it out", s.Name)
		}
	}

	// What go build recorded in the binary, as `go version -m` reads it.
	out, err := exec.Command("go", "version", "-m", bin).Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"build\tCGO_ENABLED=0", "build\t-trimpath=true"} {
		if !strings.Contains(string(out), want+"\n") {
			t.Errorf("go version -m does not say %q:\n%s", want, out)
		}
	}
	if strings.Contains(string(out), repoRoot(t)) {
		t.Errorf("the build records the build machine's path %s:\n%s", repoRoot(t), out)
	}

	version := ""
	for _, kv := range r.Env {
		if v, ok := strings.CutPrefix(kv, "VERSION="); ok {
			version = v
		}
	}
	got, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(got), "gatehouse "+version+" (") {
		t.Errorf("gatehouse version: %q, want the build argument VERSION=%s", got, version)
	}
}

// TestDockerfile_RunsOnAReadOnlyRootWritingOnlyTheVolume runs the image
// as an engine would with `docker run --read-only -v …:/data`, short of the
// engine: a root directory holding exactly what the last stage copies
// (with its owners and modes, /proc and the usual /dev nodes), mounted
// read-only in a mount namespace of its own with only the volume
// writable, a network namespace of its own (the ENTRYPOINT's :8080 taken
// as it is), the ENTRYPOINT run in it chrooted as the USER with the
// stage's ENV and the configuration an operator adds for a public
// deployment. The server starts, answers /healthz, /readyz and a page
// from inside that network, stops cleanly on SIGTERM, and has written its
// database and secrets to the volume and nothing anywhere else.
func TestDockerfile_RunsOnAReadOnlyRootWritingOnlyTheVolume(t *testing.T) {
	if os.Geteuid() != 0 {
		if inCI() {
			t.Fatal("CI=true but not root: mount and network namespaces need root")
		}
		t.Skip("needs root for mount and network namespaces")
	}
	for _, tool := range []string{"unshare", "nsenter", "chroot", "mount", "ip"} {
		need(t, tool)
	}
	bin, r := staticBinary(t)
	_, _, img := loadImage(t)

	root := filepath.Join(t.TempDir(), "root")
	volume := filepath.Join(root, img.Volume)
	for _, c := range img.Copies {
		dst := filepath.Join(root, c.Dst)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		switch mode, isDir := r.Mkdirs[c.Src]; {
		case c.Src == r.Out:
			copyFile(t, bin, dst, 0o755)
		case isDir:
			if err := os.Mkdir(dst, mode); err != nil {
				t.Fatal(err)
			}
			os.Chmod(dst, mode) // past the umask
		default:
			// A file of the golang image (Debian), such as the CA
			// bundle: this machine's copy stands in for it.
			if _, err := os.Stat(c.Src); err != nil {
				t.Fatalf("line %d: COPY %s: no such file on this machine to stand in for the build image's", c.Line, c.Src)
			}
			copyFile(t, c.Src, dst, 0o644)
		}
		if c.Chown != "" {
			ids := strings.Split(c.Chown, ":")
			uid, _ := strconv.Atoi(ids[0])
			gid, _ := strconv.Atoi(ids[len(ids)-1])
			if err := os.Chown(dst, uid, gid); err != nil {
				t.Fatal(err)
			}
		}
	}
	// What an engine adds to every container.
	for _, d := range []string{"proc", "dev"} {
		if err := os.Mkdir(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	devices := []string{"null", "zero", "random", "urandom"}
	for _, d := range devices {
		if err := os.WriteFile(filepath.Join(root, "dev", d), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	before := snapshot(t, root, volume)

	public, err := url.Parse("https://id.gatehouse.test")
	if err != nil {
		t.Fatal(err)
	}
	// The environment of the container: the engine's PATH and HOME (a
	// user with no passwd entry gets /), the image's ENV, and what the
	// README tells an operator to set: the TLS proxy's URL and real mail
	// and SMS drivers (nothing is sent in this test).
	env := append([]string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/"}, img.Env...)
	env = append(env,
		"GATEHOUSE_PUBLIC_URL="+public.String(),
		"GATEHOUSE_MAIL_DRIVER=smtp", "GATEHOUSE_SMTP_HOST=smtp.gatehouse.test",
		"GATEHOUSE_SMS_DRIVER=http", "GATEHOUSE_SMS_HTTP_URL=https://sms.gatehouse.test/send", "GATEHOUSE_SMS_HTTP_SECRET=not-a-real-secret")

	// The shell runs inside the new namespaces: it makes the root a
	// read-only mount (the volume, /proc and the devices mounts of their
	// own above it), brings up loopback, and becomes the entry point.
	script := `set -e
root=$1 volume=$2 user=$3; shift 3
ip link set lo up
mount --bind "$root" "$root"
mount --bind "$volume" "$volume"
mount -t proc proc "$root/proc"
for d in ` + strings.Join(devices, " ") + `; do mount --bind "/dev/$d" "$root/dev/$d"; done
mount -o remount,bind,ro "$root"
exec chroot --userspec="$user" "$root" "$@"`
	args := append([]string{"--mount", "--net", "sh", "-c", script, "sh", root, volume, img.User}, img.Entrypoint...)
	cmd := exec.Command("unshare", args...)
	cmd.Env = env
	srv := startLogged(t, cmd)
	if !srv.waitFor("Gatehouse is running", 30*time.Second) {
		t.Fatalf("gatehouse did not start on the read-only root:\n%s", srv.output())
	}
	pid := cmd.Process.Pid // unshare, sh and chroot exec in turn: one process

	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	uid := strconv.Itoa(img.UID)
	if m := regexp.MustCompile(`(?m)^Uid:\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)$`).FindStringSubmatch(string(status)); m == nil || m[1] != uid || m[2] != uid || m[3] != uid || m[4] != uid {
		t.Errorf("the server runs as %v, want the USER %s", m, img.User)
	}
	// The mounts as the server sees them (paths relative to its root).
	mounts, err := os.ReadFile(fmt.Sprintf("/proc/%d/mountinfo", pid))
	if err != nil {
		t.Fatal(err)
	}
	opts := map[string]string{}
	for _, line := range strings.Split(string(mounts), "\n") {
		if f := strings.Fields(line); len(f) > 5 {
			opts[f[4]] = f[5]
		}
	}
	if o := opts["/"]; !strings.HasPrefix(o, "ro,") && o != "ro" {
		t.Errorf("the server's / is mounted %q, want read-only", o)
	}
	if o := opts[img.Volume]; !strings.HasPrefix(o, "rw") {
		t.Errorf("the server's %s is mounted %q, want read-write", img.Volume, o)
	}

	_, port, _ := net.SplitHostPort(flagValue(img.Entrypoint, "listen"))
	answers := probeInNetns(t, pid, probeSpec{Base: "http://127.0.0.1:" + port, Host: public.Host, Paths: []string{"/healthz", "/readyz", "/signin"}})
	for _, a := range answers {
		if a.Err != "" || a.Status != 200 {
			t.Errorf("GET %s inside the container's network: %d %s %.300s", a.Path, a.Status, a.Err, a.Body)
		}
	}
	if len(answers) == 3 && (answers[0].Body != "ok\n" || answers[1].Body != "ready\n") {
		t.Errorf("/healthz %q, /readyz %q", answers[0].Body, answers[1].Body)
	}

	cmd.Process.Signal(syscall.SIGTERM)
	if code := srv.wait(t, 30*time.Second); code != 0 {
		t.Errorf("exit code %d after SIGTERM, want 0:\n%s", code, srv.output())
	}
	if out := srv.output(); regexp.MustCompile(`(?i)read-only file system|permission denied`).MatchString(out) {
		t.Errorf("the server met the read-only root:\n%s", out)
	}
	for _, name := range []string{"gatehouse.db", "secrets.json"} {
		st, err := os.Stat(filepath.Join(volume, name))
		if err != nil {
			t.Errorf("the volume has no %s: %v", name, err)
			continue
		}
		if sys, ok := st.Sys().(*syscall.Stat_t); ok && int(sys.Uid) != img.UID {
			t.Errorf("%s belongs to uid %d, want the USER's %d", name, sys.Uid, img.UID)
		}
	}
	if after := snapshot(t, root, volume); !slices.Equal(before, after) {
		t.Errorf("the root outside the volume changed:\nbefore %v\nafter  %v", before, after)
	}
	if t.Failed() {
		t.Logf("gatehouse output:\n%s", srv.output())
	}
}

// probeInNetns runs the probe (TestMain) in the network namespace of pid.
func probeInNetns(t *testing.T, pid int, spec probeSpec) []probeAnswer {
	t.Helper()
	b, _ := json.Marshal(spec)
	cmd := exec.Command("nsenter", "--target", strconv.Itoa(pid), "--net", "--", os.Args[0])
	cmd.Env = append(os.Environ(), probeEnv+"="+string(b))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("probe in the server's network: %v\n%s", err, out)
	}
	var answers []probeAnswer
	if err := json.Unmarshal(out, &answers); err != nil {
		t.Fatalf("probe: %v\n%s", err, out)
	}
	return answers
}

// snapshot lists every path under root but skip, with its mode, size and
// modification time.
func snapshot(t *testing.T, root, skip string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == skip {
			return fs.SkipDir
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		out = append(out, fmt.Sprintf("%s %v %d %d", strings.TrimPrefix(p, root), info.Mode(), info.Size(), info.ModTime().UnixNano()))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func copyFile(t *testing.T, src, dst string, mode os.FileMode) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, mode); err != nil {
		t.Fatal(err)
	}
}

// logged is a started process whose output is collected line by line.
type logged struct {
	cmd  *exec.Cmd
	mu   sync.Mutex
	out  strings.Builder
	seen chan string
	done chan struct{}
	err  error
}

// startLogged starts cmd with its stdout and stderr collected; the test's
// cleanup kills it if it is still running.
func startLogged(t *testing.T, cmd *exec.Cmd) *logged {
	t.Helper()
	l := &logged{cmd: cmd, seen: make(chan string, 1000), done: make(chan struct{})}
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			l.mu.Lock()
			l.out.WriteString(sc.Text() + "\n")
			l.mu.Unlock()
			select {
			case l.seen <- sc.Text():
			default:
			}
		}
	}()
	go func() {
		l.err = cmd.Wait()
		pw.Close()
		close(l.done)
	}()
	t.Cleanup(func() {
		select {
		case <-l.done:
		default:
			cmd.Process.Kill()
			<-l.done
		}
	})
	return l
}

// waitFor waits for a line containing s, or the process's end.
func (l *logged) waitFor(s string, d time.Duration) bool {
	deadline := time.After(d)
	for {
		select {
		case line := <-l.seen:
			if strings.Contains(line, s) {
				return true
			}
		case <-l.done:
			return false
		case <-deadline:
			return false
		}
	}
}

// wait waits for the process to end and returns its exit code.
func (l *logged) wait(t *testing.T, d time.Duration) int {
	t.Helper()
	select {
	case <-l.done:
	case <-time.After(d):
		l.cmd.Process.Kill()
		<-l.done
		t.Fatalf("the process did not end within %s:\n%s", d, l.output())
	}
	return l.cmd.ProcessState.ExitCode()
}

func (l *logged) output() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.out.String()
}
