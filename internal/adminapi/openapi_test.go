package adminapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"gatehouse/internal/adminapi"
	"gatehouse/internal/apikey"
	"gatehouse/internal/delivery"
	"gatehouse/internal/httpcore"
	"gatehouse/internal/request"
	"gatehouse/internal/signin"
)

// docURL is where the validator files the OpenAPI document.
const docURL = "file:///gatehouse/openapi.json"

// validator checks real answers against the OpenAPI document: the
// operation of the route's method and path, the response of the answer's
// status (or the operation's default), the schema of its JSON body —
// JSON Schema 2020-12, as OpenAPI 3.1 uses, formats asserted. It counts
// which (route, status) it saw, for the coverage check.
type validator struct {
	doc      map[string]any
	compiler *jsonschema.Compiler
	mu       sync.Mutex
	schemas  map[string]*jsonschema.Schema
	seen     map[string]bool // "GET /path 200"
}

func newValidator(t *testing.T) *validator {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(adminapi.OpenAPI, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	res, err := jsonschema.UnmarshalJSON(bytes.NewReader(adminapi.OpenAPI))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	if err := c.AddResource(docURL, res); err != nil {
		t.Fatal(err)
	}
	return &validator{doc: doc, compiler: c, schemas: map[string]*jsonschema.Schema{}, seen: map[string]bool{}}
}

// operation is the document's operation for a route, or nil.
func (v *validator) operation(method, pattern string) map[string]any {
	item, _ := v.doc["paths"].(map[string]any)[pattern].(map[string]any)
	op, _ := item[strings.ToLower(method)].(map[string]any)
	return op
}

// deref follows a local $ref ("#/components/…") in the document.
func (v *validator) deref(node map[string]any) map[string]any {
	ref, ok := node["$ref"].(string)
	if !ok {
		return node
	}
	var cur any = v.doc
	for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
		cur = cur.(map[string]any)[part]
	}
	return cur.(map[string]any)
}

// schema compiles (once) the schema a response's JSON body must have.
func (v *validator) schema(node map[string]any) (*jsonschema.Schema, error) {
	loc := docURL
	if ref, ok := node["$ref"].(string); ok {
		loc += ref
	} else {
		b, _ := json.Marshal(node)
		loc = "file:///gatehouse/inline/" + strconv.Itoa(len(v.schemas)) + ".json"
		inline, _ := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err := v.compiler.AddResource(loc, inline); err != nil {
			return nil, err
		}
	}
	if s, ok := v.schemas[loc]; ok {
		return s, nil
	}
	s, err := v.compiler.Compile(loc)
	if err == nil {
		v.schemas[loc] = s
	}
	return s, err
}

// validate reports what is wrong with an answer of a route, per the
// document; nil when it validates.
func (v *validator) validate(method, pattern string, status int, contentType, body string) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	op := v.operation(method, pattern)
	if op == nil {
		return fmt.Errorf("the document has no operation %s %s", method, pattern)
	}
	responses := op["responses"].(map[string]any)
	resp, ok := responses[strconv.Itoa(status)].(map[string]any)
	if !ok {
		if resp, ok = responses["default"].(map[string]any); !ok {
			return fmt.Errorf("status %d is not documented", status)
		}
	}
	resp = v.deref(resp)
	content, _ := resp["content"].(map[string]any)
	media, ok := content["application/json"].(map[string]any)
	if !ok {
		return fmt.Errorf("status %d: the document gives no application/json body", status)
	}
	if !strings.HasPrefix(contentType, "application/json") {
		return fmt.Errorf("status %d: Content-Type %q", status, contentType)
	}
	sch, err := v.schema(media["schema"].(map[string]any))
	if err != nil {
		return fmt.Errorf("compile the schema: %w", err)
	}
	inst, err := jsonschema.UnmarshalJSON(strings.NewReader(body))
	if err != nil {
		return fmt.Errorf("status %d: not JSON: %w", status, err)
	}
	if err := sch.Validate(inst); err != nil {
		return fmt.Errorf("status %d: %v", status, err)
	}
	v.seen[fmt.Sprintf("%s %s %d", method, pattern, status)] = true
	return nil
}

