// Package device recognises returning browsers.
//
// A long-lived device cookie (a random token; only its SHA-256 is stored)
// tells a browser that has been here before from a new one. That is what
// lets Gatehouse say "a new device signed in", decide the cause of a code
// ("an old device of yours" or "someone has your password"), and later give
// devices names and trust. Sessions live in package session and point at a
// device by id.
package device

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/ua-parser/uap-go/uaparser"
	"gopkg.in/yaml.v3"

	"gatehouse/internal/random"
)

// UserAgents turns User-Agent strings into browser and OS names. The parser
// compiles about a thousand regular expressions, so it is built on first use
// (or by Warm in the background) rather than during start-up.
type UserAgents struct {
	once   sync.Once
	parser *uaparser.Parser
}

// Warm builds the parser now; call it in a goroutine once start-up is over.
func (u *UserAgents) Warm() { u.get() }

func (u *UserAgents) get() *uaparser.Parser {
	u.once.Do(func() {
		// Only the browser and OS rules: Gatehouse never shows the device
		// model, and the device rules are most of the parser (12 MiB of
		// heap with them, 4.4 MiB without — a third of an idle server).
		// Reading the rules here also keeps the library from holding a
		// second, cached copy of all of them.
		var def uaparser.RegexDefinitions
		if err := yaml.Unmarshal(uaparser.DefinitionYaml, &def); err != nil {
			return
		}
		def.Device = nil
		p, err := uaparser.New(uaparser.WithMode(uaparser.EOsLookUpMode|uaparser.EUserAgentLookUpMode), uaparser.WithRegexDefinitions(def))
		if err == nil {
			u.parser = p
		}
	})
	return u.parser
}

// Parse returns display names of the browser and OS, e.g. "Chrome 156" and
// "Windows 10". Unknown parts come back as "Other".
func (u *UserAgents) Parse(ua string) (browser, os string) {
	p := u.get()
	if p == nil || ua == "" {
		return "Other", "Other"
	}
	// ParseUserAgent and ParseOs, not Parse: Parse runs each in a goroutine
	// of its own and waits for them, and on a server whose cores are busy
	// hashing passwords those goroutines wait for a core — milliseconds
	// per sign-in from a new browser, for microseconds of (cached) work.
	// Parse's lock guards only against re-sorting the rules, which this
	// parser never does (UseSort is off).
	u2, o := p.ParseUserAgent(ua), p.ParseOs(ua)
	return join(u2.Family, u2.Major), join(o.Family, o.Major)
}

func join(family, major string) string {
	if major == "" || family == "Other" {
		return family
	}
	return fmt.Sprintf("%s %s", family, major)
}

// Device is one browser that has visited the sign-in pages.
type Device struct {
	ID        string
	TokenHash []byte
	FirstSeen time.Time
	LastSeen  time.Time
	IP        string
	UserAgent string
	Browser   string // e.g. "Chrome 156"
	OS        string // e.g. "Windows 10"
	// CopyOf, on a device Recognise just created, is the device whose
	// superseded cookie the browser presented: a trusted browser's cookie
	// was copied (see Rotate). Not stored.
	CopyOf string
}

