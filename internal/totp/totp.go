// Package totp is the authenticator-app method of two-step verification:
// time-based one-time passwords (RFC 6238) as every authenticator app
// computes them — HMAC-SHA1, 6 digits, 30-second steps — with a 160-bit
// secret (RFC 4226 §4 recommends at least that), using pquerna/otp.
//
// A code is accepted for the current step and one step either side (clock
// drift), and never for a step at or before the last one the account used:
// the caller stores that step with a conditional update, so a code seen
// over a shoulder or replayed from a phishing page cannot be used again, on
// any node.
package totp

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base32"
	"errors"
	"fmt"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// Period is the length of a step; Digits the length of a code.
const (
	Period     = 30
	Digits     = 6
	secretSize = 20 // bytes: 160 bits
	skew       = 1  // steps accepted either side of the current one
)

// ErrNoMatch is returned for a code that matches no acceptable step.
var ErrNoMatch = errors.New("totp: wrong code")

// ErrReplayed is returned for a right code of a step already used.
var ErrReplayed = errors.New("totp: code already used")

// Key is a new app's secret and the otpauth:// URI that carries it to the
// app (as a QR code, or typed by hand).
type Key struct {
	Secret string // base32, no padding: what the holder types by hand
	URI    string // otpauth://totp/Issuer:account?secret=…&issuer=…
}

// NewKey makes a fresh 160-bit secret from crypto/rand for the account
// name (the holder's address) under the issuer (the service name).
func NewKey(issuer, accountName string) (*Key, error) {
	k, err := totp.Generate(totp.GenerateOpts{
		Issuer: issuer, AccountName: accountName, Period: Period, SecretSize: secretSize,
		Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1, Rand: rand.Reader,
	})
	if err != nil {
		return nil, fmt.Errorf("totp: new key: %w", err)
	}
	return &Key{Secret: k.Secret(), URI: k.URL()}, nil
}

// KeyFor rebuilds the key of a stored secret (to show a pending enrolment
// again).
func KeyFor(issuer, accountName, secret string) (*Key, error) {
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(secret)
	if err != nil {
		return nil, fmt.Errorf("totp: stored secret: %w", err)
	}
	k, err := totp.Generate(totp.GenerateOpts{
		Issuer: issuer, AccountName: accountName, Period: Period, Secret: raw,
		Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1,
	})
	if err != nil {
		return nil, fmt.Errorf("totp: key: %w", err)
	}
	return &Key{Secret: k.Secret(), URI: k.URL()}, nil
}

// Step returns the step a time falls in.
func Step(t time.Time) int64 { return t.Unix() / Period }

// Code returns the code of a step for a secret.
func Code(secret string, step int64) (string, error) {
	return totp.GenerateCodeCustom(secret, time.Unix(step*Period, 0), totp.ValidateOpts{
		Period: Period, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1,
	})
}

// Match returns the step whose code is code, among the current step at now
// and one either side, skipping steps at or before lastUsed (0 when none
// was used). Every acceptable step is compared, in constant time, so the
// answer's timing does not say which step matched. ErrReplayed means the
// code is right for a step already used.
func Match(secret, code string, now time.Time, lastUsed int64) (int64, error) {
	if len(code) != Digits {
		return 0, ErrNoMatch
	}
	cur := Step(now)
	var found int64
	replayed := false
	for step := cur - skew; step <= cur+skew; step++ {
		want, err := Code(secret, step)
		if err != nil {
			return 0, fmt.Errorf("totp: %w", err)
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			if step <= lastUsed {
				replayed = true
			} else if found == 0 {
				found = step
			}
		}
	}
	switch {
	case found != 0:
		return found, nil
	case replayed:
		return 0, ErrReplayed
	}
	return 0, ErrNoMatch
}
