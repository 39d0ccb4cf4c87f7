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
	// Seq is the hub's number for the event, set by Publish: it rises by
	// one with each event.
	Seq uint64 `json:"-"`
}

// Hub delivers events to subscribers. A slow subscriber misses events
// rather than slowing the publisher; pages refresh on the next one.
type Hub struct {
	mu   sync.Mutex
	seq  uint64
	subs map[chan Event]struct{}
}

// NewHub returns an empty hub.
func NewHub() *Hub { return &Hub{subs: map[chan Event]struct{}{}} }

// Publish sends e to every subscriber without blocking.
func (h *Hub) Publish(e Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.seq++
	e.Seq = h.seq
	for c := range h.subs {
		select {
		case c <- e:
		default:
		}
	}
}

// Seq is the number of the last event published: a page rendered now has
// seen everything up to it.
func (h *Hub) Seq() uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.seq
}

// Subscribe returns a channel of events, the number of the last event
// published before the subscription began, and a function that ends the
// subscription.
func (h *Hub) Subscribe() (<-chan Event, uint64, func()) {
	c := make(chan Event, 64)
	h.mu.Lock()
	h.subs[c] = struct{}{}
	seq := h.seq
	h.mu.Unlock()
	return c, seq, func() {
		h.mu.Lock()
		delete(h.subs, c)
		h.mu.Unlock()
	}
}
