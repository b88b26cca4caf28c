package web

import (
	"log/slog"
	"testing"

	"gatehouse/internal/i18n"
)

// TestAssets_Build builds the assets in line, so that a template that does
// not parse fails here, named, rather than ending a test binary from the
// background goroutine of a server that happened to start.
func TestAssets_Build(t *testing.T) {
	t.Parallel()
	s := &Server{Catalog: i18n.New(), Log: slog.New(slog.DiscardHandler)}
	pages := s.parseTemplates()
	if len(pages) == 0 || pages["error"] == nil {
		t.Fatalf("parsed %d pages, no error page", len(pages))
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
