package web

import (
	"puente/internal/area"
	"strconv"

	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"puente/internal/auth"
	"puente/internal/live"
)

// healthz answers 200 while the process serves. On a node with replicas
// it says which replica answered and which leads.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	if s.n.Elector == nil {
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintln(w, "ok")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"status": "ok", "replica": s.n.Elector.Status()})
}

// readyz answers 200 when this replica can serve its users: its store
// answers and, on a node with replicas, it can reach the node's lease;
// 503 otherwise, saying which part is not. It also says how the link to
// the partner stands and, with replicas, who leads; neither changes the
// answer: a partner's outage must not take the node away from its own
// users behind a load balancer (the outbox waits; puente_link_connected
// is for alerts).
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	s.ready(w, r, false)
}

// readyzLeader is readyz for a load balancer that sends traffic to the
// leading replica only: 200 on the replica that is ready and holds the
// lease (on its own clock), 503 on the others. A node without replicas
// always leads.
func (s *Server) readyzLeader(w http.ResponseWriter, r *http.Request) {
	s.ready(w, r, true)
}

func (s *Server) ready(w http.ResponseWriter, r *http.Request, leader bool) {
	out := map[string]any{"store": "ok"}
	status := http.StatusOK
	if err := s.n.DB.Ping(r.Context()); err != nil {
		out["store"], status = "unavailable", http.StatusServiceUnavailable
	}
	st, err := s.n.Link.Connection(r.Context())
	switch {
	case err != nil:
		out["link"] = "unknown"
	case st.AgreementMismatch != "":
		out["link"] = "agreement_mismatch"
	case !st.Connected:
		out["link"] = "down since " + st.Since.UTC().Format(time.RFC3339)
	default:
		out["link"] = "connected"
	}
	if s.n.Elector != nil {
		rs := s.n.Elector.Status()
		out["replica"] = rs
		if rs.Error != "" || (leader && !rs.Leading) {
			status = http.StatusServiceUnavailable
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(out)
}

// metricsGuard serves /metrics to scrapers on the node's own machine, and
// elsewhere only with an admin's or auditor's API token.
func (s *Server) metricsGuard(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ip := s.clientIP(r); ip != "127.0.0.1" && ip != "::1" {
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
	ch, seq, stop := s.n.Hub.Subscribe()
	defer stop()
	// A page that missed events between its rendering (?since=) or its
	// last event (Last-Event-ID, on a reconnect) and now refreshes every
	// live region once: its state is never staler than the events it
	// missed. The refresh goes through the usual access-checked routes.
	since, err := strconv.ParseUint(r.Header.Get("Last-Event-ID"), 10, 64)
	if err != nil {
		since, err = strconv.ParseUint(r.URL.Query().Get("since"), 10, 64)
	}
	if err == nil && since < seq {
		fmt.Fprintf(w, "id: %d\ndata: {\"name\":\"*\"}\n\n", seq)
		if err := rc.Flush(); err != nil {
			return
		}
	}
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
			// One event type for all: the page matches name and key
			// against its data-live regions, so new areas need no script.
			data, err := json.Marshal(map[string]string{"name": name, "key": key})
			if err != nil {
				return
			}
			fmt.Fprintf(w, "id: %d\ndata: %s\n\n", e.Seq, data)
		}
		if err := rc.Flush(); err != nil {
			return
		}
	}
}

// visibleEvent maps a hub event to the name and key open pages listen
// for, if u may see it: the node's own topics here, the work areas' by
// asking each area (area.Events).
func (s *Server) visibleEvent(r *http.Request, u *auth.User, e live.Event) (string, string, bool) {
	switch e.Topic {
	case live.TopicResync:
		return "*", "", true // events may have been missed: refresh every region
	case "link":
		return "link", "", true
	case "quarantine":
		return "quarantine", "", u.Can(auth.ReviewQuarantine)
	case "alarm":
		return "alarm", "", true
	case "trust":
		return "audit", "", u.Can(auth.AuditLog)
	}
	for _, a := range s.n.Areas() {
		if ev, ok := a.(area.Events); ok {
			if name, key, ok := ev.Event(r.Context(), u, e); ok {
				return name, key, true
			}
		}
	}
	return "", "", false
}
