package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"puente/internal/auth"
	"puente/internal/liaison"
	"puente/internal/live"
)

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain")
	fmt.Fprintln(w, "ok")
}

// readyz answers 200 when the store answers and the partner is connected
// under the same agreement, and 503 otherwise, saying which part is not.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	out := map[string]string{"store": "ok", "link": "connected"}
	status := http.StatusOK
	if err := s.n.DB.Ping(r.Context()); err != nil {
		out["store"], status = "unavailable", http.StatusServiceUnavailable
	}
	st, err := s.n.Link.Status(r.Context())
	switch {
	case err != nil:
		out["link"], status = "unknown", http.StatusServiceUnavailable
	case st.AgreementMismatch != "":
		out["link"], status = "agreement_mismatch", http.StatusServiceUnavailable
	case !st.Connected:
		out["link"], status = "down since "+st.Since.UTC().Format(time.RFC3339), http.StatusServiceUnavailable
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(out)
}

// metricsGuard serves /metrics to scrapers on the node's own machine, and
// elsewhere only with an admin's or auditor's API token.
func (s *Server) metricsGuard(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ip := clientIP(r); ip != "127.0.0.1" && ip != "::1" {
			tok, ok := bearer(r)
			u, err := s.n.Auth.TokenUser(r.Context(), tok)
			if !ok || err != nil || !(u.Can(auth.ManageUsers) || u.Can(auth.ReadAll)) {
				http.Error(w, "forbidden", http.StatusForbidden)
				return
			}
		}
		h.ServeHTTP(w, r)
	})
}

func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && h[:7] == "Bearer " {
		return h[7:], true
	}
	return "", false
}

// events streams live updates to one signed-in user: only about threads
// that user may see, and quarantine news only to reviewers.
func (s *Server) events(w http.ResponseWriter, r *http.Request, u *auth.User) {
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, "retry: 2000\n\n")
	if err := rc.Flush(); err != nil {
		return
	}
	ch, stop := s.n.Hub.Subscribe()
	defer stop()
	ping := time.NewTicker(15 * time.Second)
	defer ping.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-ping.C:
			fmt.Fprint(w, ": ping\n\n")
		case e := <-ch:
			name, key, ok := s.visibleEvent(r, u, e)
			if !ok {
				continue
			}
			data, _ := json.Marshal(map[string]string{"key": key})
			fmt.Fprintf(w, "event: %s\ndata: %s\n\n", name, data)
		}
		if err := rc.Flush(); err != nil {
			return
		}
	}
}

func (s *Server) visibleEvent(r *http.Request, u *auth.User, e live.Event) (string, string, bool) {
	switch e.Topic {
	case "thread":
		return "thread", e.Key, u.Can(auth.LiaisonRead) && s.n.Liaison.CanSee(r.Context(), u, e.Key)
	case "stream":
		if id, ok := liaison.ThreadOfStream(e.Key); ok {
			return "thread", id, u.Can(auth.LiaisonRead) && s.n.Liaison.CanSee(r.Context(), u, id)
		}
	case "link":
		return "link", "", true
	case "quarantine":
		return "quarantine", "", u.Can(auth.ReviewQuarantine)
	case "alarm":
		return "alarm", "", true
	case "match":
		return "match", "", u.Can(auth.Screen)
	case "finintel":
		return "finintel", e.Key, u.Can(auth.FinIntelRead) && s.n.FinIntel.CanSee(r.Context(), u, e.Key)
	case "trust":
		return "audit", "", u.Can(auth.AuditLog)
	case "access":
		// A partner's access report about one of our envelopes: refresh
		// that thread for those who may see it.
		if id, ok := s.n.Liaison.ThreadOfEnvelope(r.Context(), e.Key); ok {
			return "thread", id, u.Can(auth.LiaisonRead) && s.n.Liaison.CanSee(r.Context(), u, id)
		}
		if id, ok := s.n.FinIntel.DisclosureOfEnvelope(r.Context(), e.Key); ok {
			return "finintel", "d:" + id, u.Can(auth.FinIntelRead) && s.n.FinIntel.CanSee(r.Context(), u, "d:"+id)
		}
	}
	return "", "", false
}