// Store keeps devices.
type Store interface {
	CreateDevice(ctx context.Context, d *Device) error
	// DeviceByTokenHash returns ErrNotFound when no device has the token.
	DeviceByTokenHash(ctx context.Context, h []byte) (*Device, error)
	TouchDevice(ctx context.Context, id string, at time.Time, ip, ua, browser, os string) error
	// RotateToken replaces the device's token hash old with new if old is
	// still its hash, and reports whether it did: of two browsers holding
	// one token, only the first to use it keeps the device.
	RotateToken(ctx context.Context, id string, old, new []byte) (bool, error)
	// TakeSupersededToken returns the device whose token before its last
	// rotation was h, forgetting that old token ("" when none): each
	// superseded token is reported once.
	TakeSupersededToken(ctx context.Context, h []byte) (string, error)
	// TrustingAccounts lists the accounts that trust the device beyond now.
	TrustingAccounts(ctx context.Context, deviceID string, now time.Time) ([]string, error)
	// UsedBy reports whether a session of the account was ever started on
	// the device (the device is "known to the account").
	UsedBy(ctx context.Context, accountID, deviceID string) (bool, error)
	// MarkUsed records that a session of the account started on the device.
	MarkUsed(ctx context.Context, accountID, deviceID string, at time.Time) error
	// Trust lets the device skip the account's second step until until
	// ("don't ask again on this browser"); the device must be used by the
	// account (MarkUsed) in the same transaction or before.
	Trust(ctx context.Context, accountID, deviceID string, until time.Time) error
	// TrustedUntil returns until when the account trusts the device (the
	// zero time when it does not).
	TrustedUntil(ctx context.Context, accountID, deviceID string) (time.Time, error)
	// Trusted lists the account's devices trusted beyond now.
	Trusted(ctx context.Context, accountID string, now time.Time) ([]Trusted, error)
	// StopTrusting ends the trust of one device ("" for every device).
	StopTrusting(ctx context.Context, accountID, deviceID string) error
	// UsedAt returns when a session of the account last started on the
	// device (the zero time when none ever did).
	UsedAt(ctx context.Context, accountID, deviceID string) (time.Time, error)
	// AccountDevices lists the devices the account has been used on, the
	// most recently used first.
	AccountDevices(ctx context.Context, accountID string) ([]AccountDevice, error)
	// RenameDevice sets the holder's name for one of the account's
	// devices; it reports whether the account has that device.
	RenameDevice(ctx context.Context, accountID, deviceID, name string) (bool, error)
	// ForgetDevice makes the device new to the account again: its trust
	// and name go, and its cookie no longer counts as "known".
	ForgetDevice(ctx context.Context, accountID, deviceID string) error
}

// AccountDevice is a device as one account knows it: the browser, the
// holder's name for it, when the account first and last used it, and
// until when it is trusted to skip the second step.
type AccountDevice struct {
	Device
	Name         string
	FirstUsed    time.Time
	LastUsed     time.Time
	TrustedUntil time.Time
}

// Trusted is a device an account lets skip its second step.
type Trusted struct {
	Device
	Until time.Time
}

// ErrNotFound is returned by a Store for an unknown device token.
var ErrNotFound = errors.New("device: not found")

// HashToken returns the stored form of a device token.
func HashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// maxUserAgent bounds what is stored of a User-Agent header.
const maxUserAgent = 512

// Devices recognises returning browsers by their device cookie.
type Devices struct {
	Store      Store
	UserAgents *UserAgents
	Clock      func() time.Time // nil means time.Now
}

func (d *Devices) now() time.Time {
	if d.Clock != nil {
		return d.Clock().UTC()
	}
	return time.Now().UTC()
}

// List returns the devices the account has used, as it knows them (its
// names, first and last use, trust): the devices page, and next the admin
// API and the console.
func (d *Devices) List(ctx context.Context, accountID string) ([]AccountDevice, error) {
	devs, err := d.Store.AccountDevices(ctx, accountID)
	if err != nil {
		return nil, fmt.Errorf("device: list: %w", err)
	}
	return devs, nil
}

// MaxName bounds a device's name, in characters.
const MaxName = 60

// ErrName is a device name that is too long or is not plain text.
var ErrName = errors.New("device: name too long or not plain text")

// Rename gives one of the account's devices the holder's name for it ("" takes
// the name away). A device the account has not used is ErrNotFound.
func (d *Devices) Rename(ctx context.Context, accountID, deviceID, name string) error {
	name = strings.TrimSpace(name)
	if !utf8.ValidString(name) || utf8.RuneCountInString(name) > MaxName || strings.ContainsFunc(name, unicode.IsControl) {
		return ErrName
	}
	found, err := d.Store.RenameDevice(ctx, accountID, deviceID, name)
	if err != nil {
		return fmt.Errorf("device: rename: %w", err)
	}
	if !found {
		return fmt.Errorf("device: rename: %w", ErrNotFound)
	}
	return nil
}

