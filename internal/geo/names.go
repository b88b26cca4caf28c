package geo

import (
	"golang.org/x/text/language"
	"golang.org/x/text/language/display"
)

// The two languages the interface ships in are looked up once; other
// languages are resolved per call, which is rare enough not to matter.
var (
	englishRegions  = display.Regions(language.English)
	japaneseRegions = display.Regions(language.Japanese)
)

// regionNamer returns the region namer for lang, falling back to English
// for a tag that is empty, malformed or has no CLDR data, because a page
// must always be able to name the country somehow.
func regionNamer(lang string) display.Namer {
	switch lang {
	case "en", "":
		return englishRegions
	case "ja":
		return japaneseRegions
	}
	tag, err := language.Parse(lang)
	if err != nil {
		return englishRegions
	}
	if n := display.Regions(tag); n != nil {
		return n
	}
	return englishRegions
}

// isJapanese reports whether lang asks for Japanese, including regional
// tags such as "ja-JP", which changes the order Display uses.
func isJapanese(lang string) bool {
	if lang == "ja" {
		return true
	}
	tag, err := language.Parse(lang)
	if err != nil {
		return false
	}
	base, _ := tag.Base()
	return base.String() == "ja"
}

// CountryName returns the name of the country with ISO 3166-1 alpha-2 code
// code in lang ("en", "ja" or any BCP 47 tag), e.g. "JP" gives "Japan" or
// "日本". Names come from the CLDR tables in golang.org/x/text rather than
// from the geolocation database so that they do not depend on which
// database, or which languages in it, the operator installed. A code
// without a name is returned unchanged, so the page still shows something.
func CountryName(code, lang string) string {
	if code == "" {
		return ""
	}
	region, err := language.ParseRegion(code)
	if err != nil {
		return code
	}
	name := regionNamer(lang).Name(region)
	if name == "" || region.String() == "ZZ" {
		// CLDR names ZZ "Unknown Region"; showing that text is worse
		// than the code a reader can at least look up.
		return code
	}
	return name
}

// Display formats the place for a sentence such as "Signed in from …":
// "Tokyo, Japan" in English and "日本、東京" in Japanese, where addresses run
// from the largest unit to the smallest. A place with only a country or
// only a city shows just that, and an unknown place gives "" so that the
// caller can leave the line out.
func (p Place) Display(lang string) string {
	ja := isJapanese(lang)
	city := p.City
	if ja && p.CityJA != "" {
		city = p.CityJA
	}
	if city == "" {
		city = p.CityJA // better a Japanese name than none
	}
	country := ""
	if p.Country != "" {
		country = CountryName(p.Country, lang)
	}
	switch {
	case country == "":
		return city
	case city == "" || city == country:
		// City-states ("Singapore, Singapore") read better once.
		return country
	case ja:
		return country + "、" + city
	default:
		return city + ", " + country
	}
}
