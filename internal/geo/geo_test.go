package geo_test

import (
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"

	"gatehouse/internal/geo"
	"gatehouse/internal/geo/geotest"
)

// records is what both shapes are built from in the tests below; the
// DB-IP shape cannot hold CityJA or RegisteredCountry, so those networks
// are added only to the MaxMind database.
var records = map[string]geotest.Record{
	"203.0.113.0/24":  {Country: "JP", City: "Tokyo", CityJA: "東京"},
	"198.51.100.0/24": {Country: "US"},                     // country only
	"192.0.2.0/25":    {Country: "de", City: "Berlin"},     // lower-case code in the file
	"2001:db8::/32":   {Country: "FR", City: "Paris"},      // IPv6
	"10.0.0.0/8":      {Country: "JP", City: "Office LAN"}, // must never be returned
}

func open(t testing.TB, shape geotest.Shape, recs map[string]geotest.Record) *geo.DB {
	t.Helper()
	path := filepath.Join(t.TempDir(), "test.mmdb")
	geotest.Write(t, path, shape, recs)
	db, err := geo.Open(path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return db
}

func maxMindRecords() map[string]geotest.Record {
	recs := map[string]geotest.Record{
		"192.0.2.128/25": {RegisteredCountry: "GB"}, // no "country": fall back
	}
	for k, v := range records {
		recs[k] = v
	}
	return recs
}

func dbipRecords() map[string]geotest.Record {
	recs := map[string]geotest.Record{}
	for k, v := range records {
		v.CityJA = ""
		recs[k] = v
	}
	return recs
}

func TestLookup(t *testing.T) {
	shapes := []struct {
		name    string
		shape   geotest.Shape
		records map[string]geotest.Record
		tokyoJA string
		// 192.0.2.128/25 has only registered_country in the MaxMind
		// file and is absent from the DB-IP one.
		registered geo.Place
	}{
		{"MaxMind", geotest.MaxMind, maxMindRecords(), "東京", geo.Place{Country: "GB"}},
		{"DBIP", geotest.DBIP, dbipRecords(), "", geo.Place{}},
	}
	for _, s := range shapes {
		t.Run(s.name, func(t *testing.T) {
			db := open(t, s.shape, s.records)
			tests := []struct {
				ip   string
				want geo.Place
			}{
				{"203.0.113.7", geo.Place{Country: "JP", City: "Tokyo", CityJA: s.tokyoJA}},
				{"203.0.113.7:443", geo.Place{Country: "JP", City: "Tokyo", CityJA: s.tokyoJA}},
				{"::ffff:203.0.113.7", geo.Place{Country: "JP", City: "Tokyo", CityJA: s.tokyoJA}},
				{"198.51.100.1", geo.Place{Country: "US"}},
				{"192.0.2.1", geo.Place{Country: "DE", City: "Berlin"}},
				{"2001:db8::1", geo.Place{Country: "FR", City: "Paris"}},
				{"[2001:db8:1::5]:8443", geo.Place{Country: "FR", City: "Paris"}},
				{"192.0.2.200", s.registered},
				// Not in the database.
				{"8.8.8.8", geo.Place{}},
				{"2001:db9::1", geo.Place{}},
				// Private and special addresses, even though 10/8 is in the file.
				{"10.1.2.3", geo.Place{}},
				{"::ffff:10.1.2.3", geo.Place{}},
				{"127.0.0.1", geo.Place{}},
				{"::1", geo.Place{}},
				{"fe80::1%eth0", geo.Place{}},
				{"100.64.0.1", geo.Place{}},
				// Not an address.
				{"", geo.Place{}},
				{"not an ip", geo.Place{}},
				{"203.0.113", geo.Place{}},
			}
			for _, tt := range tests {
				if got := db.Lookup(tt.ip); got != tt.want {
					t.Errorf("Lookup(%q) = %+v, want %+v", tt.ip, got, tt.want)
				}
			}
		})
	}
}

func TestLookupNilAndClosed(t *testing.T) {
	var db *geo.DB
	if got := db.Lookup("203.0.113.7"); got != (geo.Place{}) {
		t.Errorf("nil DB: Lookup = %+v, want zero", got)
	}
	if err := db.Close(); err != nil {
		t.Errorf("nil DB: Close = %v", err)
	}
	if got := db.Attribution(); got != "" {
		t.Errorf("nil DB: Attribution = %q", got)
	}

	path := filepath.Join(t.TempDir(), "test.mmdb")
	geotest.Write(t, path, geotest.MaxMind, records)
	db, err := geo.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := db.Lookup("203.0.113.7"); got.Country != "JP" {
		t.Fatalf("before Close: Lookup = %+v", got)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if got := db.Lookup("203.0.113.7"); got != (geo.Place{}) {
		t.Errorf("after Close: Lookup = %+v, want zero", got)
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()

	missing := filepath.Join(dir, "missing.mmdb")
	_, err := geo.Open(missing)
	if err == nil || !strings.Contains(err.Error(), missing) || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: err = %v, want one naming %s and matching fs.ErrNotExist", err, missing)
	}
	if err != nil && strings.Count(err.Error(), missing) != 1 {
		t.Errorf("missing file: err = %v names the path more than once", err)
	}

	notDB := filepath.Join(dir, "GeoLite2-City.mmdb")
	if err := os.WriteFile(notDB, []byte("this is a CSV file, not a database\n1.0.0.0,1.0.0.255,AU\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := geo.Open(notDB); err == nil || !strings.Contains(err.Error(), notDB) {
		t.Errorf("not an mmdb: err = %v, want one naming %s", err, notDB)
	}

	empty := filepath.Join(dir, "empty.mmdb")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := geo.Open(empty); err == nil || !strings.Contains(err.Error(), empty) {
		t.Errorf("empty file: err = %v, want one naming %s", err, empty)
	}

	if _, err := geo.Open(""); err == nil {
		t.Error("empty path: err = nil")
	}
}

func TestAttribution(t *testing.T) {
	if got, want := open(t, geotest.DBIP, dbipRecords()).Attribution(), "IP geolocation by DB-IP (https://db-ip.com)"; got != want {
		t.Errorf("DB-IP database: Attribution = %q, want %q", got, want)
	}
	if got := open(t, geotest.MaxMind, records).Attribution(); got != "" {
		t.Errorf("MaxMind database: Attribution = %q, want empty", got)
	}
	// A repackaged file may carry another type string; its name still
	// says where the data came from.
	path := filepath.Join(t.TempDir(), "dbip-city-lite-2026-01.mmdb")
	geotest.Write(t, path, geotest.MaxMind, records)
	db, err := geo.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if got := db.Attribution(); got == "" {
		t.Errorf("%s: Attribution is empty", filepath.Base(path))
	}
}

// TestLookupUnexpectedTypes checks that a field of an unexpected type costs
// that field, not the whole place, and does not panic.
func TestLookupUnexpectedTypes(t *testing.T) {
	tree, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: "odd", IncludeReservedNetworks: true})
	if err != nil {
		t.Fatal(err)
	}
	insert := func(cidr string, v mmdbtype.DataType) {
		_, network, err := net.ParseCIDR(cidr)
		if err != nil {
			t.Fatal(err)
		}
		if err := tree.Insert(network, v); err != nil {
			t.Fatal(err)
		}
	}
	insert("203.0.113.0/24", mmdbtype.Map{
		"country":            mmdbtype.String("Japan"),                       // not a map
		"registered_country": mmdbtype.Map{"iso_code": mmdbtype.Uint32(392)}, // not a string
		"country_code":       mmdbtype.String("jp"),
		"city":               mmdbtype.Map{"names": mmdbtype.Slice{mmdbtype.String("Tokyo")}},
	})
	insert("198.51.100.0/24", mmdbtype.Map{
		"country": mmdbtype.Map{"iso_code": mmdbtype.String("Japan")}, // not a code
		"city":    mmdbtype.Uint16(7),
	})
	insert("192.0.2.0/24", mmdbtype.String("not a map"))
	path := filepath.Join(t.TempDir(), "odd.mmdb")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tree.WriteTo(f); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := geo.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for ip, want := range map[string]geo.Place{
		"203.0.113.1":  {Country: "JP"},
		"198.51.100.1": {},
		"192.0.2.1":    {},
	} {
		if got := db.Lookup(ip); got != want {
			t.Errorf("Lookup(%q) = %+v, want %+v", ip, got, want)
		}
	}
}

func TestCountryName(t *testing.T) {
	tests := []struct{ code, lang, want string }{
		{"JP", "en", "Japan"},
		{"JP", "ja", "日本"},
		{"JP", "ja-JP", "日本"},
		{"jp", "en", "Japan"},
		{"US", "en", "United States"},
		{"US", "ja", "アメリカ合衆国"},
		{"DE", "ja", "ドイツ"},
		{"JP", "", "Japan"},
		{"JP", "not a tag!", "Japan"},
		{"QX", "en", "QX"},
		{"ZZ", "en", "ZZ"},
		{"Japan", "en", "Japan"},
		{"", "en", ""},
	}
	for _, tt := range tests {
		if got := geo.CountryName(tt.code, tt.lang); got != tt.want {
			t.Errorf("CountryName(%q, %q) = %q, want %q", tt.code, tt.lang, got, tt.want)
		}
	}
}

func TestDisplay(t *testing.T) {
	tokyo := geo.Place{Country: "JP", City: "Tokyo", CityJA: "東京"}
	berlin := geo.Place{Country: "DE", City: "Berlin"}
	tests := []struct {
		place      geo.Place
		lang, want string
	}{
		{tokyo, "en", "Tokyo, Japan"},
		{tokyo, "ja", "日本、東京"},
		{tokyo, "ja-JP", "日本、東京"},
		{berlin, "en", "Berlin, Germany"},
		{berlin, "ja", "ドイツ、Berlin"}, // no Japanese name: the English one
		{geo.Place{Country: "US"}, "en", "United States"},
		{geo.Place{Country: "US"}, "ja", "アメリカ合衆国"},
		{geo.Place{Country: "SG", City: "Singapore"}, "en", "Singapore"},
		{geo.Place{City: "Tokyo"}, "en", "Tokyo"},
		{geo.Place{}, "en", ""},
		{geo.Place{}, "ja", ""},
	}
	for _, tt := range tests {
		if got := tt.place.Display(tt.lang); got != tt.want {
			t.Errorf("%+v.Display(%q) = %q, want %q", tt.place, tt.lang, got, tt.want)
		}
	}
}

func TestKnown(t *testing.T) {
	if (geo.Place{}).Known() {
		t.Error("zero Place is Known")
	}
	for _, p := range []geo.Place{{Country: "JP"}, {City: "Tokyo"}, {CityJA: "東京"}} {
		if !p.Known() {
			t.Errorf("%+v is not Known", p)
		}
	}
}

// BenchmarkLookup measures a hit on a city record in each shape, the cost
// paid on every sign-in notice and activity row.
func BenchmarkLookup(b *testing.B) {
	for _, s := range []struct {
		name    string
		shape   geotest.Shape
		records map[string]geotest.Record
	}{
		{"MaxMind", geotest.MaxMind, maxMindRecords()},
		{"DBIP", geotest.DBIP, dbipRecords()},
	} {
		b.Run(s.name, func(b *testing.B) {
			db := open(b, s.shape, s.records)
			if got := db.Lookup("203.0.113.7"); got.City != "Tokyo" {
				b.Fatalf("Lookup = %+v", got)
			}
			b.ReportAllocs()
			for b.Loop() {
				db.Lookup("203.0.113.7")
			}
		})
	}
}

// TestLookupIPv4OnlyFile covers the separate IPv4 files of ip-location-db:
// an IPv4-mapped address must still be found, and an IPv6 one must give the
// zero Place rather than the reader's error.
func TestLookupIPv4OnlyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dbip-country-ipv4.mmdb")
	geotest.WriteIPv4(t, path, geotest.DBIP, map[string]geotest.Record{
		"203.0.113.0/24": {Country: "JP"},
	})
	db, err := geo.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for ip, want := range map[string]geo.Place{
		"203.0.113.9":        {Country: "JP"},
		"::ffff:203.0.113.9": {Country: "JP"},
		"2001:db8::1":        {},
	} {
		if got := db.Lookup(ip); got != want {
			t.Errorf("Lookup(%q) = %+v, want %+v", ip, got, want)
		}
	}
}
