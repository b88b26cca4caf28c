package httpcore

import (
	"context"
	"net/http"
	"time"
)

// Health is the server's own routes, whatever its front doors: /healthz
// (the process answers) and /readyz (it can serve: its database answers),
// for load balancers and orchestrators, which probe by address (any Host
// is answered, see hostAllowed).
func (s *Server) Health() []Route {
	api := NewJSON()
	return []Route{
		{Method: "GET", Path: "/healthz", Access: Public, Chain: api, Handler: s.healthz},
		{Method: "GET", Path: "/readyz", Access: Public, Chain: api, Handler: s.readyz},
	}
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("ok\n"))
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if s.Ready != nil {
		if err := s.Ready(ctx); err != nil {
			s.Log.WarnContext(r.Context(), "not ready", "err", err)
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte("not ready\n"))
			return
		}
	}
	w.Write([]byte("ready\n"))
}
