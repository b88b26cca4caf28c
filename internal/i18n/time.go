package i18n

import (
	"fmt"
	"time"
	_ "time/tzdata" // zones work on machines without a zoneinfo database
)

// Zone is a time zone a holder can choose, with its name in each language.
type Zone struct {
	ID     string // IANA name
	En, Ja string
}

// Zones are the time zones offered on the account page: the places most
// holders of a Japanese or English-language service live in. The list is
// short on purpose — a select of 400 zones helps nobody — and any of them
// can be set as a language's default in the configuration.
var Zones = []Zone{
	{"Asia/Tokyo", "Japan time", "日本時間"},
	{"UTC", "UTC", "UTC"},
	{"Asia/Seoul", "Korea time", "韓国時間"},
	{"Asia/Shanghai", "China time", "中国時間"},
	{"Asia/Taipei", "Taiwan time", "台湾時間"},
	{"Asia/Hong_Kong", "Hong Kong time", "香港時間"},
	{"Asia/Singapore", "Singapore time", "シンガポール時間"},
	{"Asia/Bangkok", "Thailand time", "タイ時間"},
	{"Asia/Kolkata", "India time", "インド時間"},
	{"Asia/Dubai", "Gulf time (Dubai)", "ドバイ時間"},
	{"Australia/Sydney", "Sydney time", "シドニー時間"},
	{"Pacific/Auckland", "New Zealand time", "ニュージーランド時間"},
	{"Pacific/Honolulu", "Hawaii time", "ハワイ時間"},
	{"America/Los_Angeles", "US Pacific time", "米国太平洋時間"},
	{"America/Denver", "US Mountain time", "米国山岳部時間"},
	{"America/Chicago", "US Central time", "米国中部時間"},
	{"America/New_York", "US Eastern time", "米国東部時間"},
	{"America/Sao_Paulo", "Brasília time", "ブラジリア時間"},
	{"Europe/London", "UK time", "英国時間"},
	{"Europe/Paris", "Central European time", "中央ヨーロッパ時間"},
	{"Europe/Moscow", "Moscow time", "モスクワ時間"},
}

// zoneLocations are the Zones, loaded once: time.LoadLocation parses the
// zone data on every call, and a holder's zone is needed on every page and
// message that shows a time.
var zoneLocations = func() map[string]*time.Location {
	m := make(map[string]*time.Location, len(Zones))
	for _, z := range Zones {
		if loc, err := time.LoadLocation(z.ID); err == nil {
			m[z.ID] = loc
		}
	}
	return m
}()

// KnownZone reports whether id is one of Zones.
func KnownZone(id string) bool {
	for _, z := range Zones {
		if z.ID == id {
			return true
		}
	}
	return false
}

// ZoneName returns a zone's name in lang: "日本時間", "US Eastern time", or
// the IANA name for a zone not in Zones.
func ZoneName(lang, id string) string {
	for _, z := range Zones {
		if z.ID == id {
			if lang == "ja" {
				return z.Ja
			}
			return z.En
		}
	}
	return id
}

// SetDefaultZones sets the time zone used for each language's readers
// until they choose their own (configuration: time_zone.ja, time_zone.en).
// A language without one uses UTC.
func (c *Catalog) SetDefaultZones(zones map[string]*time.Location) {
	c.zones = zones
}

// Zone returns the location for a reader of lang who chose tz (one of
// Zones; "" or anything else: the language's default).
func (c *Catalog) Zone(lang, tz string) *time.Location {
	if loc := zoneLocations[tz]; loc != nil {
		return loc
	}
	if loc := c.zones[lang]; loc != nil {
		return loc
	}
	return time.UTC
}

var enMonths = [...]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// Time writes t the way a reader of lang expects, in loc, naming the zone so
// nobody has to guess: "2026年11月28日 10:26（日本時間）" or
// "28 Nov 2026, 10:26 (Japan time)".
func (c *Catalog) Time(lang string, t time.Time, loc *time.Location) string {
	if loc == nil {
		loc = time.UTC
	}
	l := t.In(loc)
	zone := ZoneName(lang, loc.String())
	if lang == "ja" {
		return fmt.Sprintf("%d年%d月%d日 %d:%02d（%s）", l.Year(), int(l.Month()), l.Day(), l.Hour(), l.Minute(), zone)
	}
	return fmt.Sprintf("%d %s %d, %02d:%02d (%s)", l.Day(), enMonths[l.Month()-1], l.Year(), l.Hour(), l.Minute(), zone)
}

// Wait says how long to wait, rounded up to what a person would say:
// seconds under a minute, minutes under an hour, then hours and minutes.
func (c *Catalog) Wait(lang string, d time.Duration) string {
	secs := int((d + time.Second - 1) / time.Second)
	ja := lang == "ja"
	switch {
	case secs < 60:
		if ja {
			return fmt.Sprintf("%d秒", secs)
		}
		return plural(secs, "second")
	case secs < 3600:
		m := (secs + 59) / 60
		if ja {
			return fmt.Sprintf("%d分", m)
		}
		return plural(m, "minute")
	}
	m := (secs + 59) / 60
	h, m := m/60, m%60
	if ja {
		if m == 0 {
			return fmt.Sprintf("%d時間", h)
		}
		return fmt.Sprintf("%d時間%d分", h, m)
	}
	if m == 0 {
		return plural(h, "hour")
	}
	return plural(h, "hour") + " " + plural(m, "minute")
}

// plural writes n and an English unit, singular for one.
func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}
