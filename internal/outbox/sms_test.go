package outbox_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"gatehouse/internal/outbox"
)

// TestHTTPSMS_SignedJSONThatAGatewayCanCheck: the gateway receives
// {"to","text","reference"} with X-Gatehouse-Signature = sha256=HMAC of
// the exact body, and the message id as Idempotency-Key; a body altered in
// transit would not match; a refusal is a failed delivery to retry.
func TestHTTPSMS_SignedJSONThatAGatewayCanCheck(t *testing.T) {
	t.Parallel()
	secret := []byte("shared gateway secret")
	var got struct{ To, Text, Reference string }
	var sigOK bool
	var key string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		sigOK = r.Header.Get("X-Gatehouse-Signature") == outbox.Sign(secret, body) &&
			r.Header.Get("X-Gatehouse-Signature") != outbox.Sign(secret, append(body, ' '))
		key = r.Header.Get("Idempotency-Key")
		json.Unmarshal(body, &got)
		if got.To == "+819000000000" {
			http.Error(w, "number barred", http.StatusBadRequest)
		}
	}))
	defer srv.Close()
	d := &outbox.HTTPSMS{URL: srv.URL, Secret: secret}
	m := &outbox.Message{ID: "msg1", To: "+819012345678", Text: "【Shop】ログイン確認コード\n123456\n\n@id.example #123456", Reference: "REF-1"}
	if err := d.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	if !sigOK || got.To != m.To || got.Text != m.Text || got.Reference != "REF-1" || key != "msg1" {
		t.Fatalf("gateway saw: %+v, signature ok %v, key %q", got, sigOK, key)
	}
	if err := d.Send(context.Background(), &outbox.Message{ID: "m2", To: "+819000000000"}); err == nil || !strings.Contains(err.Error(), "number barred") {
		t.Fatalf("a refusal: %v", err)
	}
}

// TestTwilioSMS_FormPostWithBasicAuth: the Messages API gets To, From and
// Body as a form, the account SID and token as basic authentication, on
// the configured base URL.
func TestTwilioSMS_FormPostWithBasicAuth(t *testing.T) {
	t.Parallel()
	var path, user, pass, to, from, body string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path = r.URL.Path
		user, pass, _ = r.BasicAuth()
		r.ParseForm()
		to, from, body = r.PostForm.Get("To"), r.PostForm.Get("From"), r.PostForm.Get("Body")
		w.WriteHeader(http.StatusCreated)
	}))
	defer srv.Close()
	d := &outbox.TwilioSMS{BaseURL: srv.URL + "/", AccountSID: "AC123", AuthToken: "tok", From: "+15005550006"}
	if err := d.Send(context.Background(), &outbox.Message{ID: "m", To: "+819012345678", Text: "code 123456"}); err != nil {
		t.Fatal(err)
	}
	if path != "/2010-04-01/Accounts/AC123/Messages.json" || user != "AC123" || pass != "tok" || to != "+819012345678" || from != "+15005550006" || body != "code 123456" {
		t.Fatalf("twilio saw %s %s:%s to=%s from=%s body=%q", path, user, pass, to, from, body)
	}
}
