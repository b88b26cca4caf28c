package web

// assets is what the pages are drawn from: every page's parsed template,
// the static files, and the busy page per language.
type assets struct {
	pages     pageSet
	static    map[string]staticFile
	busyPages map[string][]byte
}

// startAssets starts building the assets in a goroutine of their own, once.
//
// Hashing the static files, listing the pages and rendering the busy pages
// (which parses the error page) is work the first request that needs them —
// a page, not a health check — seldom comes in time to wait for: on a
// machine with a second core the build overlaps the rest of the start
// instead of delaying it. Every other page is parsed, and folded for its
// language, when first drawn (pageTemplate).
//
// A template that does not parse is a bug of this build, caught by the
// tests (TestAssets_Build parses every page in every language): at run time
// the error page's panics in the build, ending the process, and any other
// page's is a logged 500 for that page.
func (s *Server) startAssets() {
	s.assetsOnce.Do(func() {
		s.ready = make(chan struct{})
		go func() {
			// Each page is parsed (and folded for its language) when first
			// drawn: only the names are listed here.
			pages := s.pageTemplates(true)
			static := loadStatic()
			s.lookStatic(static)
			s.built = &assets{pages: pages, static: static, busyPages: s.renderBusyPages(pages)}
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
