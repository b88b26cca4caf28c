// Package i18n holds every string Gatehouse shows or sends, in English and
// Japanese, and picks the holder's language.
//
// Strings live in one table (messages.go) loaded into a golang.org/x/text
// message catalog. Keys are stable identifiers such as "signin.title"; the
// values are printf formats. A test checks that every key has both
// languages, so a page can never fall back to showing a raw key.
package i18n

import (
	"fmt"
	"sync"
	"time"

	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"golang.org/x/text/message/catalog"
)

// Languages are the supported language codes, the default first.
var Languages = []string{"en", "ja"}

// Catalog is the loaded message catalog.
type Catalog struct {
	// loaded is closed once printers and keys are set (nil: set by New).
	loaded   chan struct{}
	printers map[string]*message.Printer
	matcher  language.Matcher
	keys     map[string]bool
	zones    map[string]*time.Location // default time zone per language
	plain    sync.Map                  // plainKey → the string, for T without arguments
}

// New loads the message table.
func New() *Catalog {
	c := newCatalog()
	c.load()
	return c
}

// NewLoading returns a catalog whose table loads in a goroutine of its
// own; T and Has wait for it. Loading compiles a few thousand printf
// formats — milliseconds of a server's start, which on a second core
// overlap the rest of it; the first message a request needs comes later.
// A broken table (a duplicate key) panics there, ending the process, as
// New's panic ends a start; the tests load it with New.
func NewLoading() *Catalog {
	c := newCatalog()
	c.loaded = make(chan struct{})
	go func() {
		c.load()
		close(c.loaded)
	}()
	return c
}

func newCatalog() *Catalog {
	return &Catalog{matcher: language.NewMatcher([]language.Tag{language.English, language.Japanese})}
}

// load builds the printers and the key set.
func (c *Catalog) load() {
	b := catalog.NewBuilder(catalog.Fallback(language.English))
	all := allMessages()
	keys := make(map[string]bool, len(all))
	for _, m := range all {
		if keys[m.key] {
			panic("i18n: duplicate key " + m.key)
		}
		keys[m.key] = true
		b.SetString(language.English, m.key, m.en)
		b.SetString(language.Japanese, m.key, m.ja)
	}
	printers := map[string]*message.Printer{}
	for _, l := range Languages {
		printers[l] = message.NewPrinter(language.MustParse(l), message.Catalog(b))
	}
	c.printers, c.keys = printers, keys
}

// wait waits until the table is loaded.
func (c *Catalog) wait() {
	if c.loaded != nil {
		<-c.loaded
	}
}

// allMessages is every row of the catalog's tables.
func allMessages() []struct{ key, en, ja string } {
	return append(append(append(append(append([]struct{ key, en, ja string }(nil), messages...), activityMessages...), checkMessages...), whyMessages...), consoleMessages...)
}

// Supported reports whether lang is one of Languages.
func Supported(lang string) bool { return lang == "en" || lang == "ja" }

// Match picks the language for a request: an explicit choice (the switcher's
// cookie) wins, then the browser's Accept-Language, then English.
func (c *Catalog) Match(choice, acceptLanguage string) string {
	if Supported(choice) {
		return choice
	}
	tags, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil || len(tags) == 0 {
		return "en"
	}
	_, i, conf := c.matcher.Match(tags...)
	if conf == language.No {
		return "en"
	}
	return Languages[i]
}

// T returns the string for key in lang, formatted with args.
func (c *Catalog) T(lang, key string, args ...any) string {
	c.wait()
	if !c.keys[key] {
		// A missing key is a programming error; make it visible in tests
		// rather than silently showing an English fallback.
		return fmt.Sprintf("!(%s)", key)
	}
	p, ok := c.printers[lang]
	if !ok {
		lang, p = "en", c.printers["en"]
	}
	if len(args) > 0 {
		return p.Sprintf(key, args...)
	}
	// Most strings a page shows take no arguments: each is formatted once
	// per language (the printer looks the key up and formats it anew on
	// every call, a good part of drawing a page).
	k := plainKey{lang, key}
	if v, ok := c.plain.Load(k); ok {
		return v.(string)
	}
	v := p.Sprintf(key)
	c.plain.Store(k, v)
	return v
}

// plainKey names one string without arguments in one language.
type plainKey struct{ lang, key string }

// Name returns a language's own name for the switcher.
func Name(lang string) string {
	if lang == "ja" {
		return "日本語"
	}
	return "English"
}

// Has reports whether key is in the table.
func (c *Catalog) Has(key string) bool {
	c.wait()
	return c.keys[key]
}
