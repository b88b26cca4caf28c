package web

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

// staticFile is one embedded asset, held in memory with its validator.
type staticFile struct {
	body        []byte
	contentType string
	etag        string
}

// staticTypes are the content types of the assets' kinds. A table, not
// mime.TypeByExtension: its first call reads the system's MIME database
// (/usr/share/mime/globs2, ~2 ms of a start's CPU, on the second core a
// first request was waiting for), and the answer would depend on the
// machine. TestStatic_EveryAssetHasItsType fails for an asset of a kind
// not listed here.
var staticTypes = map[string]string{
	".css":   "text/css; charset=utf-8",
	".js":    "text/javascript; charset=utf-8",
	".svg":   "image/svg+xml",
	".png":   "image/png",
	".ico":   "image/x-icon",
	".woff2": "font/woff2",
	".json":  "application/json",
	".txt":   "text/plain; charset=utf-8",
}

// loadStatic reads the embedded assets once. Serving them from a map
// instead of a file server means no directory listings and no file-system
// path handling for whatever a client puts after /static/ (an invalid
// UTF-8 name used to answer a plain-text 500).
func loadStatic() map[string]staticFile {
	static := map[string]staticFile{}
	fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := staticFS.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		ct := staticTypes[path.Ext(p)]
		if ct == "" {
			ct = "application/octet-stream"
		}
		static[strings.TrimPrefix(p, "static/")] = staticFile{body: b, contentType: ct, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
		return nil
	})
	return static
}

// serveStatic answers GET /static/NAME from the embedded assets; anything
// else under /static/ is the localised 404 page.
func (s *Server) serveStatic(w http.ResponseWriter, r *http.Request) {
	f, ok := s.assets().static[strings.TrimPrefix(r.URL.Path, "/static/")]
	if !ok {
		s.errorPage(w, r, http.StatusNotFound, "error.not_found")
		return
	}
	h := w.Header()
	h.Set("Content-Type", f.contentType)
	h.Set("Cache-Control", "public, max-age=3600")
	h.Set("ETag", f.etag)
	if r.Header.Get("If-None-Match") == f.etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Write(f.body)
}
