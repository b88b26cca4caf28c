package delivery_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"gatehouse/internal/delivery"
	"gatehouse/internal/oidc"
	"gatehouse/internal/sqlite"
)

type staticKey struct{ s *oidc.Signer }

func (k staticKey) Signing(context.Context) (*oidc.Signer, error) { return k.s, nil }

var (
	keyOnce sync.Once
	rsaKey  *rsa.PrivateKey
)

func signer(t *testing.T) *oidc.Signer {
	keyOnce.Do(func() {
		var err error
		if rsaKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			t.Fatal(err)
		}
	})
	return &oidc.Signer{KID: "k1", Key: rsaKey}
}

// newSender is a sender on a fresh SQLite store, its clock at *now.
func newSender(t *testing.T, now *time.Time) *delivery.Sender {
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "t.db"), true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return &delivery.Sender{Store: db, Clock: func() time.Time { return *now }, Log: slog.New(slog.DiscardHandler), MaxAttempts: 3, Poll: 5 * time.Millisecond,
		Kinds: map[delivery.Kind]delivery.Encoder{
			delivery.BackchannelLogout: delivery.SignedJWT{Keys: staticKey{signer(t)}, Typ: "logout+jwt", FormField: "logout_token", TTL: 2 * time.Minute},
			delivery.WebhookJSON: delivery.HMACJSON{Secret: func(id string) ([]byte, bool) {
				return []byte("0123456789abcdef"), id == "known"
			}},
		}}
}

// runUntil runs the worker until the delivery reaches a final state or
// has made attempts attempts.
func runUntil(t *testing.T, s *delivery.Sender, id string, attempts int) *delivery.Delivery {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		d, err := s.Store.Delivery(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if d.Status == delivery.Sent || d.Status == delivery.Failed || d.Attempts >= attempts {
			return d
		}
		if time.Now().After(deadline) {
			t.Fatalf("delivery %+v", d)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestBackchannelLogout: the lead's kind — claims of the caller's, iat,
// jti and exp added, typ logout+jwt, posted as the logout_token field.
func TestBackchannelLogout(t *testing.T) {
	now := time.Now().UTC()
	var got url.Values
	var ctype string
	rp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctype = r.Header.Get("Content-Type")
		r.ParseForm()
		got = r.PostForm
	}))
	defer rp.Close()
	s := newSender(t, &now)
	d := &delivery.Delivery{Kind: delivery.BackchannelLogout, Target: rp.URL, Receiver: "client-1", AccountID: "acc",
		Payload: json.RawMessage(`{"iss":"https://id.example","aud":"client-1","sub":"acc","sid":"s1","events":{"http://schemas.openid.net/event/backchannel-logout":{}}}`)}
	if err := s.Enqueue(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	if out := runUntil(t, s, d.ID, 1); out.Status != delivery.Sent {
		t.Fatalf("%+v", out)
	}
	if ctype != "application/x-www-form-urlencoded" {
		t.Fatalf("content type %q", ctype)
	}
	jws, err := jose.ParseSignedCompact(got.Get("logout_token"), []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatal(err)
	}
	if typ := jws.Signatures[0].Protected.ExtraHeaders["typ"]; typ != "logout+jwt" || jws.Signatures[0].Protected.KeyID != "k1" {
		t.Fatalf("header %+v", jws.Signatures[0].Protected)
	}
	payload, err := jws.Verify(&rsaKey.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	json.Unmarshal(payload, &c)
	if c["jti"] != d.ID || c["sid"] != "s1" || c["iat"] != float64(now.Unix()) || c["exp"] != float64(now.Add(2*time.Minute).Unix()) {
		t.Fatalf("claims %s", payload)
	}
}

// TestAnswersThatAreNotSuccess: a redirect is not followed, a 400's
// JSON error is kept and retried, the last attempt fails the delivery, and
// a receiver no longer configured fails it at once.
func TestAnswersThatAreNotSuccess(t *testing.T) {
	now := time.Now().UTC()
	var mu sync.Mutex
	hits := map[string]int{}
	rp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits[r.URL.Path]++
		mu.Unlock()
		io.Copy(io.Discard, r.Body)
		switch r.URL.Path {
		case "/moved":
			http.Redirect(w, r, "/elsewhere", http.StatusTemporaryRedirect)
		case "/bad":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			w.Write([]byte(`{"err":"invalid_audience","description":"not for us"}`))
		}
	}))
	defer rp.Close()
	s := newSender(t, &now)
	enqueue := func(path, receiver string) *delivery.Delivery {
		d := &delivery.Delivery{Kind: delivery.WebhookJSON, Target: rp.URL + path, Receiver: receiver, Payload: json.RawMessage(`{"id":"x"}`)}
		if err := s.Enqueue(context.Background(), d); err != nil {
			t.Fatal(err)
		}
		return d
	}
	moved := enqueue("/moved", "known")
	out := runUntil(t, s, moved.ID, 1)
	if out.Status != delivery.Queued || !strings.Contains(out.LastError, "307") || !strings.Contains(out.LastError, "not followed") ||
		!out.NextAt.Equal(now.Add(10*time.Second).Truncate(time.Microsecond)) {
		t.Fatalf("after a redirect: %+v", out)
	}
	if hits["/elsewhere"] != 0 {
		t.Fatal("the redirect was followed")
	}
	bad := enqueue("/bad", "known")
	for i, wait := range []time.Duration{0, 10 * time.Second, 20 * time.Second} {
		now = now.Add(wait)
		out = runUntil(t, s, bad.ID, i+1)
	}
	if out.Status != delivery.Failed || out.Attempts != 3 || !strings.Contains(out.LastError, "invalid_audience (not for us)") {
		t.Fatalf("after three 400s: %+v", out)
	}
	gone := enqueue("/ok", "removed")
	if out := runUntil(t, s, gone.ID, 1); out.Status != delivery.Failed || out.Attempts != 1 || hits["/ok"] != 0 {
		t.Fatalf("a receiver no longer configured: %+v", out)
	}
	if err := s.Enqueue(context.Background(), &delivery.Delivery{Kind: "carrier_pigeon", Target: rp.URL, Payload: json.RawMessage(`{}`)}); err == nil {
		t.Fatal("a kind without an encoder was enqueued")
	}
}

// TestVerify: the JSON webhook's signature as a receiver checks it.
func TestVerify(t *testing.T) {
	secret, body, at := []byte("0123456789abcdef"), []byte(`{"id":"1"}`), time.Unix(1_800_000_000, 0)
	sig := delivery.Signature(secret, at, body)
	if err := delivery.Verify(secret, sig, body, at.Add(time.Minute), 5*time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := delivery.Verify(secret, sig, []byte(`{"id":"2"}`), at, 5*time.Minute); !errors.Is(err, delivery.ErrBadSignature) {
		t.Fatalf("another body: %v", err)
	}
	if err := delivery.Verify(secret, sig, body, at.Add(time.Hour), 5*time.Minute); !errors.Is(err, delivery.ErrStale) {
		t.Fatalf("an old signature: %v", err)
	}
	if !strings.HasPrefix(sig, "t=1800000000,v1=") || len(sig) != len("t=1800000000,v1=")+64 {
		t.Fatalf("header %q", sig)
	}
}
