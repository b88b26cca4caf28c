package web

import (
	"log/slog"
	"testing"

	"gatehouse/internal/i18n"
)

// TestAssets_Build builds the assets in line and parses (and folds) every
// page in every language, so that a template that does not parse fails
// here, named — a server parses each page at its first use.
func TestAssets_Build(t *testing.T) {
	t.Parallel()
	s := &Server{Catalog: i18n.New(), Log: slog.New(slog.DiscardHandler)}
	pages := s.pageTemplates(true)
	if len(pages) == 0 || pages["error"] == nil {
		t.Fatalf("listed %d pages, no error page", len(pages))
	}
	for name := range pages {
		for _, lang := range i18n.Languages {
			if _, err := pages.get(name, lang); err != nil {
				t.Errorf("page %s in %s: %v", name, lang, err)
			}
		}
	}
	for _, lang := range i18n.Languages {
		if len(s.renderBusyPages(pages)[lang]) == 0 {
			t.Errorf("no busy page in %s", lang)
		}
	}
	if len(loadStatic()) == 0 {
		t.Error("no static files")
	}
	if a := s.assets(); a.pages == nil || a.static == nil || a.busyPages == nil {
		t.Errorf("assets() = %+v, want everything built", a)
	}
}

// TestStatic_EveryAssetHasItsType: every embedded asset is served with the
// type of its kind from staticTypes (never the octet-stream fallback, which
// a browser refuses as a stylesheet or script under nosniff).
func TestStatic_EveryAssetHasItsType(t *testing.T) {
	static := loadStatic()
	if len(static) == 0 {
		t.Fatal("no assets")
	}
	for name, f := range static {
		if f.contentType == "application/octet-stream" {
			t.Errorf("%s: no content type for its kind; add it to staticTypes", name)
		}
	}
	if got := static["app.css"].contentType; got != "text/css; charset=utf-8" {
		t.Errorf("app.css: %q", got)
	}
}
