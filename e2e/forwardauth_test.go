package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestForwardAuth_NginxAuthRequest puts Debian's nginx, with the README's
// auth_request snippet, in front of a tiny application on
// app.example.test, and Gatehouse on auth.example.test (both names lead
// to loopback: the client dials 127.0.0.1 for them). A signed-out browser
// asking for the application goes to Gatehouse's sign-in and comes back to
// the page it asked for; signed in, it reaches the application, which gets
// the holder's id, address and methods from Gatehouse — never the ones the
// browser sent; an rd to a site that is not one of the protected
// applications is refused; signing out everywhere closes the application
// again.
func TestForwardAuth_NginxAuthRequest(t *testing.T) {
	nginx := findNginx(t)

	// The application: it echoes what the proxy passed on.
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]string{
			"path": r.URL.RequestURI(), "user": r.Header.Get("X-Gatehouse-User"),
			"email": r.Header.Get("X-Gatehouse-Email"), "amr": r.Header.Get("X-Gatehouse-AMR"),
		})
	}))
	defer app.Close()

	ghPort, nginxPort := freePort(t), freePort(t)
	authURL := fmt.Sprintf("http://auth.example.test:%d", ghPort)
	data := t.TempDir()
	env := map[string]string{
		"GATEHOUSE_PUBLIC_URL": authURL, "GATEHOUSE_FORWARD_AUTH_ALLOWED_DOMAINS": "example.test",
		"GATEHOUSE_FORWARD_AUTH_COOKIE_DOMAIN": "example.test",
		// example.test names loopback here: the dev mailbox is this machine's.
		"GATEHOUSE_DEV_PUBLIC_URL": "true",
	}
	for k, v := range cheapArgon {
		env[k] = v
	}
	createUser(t, data, env, "holder@example.test", "correct horse battery staple")
	gh := serveOn(t, data, fmt.Sprintf("127.0.0.1:%d", ghPort), env)

	// nginx, as the README shows it (loopback addresses and ports here).
	dir := t.TempDir()
	conf := fmt.Sprintf(`daemon off;
master_process off;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log info;
events { worker_connections 64; }
http {
    access_log %[1]s/access.log;
    client_body_temp_path %[1]s/body;
    proxy_temp_path %[1]s/proxy;
    fastcgi_temp_path %[1]s/fastcgi;
    uwsgi_temp_path %[1]s/uwsgi;
    scgi_temp_path %[1]s/scgi;
    server {
        listen 127.0.0.1:%[2]d;
        server_name app.example.test;
        location / {
            auth_request /_gatehouse;
            auth_request_set $gh_user $upstream_http_x_gatehouse_user;
            auth_request_set $gh_email $upstream_http_x_gatehouse_email;
            auth_request_set $gh_amr $upstream_http_x_gatehouse_amr;
            proxy_set_header X-Gatehouse-User $gh_user;
            proxy_set_header X-Gatehouse-Email $gh_email;
            proxy_set_header X-Gatehouse-AMR $gh_amr;
            error_page 401 = @signin;
            proxy_pass %[3]s;
        }
        location = /_gatehouse {
            internal;
            proxy_pass http://127.0.0.1:%[4]d/auth/verify;
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
            proxy_set_header X-Forwarded-Host $host;
            proxy_set_header X-Original-URL $scheme://$http_host$request_uri;
        }
        location @signin {
            return 302 %[5]s/auth/return?rd=$scheme://$http_host$request_uri;
        }
    }
}
`, dir, nginxPort, app.URL, ghPort, authURL)
	if err := os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(nginx, "-p", dir, "-c", filepath.Join(dir, "nginx.conf"))
	out := &strings.Builder{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			t.Logf("nginx:\n%s\n%s", out, log)
		}
	})
	waitListening(t, fmt.Sprintf("127.0.0.1:%d", nginxPort))

	// The browser: names under example.test lead to loopback, and cookies
	// are kept the way a browser keeps them (Secure ones too: browsers
	// count loopback as secure).
	jar, _ := cookiejar.New(nil)
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	browser := &http.Client{
		Jar: secureLoopbackJar{jar},
		Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, port, _ := net.SplitHostPort(addr)
			if strings.HasSuffix(host, ".example.test") {
				addr = net.JoinHostPort("127.0.0.1", port)
			}
			return dialer.DialContext(ctx, network, addr)
		}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	get := func(u string, header ...string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest("GET", u, nil)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		r, err := browser.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	body := func(r *http.Response) map[string]string {
		t.Helper()
		defer r.Body.Close()
		var m map[string]string
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("application answer %d: %s", r.StatusCode, b)
		}
		return m
	}
	appPage := fmt.Sprintf("http://app.example.test:%d/orders/7", nginxPort)

	// Signed out: to Gatehouse, which asks for a sign-in that returns here.
	r := get(appPage, "X-Gatehouse-User", "forged")
	r.Body.Close()
	want := authURL + "/auth/return?rd=" + appPage
	if r.StatusCode != http.StatusFound || r.Header.Get("Location") != want {
		t.Fatalf("signed out at the application: %d %q, want 302 %q", r.StatusCode, r.Header.Get("Location"), want)
	}
	r = get(want)
	r.Body.Close()
	signin, _ := url.Parse(r.Header.Get("Location"))
	if r.StatusCode != http.StatusSeeOther || signin.Path != "/signin" {
		t.Fatalf("/auth/return signed out: %d %q", r.StatusCode, r.Header.Get("Location"))
	}
	next := signin.Query().Get("next")
	form := url.Values{"email": {"holder@example.test"}, "password": {"correct horse battery staple"}, "next": {next}}
	req, _ := http.NewRequest("POST", authURL+"/signin", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", authURL)
	if r, err := browser.Do(req); err != nil {
		t.Fatal(err)
	} else if r.Body.Close(); r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != next {
		t.Fatalf("sign-in: %d %q, want the way back %q", r.StatusCode, r.Header.Get("Location"), next)
	}
	r = get(authURL + next)
	r.Body.Close()
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != appPage {
		t.Fatalf("the way back: %d %q", r.StatusCode, r.Header.Get("Location"))
	}

	// Signed in: the application, with Gatehouse's word on who it is.
	r = get(appPage, "X-Gatehouse-User", "forged", "X-Gatehouse-Email", "admin@example.test")
	if r.StatusCode != http.StatusOK {
		r.Body.Close()
		t.Fatalf("signed in at the application: %d", r.StatusCode)
	}
	got := body(r)
	if got["path"] != "/orders/7" || got["email"] != "holder@example.test" || got["user"] == "" || got["user"] == "forged" || got["amr"] != "pwd" {
		t.Fatalf("the application got %v", got)
	}

	// Another site as rd: refused, never a redirect.
	for _, u := range []string{authURL + "/auth/verify?rd=https://evil.test/", authURL + "/auth/return?rd=https://evil.test/"} {
		r := get(u)
		r.Body.Close()
		if r.StatusCode != http.StatusBadRequest || r.Header.Get("Location") != "" {
			t.Errorf("%s: %d %q", u, r.StatusCode, r.Header.Get("Location"))
		}
	}

	// Signing out everywhere closes the application at once.
	status, _ := gh.formWith(browser, authURL, "/account/signout-everywhere", nil)
	if status != http.StatusSeeOther {
		t.Fatalf("sign out everywhere: %d", status)
	}
	r = get(appPage)
	r.Body.Close()
	if r.StatusCode != http.StatusFound {
		t.Fatalf("after signing out everywhere: %d", r.StatusCode)
	}
}

// secureLoopbackJar keeps Secure cookies for plain-HTTP test hosts as a
// browser does for loopback (net/http/cookiejar sends them over https
// only).
type secureLoopbackJar struct{ *cookiejar.Jar }

func (j secureLoopbackJar) SetCookies(u *url.URL, cs []*http.Cookie) {
	v := *u
	v.Scheme = "https"
	j.Jar.SetCookies(&v, cs)
}

func (j secureLoopbackJar) Cookies(u *url.URL) []*http.Cookie {
	v := *u
	v.Scheme = "https"
	return j.Jar.Cookies(&v)
}

// findNginx returns Debian's nginx, which scripts/test installs; without it
// the test is skipped, and under CI it fails.
func findNginx(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/usr/sbin/nginx", "/usr/bin/nginx"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("nginx"); err == nil {
		return p
	}
	if inCI() {
		t.Fatal("nginx is not installed (scripts/test installs Debian's nginx) and CI=true")
	}
	t.Skip("nginx is not installed (scripts/test installs Debian's nginx)")
	return ""
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func waitListening(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("nothing listens on %s", addr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