// covered fails the test unless a success and each of statuses of every
// gated route (and a success of the public ones) were validated.
func (v *validator) covered(t *testing.T, routes []httpcore.Route, statuses ...int) {
	t.Helper()
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, rt := range routes {
		want := []string{"2xx"}
		if rt.Access != httpcore.Public {
			for _, st := range statuses {
				want = append(want, strconv.Itoa(st))
			}
		}
		for _, w := range want {
			found := false
			for k := range v.seen {
				m, p, st := splitSeen(k)
				if m == rt.Method && p == rt.Path && (st == w || (w == "2xx" && st[0] == '2')) {
					found = true
				}
			}
			if !found && !(w == "2xx" && rt.Path == "/api/openapi.json") {
				t.Errorf("no answer %s of %s %s was validated against the document", w, rt.Method, rt.Path)
			}
		}
	}
}

func splitSeen(k string) (method, path, status string) {
	method, rest, _ := strings.Cut(k, " ")
	i := strings.LastIndexByte(rest, ' ')
	return method, rest[:i], rest[i+1:]
}

// check fails the test when an answer of a route does not validate.
func (v *validator) check(t *testing.T, method, pattern string, a answer) {
	t.Helper()
	if err := v.validate(method, pattern, a.status, a.header.Get("Content-Type"), a.body); err != nil {
		t.Errorf("%s %s: the answer does not match the OpenAPI document: %v\n%s", method, pattern, err, a.body)
	}
}

// TestOpenAPI_DescribesTheRouteTable: every /api/ route of the one route
// table is an operation of the document and every operation a route, each
// with the scope the table names; the enumerations are the code's.
func TestOpenAPI_DescribesTheRouteTable(t *testing.T) {
	t.Parallel()
	s := newServer(t, nil)
	v := newValidator(t)
	if v.doc["openapi"] != "3.1.0" {
		t.Fatalf("openapi %v", v.doc["openapi"])
	}
	table := map[string]bool{}
	for _, rt := range s.app.Routes() {
		if !strings.HasPrefix(rt.Path, "/api/") {
			continue
		}
		key := rt.Method + " " + rt.Path
		table[key] = true
		op := v.operation(rt.Method, rt.Path)
		if op == nil {
			t.Errorf("%s is in the route table and not in openapi.json", key)
			continue
		}
		scope, _ := s.app.Admin.Scope(rt.Method, rt.Path)
		sec, _ := json.Marshal(op["security"])
		want := `[{"bearer":["` + string(scope) + `"]}]`
		if scope == "" {
			want = `[]`
		}
		if string(sec) != want {
			t.Errorf("%s: security %s, the table's scope %q", key, sec, scope)
		}
		for code := range op["responses"].(map[string]any) {
			if code != "default" && (len(code) != 3 || code[0] < '1' || code[0] > '5') {
				t.Errorf("%s: response %q", key, code)
			}
		}
	}
	var described []string
	for path, item := range v.doc["paths"].(map[string]any) {
		for method := range item.(map[string]any) {
			if method == "parameters" {
				continue
			}
			key := strings.ToUpper(method) + " " + path
			described = append(described, key)
			if !table[key] {
				t.Errorf("openapi.json describes %s, which the route table does not have", key)
			}
		}
	}
	sort.Strings(described)
	if len(described) != len(table) {
		t.Errorf("%d operations, %d /api/ routes: %v", len(described), len(table), described)
	}
	// The enumerations are the code's lists.
	schemas := v.doc["components"].(map[string]any)["schemas"].(map[string]any)
	enum := func(schema, prop string) []string {
		p := schemas[schema].(map[string]any)["properties"].(map[string]any)[prop].(map[string]any)
		var out []string
		for _, e := range p["enum"].([]any) {
			out = append(out, e.(string))
		}
		return out
	}
	var outcomes, causes []string
	for _, o := range signin.Outcomes {
		outcomes = append(outcomes, string(o))
	}
	for _, c := range request.Causes {
		causes = append(causes, string(c))
	}
	if got := enum("Attempt", "outcome"); !slices.Equal(got, outcomes) {
		t.Errorf("Attempt.outcome %v, signin.Outcomes %v", got, outcomes)
	}
	for _, sp := range [][2]string{{"Attempt", "cause"}, {"Message", "cause"}} {
		if got := enum(sp[0], sp[1]); !slices.Equal(got, append(causes, "")) {
			t.Errorf("%s.%s %v, request.Causes %v and empty", sp[0], sp[1], got, causes)
		}
	}
	var statuses []string
	for _, st := range delivery.Statuses {
		statuses = append(statuses, string(st))
	}
	if got := enum("Delivery", "status"); !slices.Equal(got, statuses) {
		t.Errorf("Delivery.status %v, delivery.Statuses %v", got, statuses)
	}
	if got, want := enum("Delivery", "kind"), []string{string(delivery.SET), string(delivery.WebhookJSON), string(delivery.BackchannelLogout)}; !slices.Equal(got, want) {
		t.Errorf("Delivery.kind %v, want %v", got, want)
	}
	bearer := v.doc["components"].(map[string]any)["securitySchemes"].(map[string]any)["bearer"].(map[string]any)
	for _, sc := range apikey.Scopes {
		if !strings.Contains(bearer["description"].(string), string(sc)) {
			t.Errorf("the security scheme does not list %s", sc)
		}
	}
}

