package outbox

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// smsTimeout bounds one hand-off to an SMS gateway; the outbox retries.
const smsTimeout = 15 * time.Second

// HTTPSMS hands SMS to any gateway that takes a JSON POST of
// {"to","text","reference"}. The body is signed, so the gateway can tell
// the request came from this installation: the header
// X-Gatehouse-Signature is "sha256=" and the hex HMAC-SHA256 of the exact
// body under the shared secret (sms.http.secret). The message id goes as
// Idempotency-Key, so a gateway can drop a retried duplicate.
type HTTPSMS struct {
	URL    string
	Secret []byte
	Client *http.Client // nil: a client with a 15 s timeout
}

// Name implements Driver.
func (*HTTPSMS) Name() string { return "http" }

// KeepsCode implements Driver.
func (*HTTPSMS) KeepsCode() bool { return false }

// Sign returns the X-Gatehouse-Signature value of body under secret.
func Sign(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Send implements Driver.
func (d *HTTPSMS) Send(ctx context.Context, m *Message) error {
	body, err := json.Marshal(struct {
		To        string `json:"to"`
		Text      string `json:"text"`
		Reference string `json:"reference"`
	}{m.To, m.Text, m.Reference})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("sms http: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Gatehouse-Signature", Sign(d.Secret, body))
	req.Header.Set("Idempotency-Key", m.IdempotencyKey())
	return do(client(d.Client), req, "sms http")
}

// TwilioSMS sends through Twilio's Messages REST API: a form post with
// basic authentication (account SID and auth token). BaseURL is
// configurable (sms.twilio.base_url), for a regional endpoint or a test
// server.
type TwilioSMS struct {
	BaseURL, AccountSID, AuthToken, From string
	Client                               *http.Client
}

// Name implements Driver.
func (*TwilioSMS) Name() string { return "twilio" }

// KeepsCode implements Driver.
func (*TwilioSMS) KeepsCode() bool { return false }

// Send implements Driver.
func (d *TwilioSMS) Send(ctx context.Context, m *Message) error {
	form := url.Values{"To": {m.To}, "From": {d.From}, "Body": {m.Text}}
	endpoint := strings.TrimRight(d.BaseURL, "/") + "/2010-04-01/Accounts/" + url.PathEscape(d.AccountSID) + "/Messages.json"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return fmt.Errorf("sms twilio: %w", err)
	}
	req.SetBasicAuth(d.AccountSID, d.AuthToken)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("I-Twilio-Idempotency-Token", m.IdempotencyKey())
	return do(client(d.Client), req, "sms twilio")
}

func client(c *http.Client) *http.Client {
	if c != nil {
		return c
	}
	return &http.Client{Timeout: smsTimeout}
}

// do sends req and treats any answer but 2xx as a failed delivery (the
// outbox retries it with backoff), quoting the start of the gateway's
// answer for the operator.
func do(c *http.Client, req *http.Request, name string) error {
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 == 2 {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return nil
	}
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	return fmt.Errorf("%s: gateway answered %s: %s", name, resp.Status, strings.TrimSpace(string(msg)))
}
