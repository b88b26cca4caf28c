package delivery

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// SignatureHeader carries a JSON webhook's signature (see HMACJSON).
const SignatureHeader = "Gatehouse-Signature"

// HMACJSON is the Encoder of JSON webhooks: the payload is the body as
// stored, and each attempt signs it with the receiver's secret:
//
//	Gatehouse-Signature: t=<unix time>,v1=<hex HMAC-SHA256(secret, t + "." + body)>
//
// A receiver recomputes v1 over the body exactly as received, compares in
// constant time, and refuses a t too far from its clock (Verify does all
// three). The delivery's id is also sent as Gatehouse-Delivery, the same
// on every attempt.
type HMACJSON struct {
	// Secret returns the secret of a receiver; ok is false when the
	// receiver is no longer configured (its deliveries then fail).
	Secret func(receiver string) (secret []byte, ok bool)
}

// Encode implements Encoder.
func (h HMACJSON) Encode(_ context.Context, d *Delivery, now time.Time) (*Request, error) {
	secret, ok := h.Secret(d.Receiver)
	if !ok {
		return nil, Permanent(fmt.Errorf("receiver %s is no longer configured", d.Receiver))
	}
	body := []byte(d.Payload)
	hdr := http.Header{}
	hdr.Set(SignatureHeader, Signature(secret, now, body))
	hdr.Set("Gatehouse-Delivery", d.ID)
	return &Request{ContentType: "application/json", Body: body, Header: hdr}, nil
}

// Signature is the Gatehouse-Signature value of body at t.
func Signature(secret []byte, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac(secret, ts, body))
}

func mac(secret []byte, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts))
	m.Write([]byte("."))
	m.Write(body)
	return m.Sum(nil)
}

// Errors of Verify.
var (
	ErrBadSignature = errors.New("delivery: the signature does not match")
	ErrStale        = errors.New("delivery: the signature's time is too far from now")
)

// Verify checks a Gatehouse-Signature header against body: what a
// receiver written in Go does (the README shows the same in words). A
// signature whose t is more than tolerance from now is refused.
func Verify(secret []byte, header string, body []byte, now time.Time, tolerance time.Duration) error {
	var ts string
	var sigs [][]byte
	for part := range strings.SplitSeq(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			if b, err := hex.DecodeString(v); err == nil {
				sigs = append(sigs, b)
			}
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(sigs) == 0 {
		return ErrBadSignature
	}
	want := mac(secret, ts, body)
	ok := false
	for _, s := range sigs {
		if hmac.Equal(s, want) {
			ok = true
		}
	}
	if !ok {
		return ErrBadSignature
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return ErrStale
	}
	return nil
}
