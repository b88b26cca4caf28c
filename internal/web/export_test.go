package web

// UnfoldPages has s draw its pages from templates parsed without folding
// the catalog in (foldPage) until restore puts the folded ones back; for
// comparing the two on the same requests, one at a time.
func (s *Server) UnfoldPages() (restore func()) {
	a := s.assets()
	folded := a.pages
	a.pages = s.pageTemplates(false)
	return func() { a.pages = folded }
}
