package deploy_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// The probe: run in another network namespace by nsenter (see
// probeInNetns), the test binary fetches the paths named in probeEnv
// from inside it and prints what it got as JSON.
const probeEnv = "GATEHOUSE_DEPLOY_PROBE"

func TestMain(m *testing.M) {
	if spec := os.Getenv(probeEnv); spec != "" {
		os.Exit(probe(spec))
	}
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// probeSpec is what the probe is asked to fetch: each path at base, with
// Host set to host.
type probeSpec struct {
	Base, Host string
	Paths      []string
}

// probeAnswer is one path's answer.
type probeAnswer struct {
	Path   string
	Status int
	Body   string
	Err    string
}

func probe(spec string) int {
	var s probeSpec
	if err := json.Unmarshal([]byte(spec), &s); err != nil {
		fmt.Fprintln(os.Stderr, "probe:", err)
		return 2
	}
	c := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	var out []probeAnswer
	for _, p := range s.Paths {
		a := probeAnswer{Path: p}
		req, _ := http.NewRequest("GET", s.Base+p, nil)
		req.Host = s.Host
		if resp, err := c.Do(req); err != nil {
			a.Err = err.Error()
		} else {
			var b bytes.Buffer
			b.ReadFrom(resp.Body)
			resp.Body.Close()
			a.Status, a.Body = resp.StatusCode, b.String()
		}
		out = append(out, a)
	}
	json.NewEncoder(os.Stdout).Encode(out)
	return 0
}

// inCI reports whether the tests run under CI (CI=true), where a missing
// tool fails the test instead of skipping it: scripts/test installs them.
func inCI() bool { return os.Getenv("CI") == "true" }

// need returns the path of tool, or skips the test without it (fails it
// under CI).
func need(t *testing.T, tool string) string {
	t.Helper()
	p, err := exec.LookPath(tool)
	if err != nil {
		if inCI() {
			t.Fatalf("%s is not installed and CI=true, where a missing tool fails the deployment tests", tool)
		}
		t.Skipf("%s is not installed", tool)
	}
	return p
}

// repoRoot is the repository root, the Dockerfile's build context.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

var (
	buildOnce   sync.Once
	buildDir    string // removed by TestMain
	builtBinary string
	builtRecipe *buildRecipe
	buildErr    error
)

// staticBinary builds gatehouse exactly as deploy/Dockerfile's build stage
// does (its go build line, environment and build arguments, read from the
// file) once for the package, and returns its path and the recipe.
func staticBinary(t *testing.T) (string, *buildRecipe) {
	t.Helper()
	buildOnce.Do(func() {
		var df *dockerfile
		if df, buildErr = readDockerfile(filepath.Join(repoRoot(t), "deploy", "Dockerfile")); buildErr != nil {
			return
		}
		if builtRecipe, buildErr = df.buildRecipe(); buildErr != nil {
			return
		}
		if buildDir, buildErr = os.MkdirTemp("", "gatehouse-deploy-"); buildErr != nil {
			return
		}
		builtBinary = filepath.Join(buildDir, "gatehouse")
		args := builtRecipe.argsWithOutput(builtBinary)
		cmd := exec.Command("go", args...)
		cmd.Dir = repoRoot(t)
		cmd.Env = append(os.Environ(), builtRecipe.Env...)
		start := time.Now()
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("%s go %s: %v\n%s", strings.Join(builtRecipe.Env, " "), strings.Join(args, " "), err, out)
			return
		}
		t.Logf("built %s as the Dockerfile does (%s go %s) in %s", builtBinary, strings.Join(builtRecipe.Env, " "), strings.Join(args, " "), time.Since(start).Round(time.Second))
	})
	if buildErr != nil {
		t.Fatalf("build gatehouse as deploy/Dockerfile does: %v", buildErr)
	}
	return builtBinary, builtRecipe
}
