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
