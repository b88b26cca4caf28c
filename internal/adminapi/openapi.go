package adminapi

import (
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"net/http"
)

// OpenAPI is the OpenAPI 3.1 document of every /api/ route of the route
// table: its operations, the scope each needs, and the schema of every
// answer's body, errors included. It is written by hand beside the table;
// TestOpenAPI_DescribesTheRouteTable holds the two together, and every
// route's real answers are validated against it.
//
//go:embed openapi.json
var OpenAPI []byte

// openAPIETag names this build's document, for conditional requests.
var openAPIETag = func() string {
	h := sha256.Sum256(OpenAPI)
	return `"` + base64.RawURLEncoding.EncodeToString(h[:12]) + `"`
}()

// openAPI: GET /api/openapi.json — the document, public and cacheable: it
// changes only with the binary.
func (d *Door) openAPI(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Cache-Control", "public, max-age=3600")
	h.Set("ETag", openAPIETag)
	if r.Header.Get("If-None-Match") == openAPIETag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", "application/json")
	w.Write(OpenAPI)
}
