// Package geotest writes small MaxMind-format databases for tests. No real
// geolocation database can be shipped with the code (see package geo), so
// tests build one with exactly the networks they assert on, in either of the
// record shapes geo must read.
package geotest

import (
	"net"
	"net/netip"
	"os"
	"sort"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// Shape selects the record schema and database type written, matching the
// files operators actually install.
type Shape int

const (
	// MaxMind is the GeoLite2/GeoIP2 City schema: nested "country",
	// "registered_country" and "city" maps with localized "names", plus
	// the continent, location and subdivisions a real record carries, so
	// that readers are exercised on skipping what they do not need.
	MaxMind Shape = iota
	// DBIP is the flat schema of DB-IP Lite as repackaged by
	// ip-location-db: "country_code" and, for city files, "city" as a
	// plain string.
	DBIP
)

// DatabaseType is the metadata type written for the shape; geo keys the
// DB-IP attribution off it.
func (s Shape) DatabaseType() string {
	if s == DBIP {
		return "dbip-city-lite"
	}
	return "GeoLite2-City"
}

// Record is what the database says about one network. Empty fields are
// left out of the record, as real databases do.
type Record struct {
	Country string // ISO 3166-1 alpha-2
	City    string // English name
	CityJA  string // Japanese name; MaxMind shape only
	// RegisteredCountry is the country the network is registered in;
	// MaxMind shape only. Set it with an empty Country to test the
	// fallback readers need for networks MaxMind does not place.
	RegisteredCountry string
}

// Write builds a database at path holding records, keyed by CIDR such as
// "203.0.113.0/24" or "2001:db8::/32". The database is IPv6 with the usual
// IPv4 aliases (so IPv4 and IPv4-mapped lookups work as in real files), and
// reserved networks are allowed, because tests use the documentation ranges
// 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24 and 2001:db8::/32, and may
// add a private one to check that geo ignores it. Any failure fails t.
func Write(t testing.TB, path string, shape Shape, records map[string]Record) {
	t.Helper()
	write(t, path, shape, 6, records)
}

// WriteIPv4 is Write for an IPv4-only database, the layout of the
// separate "-ipv4.mmdb" files ip-location-db publishes, which cannot
// answer IPv6 (or IPv4-mapped IPv6) lookups as such.
func WriteIPv4(t testing.TB, path string, shape Shape, records map[string]Record) {
	t.Helper()
	write(t, path, shape, 4, records)
}

func write(t testing.TB, path string, shape Shape, ipVersion int, records map[string]Record) {
	t.Helper()
	tree, err := mmdbwriter.New(mmdbwriter.Options{
		DatabaseType:            shape.DatabaseType(),
		Description:             map[string]string{"en": "geotest " + shape.DatabaseType()},
		Languages:               []string{"en", "ja"},
		IncludeReservedNetworks: true,
		IPVersion:               ipVersion,
		RecordSize:              24,
	})
	if err != nil {
		t.Fatalf("geotest: new tree: %v", err)
	}
	// Insert less specific networks first: mmdbwriter replaces what a
	// network covers, so this order makes a more specific network win
	// whatever the map's iteration order.
	type entry struct {
		cidr   string
		prefix netip.Prefix
	}
	entries := make([]entry, 0, len(records))
	for cidr := range records {
		prefix, err := netip.ParsePrefix(cidr)
		if err != nil {
			t.Fatalf("geotest: network %q: %v", cidr, err)
		}
		entries = append(entries, entry{cidr, prefix.Masked()})
	}
	depth := func(p netip.Prefix) int { // bits in the IPv6 tree
		if p.Addr().Is4() && ipVersion == 6 {
			return p.Bits() + 96
		}
		return p.Bits()
	}
	sort.Slice(entries, func(i, j int) bool {
		if di, dj := depth(entries[i].prefix), depth(entries[j].prefix); di != dj {
			return di < dj
		}
		return entries[i].cidr < entries[j].cidr
	})
	for _, e := range entries {
		cidr := e.cidr
		network := &net.IPNet{
			IP:   net.IP(e.prefix.Addr().AsSlice()),
			Mask: net.CIDRMask(e.prefix.Bits(), e.prefix.Addr().BitLen()),
		}
		rec := records[cidr]
		var value mmdbtype.Map
		switch shape {
		case MaxMind:
			value = maxMindRecord(rec)
		case DBIP:
			if rec.CityJA != "" || rec.RegisteredCountry != "" {
				t.Fatalf("geotest: %s: the DB-IP shape has no CityJA or RegisteredCountry", cidr)
			}
			value = dbipRecord(rec)
		default:
			t.Fatalf("geotest: unknown shape %d", shape)
		}
		if err := tree.Insert(network, value); err != nil {
			t.Fatalf("geotest: insert %s: %v", cidr, err)
		}
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatalf("geotest: %v", err)
	}
	if _, err := tree.WriteTo(f); err != nil {
		f.Close()
		t.Fatalf("geotest: write %s: %v", path, err)
	}
	if err := f.Close(); err != nil {
		t.Fatalf("geotest: close %s: %v", path, err)
	}
}

func maxMindRecord(rec Record) mmdbtype.Map {
	m := mmdbtype.Map{
		// Fields a real GeoLite2 City record has and geo must skip.
		"continent": mmdbtype.Map{
			"code":       mmdbtype.String("AS"),
			"geoname_id": mmdbtype.Uint32(6255147),
			"names":      mmdbtype.Map{"en": mmdbtype.String("Asia"), "ja": mmdbtype.String("アジア")},
		},
		"location": mmdbtype.Map{
			"accuracy_radius": mmdbtype.Uint16(50),
			"latitude":        mmdbtype.Float64(35.6893),
			"longitude":       mmdbtype.Float64(139.6899),
			"time_zone":       mmdbtype.String("Asia/Tokyo"),
		},
		"subdivisions": mmdbtype.Slice{mmdbtype.Map{
			"iso_code": mmdbtype.String("13"),
			"names":    mmdbtype.Map{"en": mmdbtype.String("Tokyo")},
		}},
	}
	if rec.Country != "" {
		m["country"] = mmdbtype.Map{
			"geoname_id": mmdbtype.Uint32(1861060),
			"iso_code":   mmdbtype.String(rec.Country),
			"names":      mmdbtype.Map{"en": mmdbtype.String(rec.Country)},
		}
	}
	if rec.RegisteredCountry != "" {
		m["registered_country"] = mmdbtype.Map{
			"geoname_id": mmdbtype.Uint32(1861060),
			"iso_code":   mmdbtype.String(rec.RegisteredCountry),
		}
	}
	if rec.City != "" || rec.CityJA != "" {
		names := mmdbtype.Map{}
		if rec.City != "" {
			names["en"] = mmdbtype.String(rec.City)
			names["de"] = mmdbtype.String(rec.City)
		}
		if rec.CityJA != "" {
			names["ja"] = mmdbtype.String(rec.CityJA)
		}
		m["city"] = mmdbtype.Map{
			"geoname_id": mmdbtype.Uint32(1850147),
			"names":      names,
		}
	}
	return m
}

func dbipRecord(rec Record) mmdbtype.Map {
	m := mmdbtype.Map{}
	if rec.Country != "" {
		m["country_code"] = mmdbtype.String(rec.Country)
	}
	if rec.City != "" {
		m["city"] = mmdbtype.String(rec.City)
		// ip-location-db city files carry these too.
		m["state1"] = mmdbtype.String("")
		m["latitude"] = mmdbtype.Float32(35.6893)
		m["longitude"] = mmdbtype.Float32(139.6899)
	}
	return m
}
