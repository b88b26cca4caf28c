package deploy_test

import (
	"bufio"
	"crypto/sha256"
	"debug/elf"
	"debug/macho"
	"encoding/hex"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestRelease runs scripts/release into a temporary directory and checks
// its output: the four binaries, each an executable of its OS and
// architecture (read from its ELF or Mach-O header), static on Linux;
// SHA256SUMS naming exactly them with their real SHA-256; MODULES.txt
// with each binary's build settings (its GOOS/GOARCH, CGO_ENABLED=0,
// -trimpath) and modules, the SQLite driver among them; and the version
// VERSION named, as the binary that runs here prints it.
func TestRelease(t *testing.T) {
	if testing.Short() {
		t.Skip("four cross builds: minutes on a cold build cache")
	}
	out := t.TempDir()
	const version = "v0.0.0-releasetest"
	cmd := exec.Command(filepath.Join(repoRoot(t), "scripts", "release"), out)
	cmd.Env = append(os.Environ(), "VERSION="+version)
	start := time.Now()
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("scripts/release: %v\n%s", err, b)
	}
	t.Logf("scripts/release took %s", time.Since(start).Round(time.Second))

	type target struct{ goos, goarch string }
	targets := []target{{"linux", "amd64"}, {"linux", "arm64"}, {"darwin", "amd64"}, {"darwin", "arm64"}}
	var names []string
	for _, tg := range targets {
		names = append(names, "gatehouse-"+tg.goos+"-"+tg.goarch)
	}
	entries, err := os.ReadDir(out)
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, e := range entries {
		files = append(files, e.Name())
	}
	if want := slices.Sorted(slices.Values(append([]string{"MODULES.txt", "SHA256SUMS"}, names...))); !slices.Equal(files, want) {
		t.Errorf("scripts/release wrote %v, want %v", files, want)
	}

	for i, tg := range targets {
		path := filepath.Join(out, names[i])
		switch tg.goos {
		case "linux":
			f, err := elf.Open(path)
			if err != nil {
				t.Errorf("%s: %v", names[i], err)
				continue
			}
			machine := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}[tg.goarch]
			if f.Type != elf.ET_EXEC || f.Machine != machine {
				t.Errorf("%s: ELF %v for %v, want an executable for %v", names[i], f.Type, f.Machine, machine)
			}
			for _, p := range f.Progs {
				if p.Type == elf.PT_INTERP {
					t.Errorf("%s: has an ELF interpreter: not static", names[i])
				}
			}
			f.Close()
		case "darwin":
			f, err := macho.Open(path)
			if err != nil {
				t.Errorf("%s: %v", names[i], err)
				continue
			}
			cpu := map[string]macho.Cpu{"amd64": macho.CpuAmd64, "arm64": macho.CpuArm64}[tg.goarch]
			if f.Type != macho.TypeExec || f.Cpu != cpu {
				t.Errorf("%s: Mach-O %v for %v, want an executable for %v", names[i], f.Type, f.Cpu, cpu)
			}
			f.Close()
		}
	}

	// SHA256SUMS in sha256sum's format: "HEX  NAME", one per binary.
	sums, err := os.ReadFile(filepath.Join(out, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	for _, line := range strings.Split(strings.TrimSpace(string(sums)), "\n") {
		sum, name, ok := strings.Cut(line, "  ")
		if !ok {
			t.Errorf("SHA256SUMS line %q is not HEX  NAME", line)
			continue
		}
		listed = append(listed, name)
		if got := sha256File(t, filepath.Join(out, name)); got != sum {
			t.Errorf("SHA256SUMS says %s for %s; it is %s", sum, name, got)
		}
	}
	if !slices.Equal(slices.Sorted(slices.Values(listed)), slices.Sorted(slices.Values(names))) {
		t.Errorf("SHA256SUMS lists %v, want %v", listed, names)
	}

	// MODULES.txt: `go version -m` of each binary, a header line
	// "NAME: goVERSION" then tab-indented path, mod, dep and build lines.
	modules := map[string][]string{}
	f, err := os.Open(filepath.Join(out, "MODULES.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	current := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "\t") {
			current, _, _ = strings.Cut(line, ":")
			continue
		}
		modules[current] = append(modules[current], strings.Join(strings.Fields(line), " "))
	}
	for i, tg := range targets {
		lines := modules[names[i]]
		for _, want := range []string{"path gatehouse/cmd/gatehouse", "build GOOS=" + tg.goos, "build GOARCH=" + tg.goarch, "build CGO_ENABLED=0", "build -trimpath=true"} {
			if !slices.Contains(lines, want) {
				t.Errorf("MODULES.txt: %s has no %q", names[i], want)
			}
		}
		if !slices.ContainsFunc(lines, func(l string) bool { return strings.HasPrefix(l, "dep modernc.org/sqlite v") }) {
			t.Errorf("MODULES.txt: %s does not list modernc.org/sqlite", names[i])
		}
	}

	if runtime.GOOS == "linux" {
		bin := filepath.Join(out, "gatehouse-linux-"+runtime.GOARCH)
		if got, err := exec.Command(bin, "version").Output(); err != nil || !strings.HasPrefix(string(got), "gatehouse "+version+" (") {
			t.Errorf("%s version: %q %v, want %s", bin, got, err, version)
		}
	}
}

func sha256File(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}
