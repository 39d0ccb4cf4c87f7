// Package live fans out "something changed" events to the open pages of a
// node (server-sent events). Events carry no data a user might not be
// allowed to see: the page re-fetches what changed through its usual,
// access-checked route.
package live

import "sync"

// Event says that something in a topic changed.
type Event struct {
	// Topic is what changed: "thread", "link", "quarantine".
	Topic string `json:"topic"`
	// Key narrows the topic, for example a thread id.
	Key string `json:"key,omitempty"`
}

// Hub delivers events to subscribers. A slow subscriber misses events
// rather than slowing the publisher; pages refresh on the next one.
type Hub struct {
	mu   sync.Mutex
	subs map[chan Event]struct{}
}

// NewHub returns an empty hub.
func NewHub() *Hub { return &Hub{subs: map[chan Event]struct{}{}} }

// Publish sends e to every subscriber without blocking.
func (h *Hub) Publish(e Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.subs {
		select {
		case c <- e:
		default:
		}
	}
}

// Subscribe returns a channel of events and a function that ends the
// subscription.
func (h *Hub) Subscribe() (<-chan Event, func()) {
	c := make(chan Event, 64)
	h.mu.Lock()
	h.subs[c] = struct{}{}
	h.mu.Unlock()
	return c, func() {
		h.mu.Lock()
		delete(h.subs, c)
		h.mu.Unlock()
	}
}
