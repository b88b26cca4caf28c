package brand

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func write(t *testing.T, path string, b []byte) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func pngOf(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	img.Set(0, 0, color.RGBA{R: 0x1f, G: 0x5f, B: 0xbf, A: 0xff})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

const goodSVG = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 40 20">
<defs><linearGradient id="g"><stop offset="0" stop-color="#1f5fbf"/></linearGradient></defs>
<style>rect { stroke: #000 }</style>
<rect width="40" height="20" fill="url(#g)"/><use xlink:href="#g"/>
</svg>`

// TestReadLogo_TypeByContentAndSVGThatCouldRunOrLoadIsRefused: a PNG and
// an SVG are told by their bytes (a PNG named .svg is a PNG); an SVG that
// could run a script or load anything from outside itself, a file of
// another kind, a file too large and a PNG declaring a huge bitmap are
// refused, each with the file named.
func TestReadLogo_TypeByContentAndSVGThatCouldRunOrLoadIsRefused(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := write(t, filepath.Join(dir, "named.svg"), pngOf(t, 64, 32))
	l, err := ReadLogo(p)
	if err != nil || l.ContentType != "image/png" || l.Name != "logo.png" {
		t.Fatalf("PNG: %+v, %v", l, err)
	}
	l, err = ReadLogo(write(t, filepath.Join(dir, "logo.svg"), []byte(goodSVG)))
	if err != nil || l.ContentType != "image/svg+xml" || l.Name != "logo.svg" || string(l.Body) != goodSVG {
		t.Fatalf("SVG: %+v, %v", l, err)
	}
	for _, tc := range []struct{ name, body, want string }{
		{"script", `<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`, "<script> element"},
		{"handler", `<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>`, "event handler (onload"},
		{"foreign", `<svg xmlns="http://www.w3.org/2000/svg"><foreignObject><div/></foreignObject></svg>`, "<foreignObject> element"},
		{"js href", `<svg xmlns="http://www.w3.org/2000/svg"><a href=" java&#x09;script:alert(1)"><rect/></a></svg>`, "script URL"},
		{"external href", `<svg xmlns="http://www.w3.org/2000/svg" xmlns:x="http://www.w3.org/1999/xlink"><image x:href="https://tracker.example/p.png"/></svg>`, `refers to "https://tracker.example/p.png"`},
		{"css url", `<svg xmlns="http://www.w3.org/2000/svg"><rect style="fill: url( 'https://x.example/a.svg#p')"/></svg>`, "loads url("},
		{"import", `<svg xmlns="http://www.w3.org/2000/svg"><style>@import "https://x.example/a.css";</style></svg>`, "imports a stylesheet"},
		{"stylesheet pi", `<?xml-stylesheet href="https://x.example/a.css"?><svg xmlns="http://www.w3.org/2000/svg"/>`, "processing instruction"},
		{"entities", `<!DOCTYPE svg [<!ENTITY a "aaaa">]><svg xmlns="http://www.w3.org/2000/svg"/>`, "declares entities"},
		{"animate handler", `<svg xmlns="http://www.w3.org/2000/svg"><set attributeName="onclick" to="x"/></svg>`, "animates onclick"},
		{"no namespace", `<svg><rect/></svg>`, "neither a PNG nor an SVG"},
		{"html", `<html><body>x</body></html>`, "neither a PNG nor an SVG"},
		{"broken xml", `<svg xmlns="http://www.w3.org/2000/svg"><rect></svg>`, "not a well-formed SVG"},
		{"jpeg", "\xff\xd8\xff\xe0\x00\x10JFIF", "neither a PNG nor an SVG"},
		{"broken png", string(pngSignature) + "garbage", "not a readable PNG"},
		{"huge png", string(pngOf(t, 5000, 1)), "5000×1 pixels"},
		{"too large", `<svg xmlns="http://www.w3.org/2000/svg">` + strings.Repeat("<!-- padding -->", MaxLogo/16) + `</svg>`, "larger than 256 KiB"},
	} {
		p := write(t, filepath.Join(dir, tc.name+".img"), []byte(tc.body))
		_, err := ReadLogo(p)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "brand.logo: ") || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: err %v, want it to name brand.logo, the file and %q", tc.name, err, tc.want)
		}
	}
}

// TestReadTemplates_KnownNamesOnly: page templates under the built-in
// names and mail/message.html are read; dot files are passed over; any
// other name — a misspelt page, a stray file, another file under mail/ —
// is refused with its path, so that no override is silently ignored.
func TestReadTemplates_KnownNamesOnly(t *testing.T) {
	t.Parallel()
	pages := []string{"layout.html", "signin.html", "error.html"}
	dir := t.TempDir()
	write(t, filepath.Join(dir, "signin.html"), []byte("\uFEFF{{define \"content\"}}hi{{end}}"))
	write(t, filepath.Join(dir, "mail", "message.html"), []byte("mail"))
	write(t, filepath.Join(dir, ".git", "HEAD"), []byte("ref"))
	write(t, filepath.Join(dir, ".signin.html.swp"), []byte("x"))
	got, err := ReadTemplates(dir, pages)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Pages) != 1 || got.Pages["signin.html"] != `{{define "content"}}hi{{end}}` || got.Mail != "mail" {
		t.Fatalf("read %+v", got)
	}
	if p := got.Path(MailTemplate); p != filepath.Join(dir, "mail", "message.html") {
		t.Errorf("Path = %s", p)
	}
	for _, tc := range []struct{ file, want string }{
		{"sigin.html", "sigin.html is not a template Gatehouse has"},
		{"README.txt", "README.txt is not a template Gatehouse has"},
		{"mail/welcome.html", "welcome.html is not a template Gatehouse has: the email's HTML part is mail/message.html"},
		{"pages/signin.html", "pages is not a template Gatehouse has"},
	} {
		d := t.TempDir()
		write(t, filepath.Join(d, filepath.FromSlash(tc.file)), []byte("x"))
		_, err := ReadTemplates(d, pages)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "brand.templates: "+d) {
			t.Errorf("%s: err %v, want %q", tc.file, err, tc.want)
		}
	}
	d := t.TempDir()
	write(t, filepath.Join(d, "signin.html"), []byte{0xff, 0xfe, 'x'})
	if _, err := ReadTemplates(d, pages); err == nil || !strings.Contains(err.Error(), "not UTF-8") {
		t.Errorf("binary file: %v", err)
	}
}

// TestContrast_WCAG: the ratios WCAG's formula gives for known pairs.
func TestContrast_WCAG(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		a, b string
		want float64
	}{
		{"#ffffff", "#000000", 21},
		{"#000000", "#ffffff", 21},
		{"#777777", "#777777", 1},
		{"#1f5fbf", "#ffffff", 6.09},
		{"#767676", "#ffffff", 4.54},
	} {
		if got := Contrast(tc.a, tc.b); math.Abs(got-tc.want) > 0.01 {
			t.Errorf("Contrast(%s, %s) = %.3f, want %.2f", tc.a, tc.b, got, tc.want)
		}
	}
	if Contrast("blue", "#ffffff") != 0 {
		t.Error("a non-colour has a contrast")
	}
}