// Trusted lists the devices the account trusts to skip its second step.
func (d *Devices) Trusted(ctx context.Context, accountID string) ([]Trusted, error) {
	return d.Store.Trusted(ctx, accountID, d.now())
}

// StopTrusting ends the account's trust of a device.
func (d *Devices) StopTrusting(ctx context.Context, accountID, deviceID string) error {
	return d.Store.StopTrusting(ctx, accountID, deviceID)
}

// Rotate gives the device a new token in place of token, the one its
// cookie carried: a trusted browser's cookie changes on each use, so a copy
// taken from it works at most until the browser it was copied from next
// signs in — and if the copy is used first, that browser finds itself new
// again and is asked for the second step. newToken is "" when token was no
// longer the device's (someone else rotated it first).
func (d *Devices) Rotate(ctx context.Context, deviceID, token string) (string, error) {
	newToken := random.Token()
	ok, err := d.Store.RotateToken(ctx, deviceID, HashToken(token), HashToken(newToken))
	if err != nil || !ok {
		return "", err
	}
	return newToken, nil
}

// ByToken returns the device a device cookie names, without recording the
// visit; ErrNotFound for an unknown or empty token.
func (d *Devices) ByToken(ctx context.Context, token string) (*Device, error) {
	if token == "" {
		return nil, ErrNotFound
	}
	return d.Store.DeviceByTokenHash(ctx, HashToken(token))
}

// Lookup returns the device of a browser's device token, or nil when the
// token names none (no cookie, or one from before the device was pruned):
// a page that only shows the device does not create one.
func (d *Devices) Lookup(ctx context.Context, token string) (*Device, error) {
	dev, err := d.ByToken(ctx, token)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("device: lookup: %w", err)
	}
	return dev, nil
}

// Recognise returns the device for the browser's device token, creating a
// new device (and token) when the token is missing or unknown. newToken is
// non-empty when the caller must set a new device cookie.
func (d *Devices) Recognise(ctx context.Context, token, ip, ua string) (dev *Device, newToken string, err error) {
	now := d.now()
	if len(ua) > maxUserAgent {
		ua = ua[:maxUserAgent]
	}
	ua = strings.ToValidUTF8(ua, "")
	browser, os := d.UserAgents.Parse(ua)
	if token != "" {
		dev, err = d.Store.DeviceByTokenHash(ctx, HashToken(token))
		if err == nil {
			// Write only what changed, or a stale last-seen: a returning
			// browser should not cost a database write on every form.
			if dev.IP != ip || dev.UserAgent != ua || now.Sub(dev.LastSeen) >= time.Minute {
				if err := d.Store.TouchDevice(ctx, dev.ID, now, ip, ua, browser, os); err != nil {
					return nil, "", err
				}
				dev.LastSeen, dev.IP, dev.UserAgent, dev.Browser, dev.OS = now, ip, ua, browser, os
			}
			return dev, "", nil
		}
		if !errors.Is(err, ErrNotFound) {
			return nil, "", err
		}
	}
	var copyOf string
	if token != "" {
		// Not a live token: a superseded one means two browsers held it.
		if copyOf, err = d.Store.TakeSupersededToken(ctx, HashToken(token)); err != nil {
			return nil, "", err
		}
	}
	newToken = random.Token()
	dev = &Device{
		ID: random.ID(), TokenHash: HashToken(newToken), FirstSeen: now, LastSeen: now,
		IP: ip, UserAgent: ua, Browser: browser, OS: os,
	}
	if err := d.Store.CreateDevice(ctx, dev); err != nil {
		return nil, "", err
	}
	dev.CopyOf = copyOf
	return dev, newToken, nil
}
