package brand

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"image/png"
	"io"
	"os"
	"strings"
)

// Logo is the service's logo as it is served: its bytes, content type and
// the name it has under /static/.
type Logo struct {
	Body        []byte
	ContentType string
	// Name is logo.png or logo.svg.
	Name string
}

// MaxLogo is the largest logo file accepted: a logo drawn at the height of
// a line of text needs far less.
const MaxLogo = 256 << 10

// maxLogoSide bounds a PNG's width and height: the browser decodes the
// whole bitmap, and a small file can declare a huge one.
const maxLogoSide = 4096

var pngSignature = []byte("\x89PNG\r\n\x1a\n")

// ReadLogo reads and checks a logo file. Its type is told by its content,
// not its name: a PNG, or an SVG document. An SVG is refused when it could
// run a script or load anything from outside itself — it is served from
// this site, where a browser opening it directly would treat it as a page.
func ReadLogo(path string) (*Logo, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("brand.logo: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxLogo+1))
	if err != nil {
		return nil, fmt.Errorf("brand.logo: %w", err)
	}
	if len(b) > MaxLogo {
		return nil, fmt.Errorf("brand.logo: %s is larger than %d KiB; a logo may be at most %d KiB", path, MaxLogo>>10, MaxLogo>>10)
	}
	if bytes.HasPrefix(b, pngSignature) {
		cfg, err := png.DecodeConfig(bytes.NewReader(b))
		if err != nil {
			return nil, fmt.Errorf("brand.logo: %s is not a readable PNG image: %v", path, err)
		}
		if cfg.Width < 1 || cfg.Height < 1 || cfg.Width > maxLogoSide || cfg.Height > maxLogoSide {
			return nil, fmt.Errorf("brand.logo: %s is %d×%d pixels; at most %d×%d", path, cfg.Width, cfg.Height, maxLogoSide, maxLogoSide)
		}
		return &Logo{Body: b, ContentType: "image/png", Name: "logo.png"}, nil
	}
	text := bytes.TrimLeft(bytes.TrimPrefix(b, []byte("\uFEFF")), " \t\r\n")
	if !bytes.HasPrefix(text, []byte("<")) {
		return nil, fmt.Errorf("brand.logo: %s is neither a PNG nor an SVG image", path)
	}
	if err := checkSVG(b); err != nil {
		return nil, fmt.Errorf("brand.logo: %s: %w", path, err)
	}
	return &Logo{Body: b, ContentType: "image/svg+xml", Name: "logo.svg"}, nil
}

const svgNamespace = "http://www.w3.org/2000/svg"

// checkSVG reports why an SVG document may not be the logo: it does not
// parse as XML, its root is not an svg element, or it holds what could
// run a script (a script or foreignObject element, an event handler, a
// javascript: URL) or load something from outside itself (an href or a
// CSS url() or @import that is not a fragment of the file or an embedded
// image, a stylesheet processing instruction, an entity declaration).
func checkSVG(b []byte) error {
	d := xml.NewDecoder(bytes.NewReader(b))
	root := true
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			if root {
				return errors.New("is neither a PNG nor an SVG image (no svg element)")
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("is not a well-formed SVG document: %v", err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			name := strings.ToLower(tok.Name.Local)
			if root {
				if name != "svg" || tok.Name.Space != svgNamespace {
					return fmt.Errorf("is neither a PNG nor an SVG image (its root element is <%s> in namespace %q; an SVG's is <svg xmlns=%q>)", tok.Name.Local, tok.Name.Space, svgNamespace)
				}
				root = false
			}
			switch name {
			case "script", "foreignobject", "iframe", "object", "embed":
				return fmt.Errorf("has a <%s> element; a logo may not run a script or embed a document", tok.Name.Local)
			}
			for _, a := range tok.Attr {
				if err := checkSVGAttr(tok.Name.Local, a); err != nil {
					return err
				}
			}
		case xml.CharData:
			if err := checkCSS(string(tok)); err != nil {
				return err
			}
		case xml.Directive:
			if s := strings.ToUpper(string(tok)); strings.Contains(s, "ENTITY") || strings.Contains(s, "[") {
				return errors.New("declares entities; a logo may not")
			}
		case xml.ProcInst:
			if !strings.EqualFold(tok.Target, "xml") {
				return fmt.Errorf("has a <?%s?> processing instruction; a logo may not load a stylesheet", tok.Target)
			}
		}
	}
}

func checkSVGAttr(elem string, a xml.Attr) error {
	name, v := strings.ToLower(a.Name.Local), a.Value
	compact := strings.ToLower(strings.Map(func(r rune) rune {
		if r <= ' ' {
			return -1
		}
		return r
	}, v))
	switch {
	case strings.HasPrefix(name, "on"):
		return fmt.Errorf("has an event handler (%s on <%s>); a logo may not run a script", a.Name.Local, elem)
	case strings.Contains(compact, "javascript:") || strings.Contains(compact, "vbscript:"):
		return fmt.Errorf("has a script URL (%s on <%s>); a logo may not run a script", a.Name.Local, elem)
	case name == "attributename" && (strings.HasPrefix(compact, "on") || strings.HasSuffix(compact, "href")):
		return fmt.Errorf("animates %s on <%s>; a logo may not change its handlers or references", v, elem)
	case name == "href" || name == "src":
		if outside(v) {
			return fmt.Errorf("refers to %q (%s on <%s>); a logo may only refer to its own parts (#id) or embed a PNG, JPEG, GIF or WebP image as a data: URL", v, a.Name.Local, elem)
		}
	}
	return checkCSS(v)
}

// checkCSS refuses a stylesheet (an attribute's or a style element's)
// that loads anything: @import, or url() of anything but the file's own
// parts and embedded images.
func checkCSS(s string) error {
	l := strings.ToLower(s)
	if strings.Contains(l, "@import") {
		return errors.New("imports a stylesheet; a logo may not load anything")
	}
	for rest := l; ; {
		i := strings.Index(rest, "url(")
		if i < 0 {
			return nil
		}
		rest = rest[i+len("url("):]
		ref := strings.TrimLeft(rest, " \t\r\n\"'")
		if outside(ref) {
			end := min(len(ref), 40)
			return fmt.Errorf("loads url(%s…); a logo may only refer to its own parts (#id) or embedded images", ref[:end])
		}
	}
}

// outside reports whether a reference leaves the file: anything but a
// fragment (#id) or an image embedded as a data: URL.
func outside(ref string) bool {
	ref = strings.TrimSpace(strings.ToLower(ref))
	if strings.HasPrefix(ref, "#") {
		return false
	}
	for _, t := range []string{"data:image/png", "data:image/jpeg", "data:image/gif", "data:image/webp"} {
		if strings.HasPrefix(ref, t+";") || strings.HasPrefix(ref, t+",") {
			return false
		}
	}
	return true
}