// TestOpenAPI_ValidatorRefusesWhatTheDocumentDoesNot: the validation is
// real — an extra field (a password hash), a missing one, a wrong type, an
// undocumented status and a malformed time all fail.
func TestOpenAPI_ValidatorRefusesWhatTheDocumentDoesNot(t *testing.T) {
	t.Parallel()
	v := newValidator(t)
	good := `{"account":{"id":"a","email":"x@example.test","status":"active","language":"en","phone_confirmed":false,"password_compromised":false,"created_at":"2026-01-02T03:04:05Z","confirmed_at":null,"password_changed_at":null}}`
	if err := v.validate("GET", "/api/admin/accounts/{id}", 200, "application/json", good); err != nil {
		t.Fatalf("a good answer: %v", err)
	}
	for what, body := range map[string]string{
		"a password hash":  strings.Replace(good, `"id":"a"`, `"id":"a","password_hash":"$argon2id$x"`, 1),
		"no email":         strings.Replace(good, `"email":"x@example.test",`, ``, 1),
		"a status unknown": strings.Replace(good, `"active"`, `"deleted"`, 1),
		"a number as id":   strings.Replace(good, `"id":"a"`, `"id":7`, 1),
		"a bad time":       strings.Replace(good, `2026-01-02T03:04:05Z`, `yesterday`, 1),
	} {
		if err := v.validate("GET", "/api/admin/accounts/{id}", 200, "application/json", body); err == nil {
			t.Errorf("%s validated", what)
		}
	}
	if err := v.validate("GET", "/api/admin/accounts/{id}", 200, "text/html", good); err == nil {
		t.Error("an HTML answer validated")
	}
	if err := v.validate("GET", "/api/admin/accounts/{id}", 404, "application/json", good); err == nil {
		t.Error("an account as a 404's body validated")
	}
	if err := v.validate("GET", "/api/admin/nothing", 200, "application/json", good); err == nil {
		t.Error("an undocumented route validated")
	}
	if err := v.validate("POST", "/api/admin/clients", 201, "application/json", `{"client":null,"client_secret":"s"}`); err == nil {
		t.Error("a created client without the client validated")
	}
}

// TestOpenAPI_ServedPublicAndCacheable: GET /api/openapi.json needs no
// key, is the embedded document, may be cached, and answers 304 to its
// ETag.
func TestOpenAPI_ServedPublicAndCacheable(t *testing.T) {
	t.Parallel()
	s := newServer(t, nil)
	a := s.do("GET", "/api/openapi.json", "", nil)
	if a.status != 200 || a.body != string(adminapi.OpenAPI) || !strings.HasPrefix(a.header.Get("Content-Type"), "application/json") ||
		!strings.Contains(a.header.Get("Cache-Control"), "public") || a.header.Get("ETag") == "" {
		t.Fatalf("the document: %d %v", a.status, a.header)
	}
	newValidator(t).check(t, "GET", "/api/openapi.json", a)
	if b := s.do("GET", "/api/openapi.json", "", map[string]string{"If-None-Match": a.header.Get("ETag")}); b.status != http.StatusNotModified || b.body != "" {
		t.Fatalf("with its ETag: %d %q", b.status, b.body)
	}
}
