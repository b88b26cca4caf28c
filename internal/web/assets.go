package web

import "html/template"

// assets is what the pages are drawn from: every page's parsed template,
// the static files, and the busy page per language.
type assets struct {
	pages     map[string]*template.Template
	static    map[string]staticFile
	busyPages map[string][]byte
}

// startAssets starts building the assets in a goroutine of their own, once.
//
// Parsing the templates, hashing the static files and rendering the busy
// pages took about a third of a start with an existing data directory
// (5 ms of 15, more on a loaded machine), and the first request that needs
// them — a page, not a health check — seldom comes in those milliseconds:
// on a machine with a second core the build overlaps the rest of the
// start instead of delaying it.
//
// A template that does not parse is a bug of this build, and must never
// serve. The build panics on it, as it did when it ran in line, and the
// panic — in a goroutine, with no one to recover it — ends the process
// within milliseconds of the start; every page and static file waits for
// the build (assets), so nothing is drawn from a half-built set in between.
// Tests catch it before that: every test that starts a Server builds them
// (TestAssets_Build waits for the build explicitly).
func (s *Server) startAssets() {
	s.assetsOnce.Do(func() {
		s.ready = make(chan struct{})
		go func() {
			pages := s.parseTemplates()
			s.built = &assets{pages: pages, static: loadStatic(), busyPages: s.renderBusyPages(pages)}
			close(s.ready)
		}()
	})
}

// assets returns the built assets, waiting for the build if it is still
// under way (starting it if nothing has).
func (s *Server) assets() *assets {
	s.startAssets()
	<-s.ready
	return s.built
}

// WaitAssets waits until the pages' assets are built: for whoever must know
// the start's work is over (serve resumes the collector then).
func (s *Server) WaitAssets() { s.assets() }
