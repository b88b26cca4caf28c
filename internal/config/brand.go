package config

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The service's own look (brand.*): what Load can check from the values
// alone — a colour's spelling, the footer links, that the logo and the
// templates directory exist. What the files hold, and whether the colours
// read well on the pages, is checked when the server is built (package
// brand, web and outbox), so that the start stops either way.

// FooterLink is one entry of brand.footer_links: a label per language
// ("en", "ja") and where it goes.
type FooterLink struct {
	Labels map[string]string
	URL    string
}

// maxFooterLinks and maxFooterLabel bound brand.footer_links: a footer,
// not a site map.
const (
	maxFooterLinks = 10
	maxFooterLabel = 60
)

var hexColour = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

// FooterLinks lists brand.footer_links (checked by Load).
func (c *Config) FooterLinks() []FooterLink {
	links, _ := parseFooterLinks(c.values["brand.footer_links"])
	return links
}

// BrandColor returns a colour key (brand.color, brand.color_dark) in
// lower case, or "" when unset.
func (c *Config) BrandColor(key string) string {
	return strings.ToLower(strings.TrimSpace(c.value(key, Text)))
}

func (c *Config) checkBrand() []error {
	var errs []error
	for _, k := range []string{"brand.color", "brand.color_dark"} {
		if v := strings.TrimSpace(c.values[k]); v != "" && !hexColour.MatchString(v) {
			errs = append(errs, fmt.Errorf("%s: %q is not a colour written #rrggbb (such as #1f5fbf)", k, v))
		}
	}
	if _, err := parseFooterLinks(c.values["brand.footer_links"]); err != nil {
		errs = append(errs, err)
	}
	if p := c.values["brand.logo"]; p != "" {
		if st, err := os.Stat(p); err != nil || !st.Mode().IsRegular() {
			errs = append(errs, fmt.Errorf("brand.logo: %q is not a readable file", p))
		}
	}
	if p := c.values["brand.templates"]; p != "" {
		if st, err := os.Stat(p); err != nil || !st.IsDir() {
			errs = append(errs, fmt.Errorf("brand.templates: %q is not a directory", p))
		}
	}
	return errs
}

// parseFooterLinks reads semicolon-separated LABEL|URL or
// ENGLISH|JAPANESE|URL entries. A URL is https:// (a page elsewhere) or a
// path on this site: never plain http, which a holder's browser would
// leave the TLS of these pages for, nor javascript: or data:.
func parseFooterLinks(v string) ([]FooterLink, error) {
	var links []FooterLink
	for entry := range strings.SplitSeq(v, ";") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		parts := strings.Split(entry, "|")
		for i := range parts {
			parts[i] = strings.TrimSpace(parts[i])
		}
		var en, ja, u string
		switch len(parts) {
		case 2:
			en, ja, u = parts[0], parts[0], parts[1]
		case 3:
			en, ja, u = parts[0], parts[1], parts[2]
		default:
			return nil, fmt.Errorf("brand.footer_links: %q is not LABEL|URL or ENGLISH LABEL|JAPANESE LABEL|URL", entry)
		}
		for _, l := range []string{en, ja} {
			if !footerLabel(l) {
				return nil, fmt.Errorf("brand.footer_links: %q: a label must be 1 to %d characters of text, without control characters", entry, maxFooterLabel)
			}
		}
		if !footerURL(u) {
			return nil, fmt.Errorf("brand.footer_links: %q: %q is neither an https:// URL nor a path on this site such as /why (no user or password, spaces, quotes or angle brackets)", entry, u)
		}
		links = append(links, FooterLink{Labels: map[string]string{"en": en, "ja": ja}, URL: u})
	}
	if len(links) > maxFooterLinks {
		return nil, fmt.Errorf("brand.footer_links: %d links; at most %d", len(links), maxFooterLinks)
	}
	return links, nil
}

func footerLabel(l string) bool {
	n := utf8.RuneCountInString(l)
	return n > 0 && n <= maxFooterLabel && utf8.ValidString(l) && !strings.ContainsFunc(l, func(r rune) bool {
		return unicode.IsControl(r) || unicode.Is(unicode.Cf, r)
	})
}

// footerURL reports whether u may be a footer link: an https URL fit to
// print (plainURL), or a path on this site that stays one in a browser
// (not //host or /\host).
func footerURL(u string) bool {
	if strings.HasPrefix(u, "https://") {
		return plainURL(u)
	}
	return strings.HasPrefix(u, "/") && !strings.HasPrefix(u, "//") && !strings.HasPrefix(u, `/\`) &&
		!strings.ContainsFunc(u, func(r rune) bool {
			return r <= ' ' || r == 0x7f || strings.ContainsRune("\"'<>`\\", r)
		})
}
