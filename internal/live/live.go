// Package live fans out "something changed" events to the open pages of a
// node (server-sent events), and "there is work" wakes to the node's
// workers. Events carry no data a user might not be allowed to see: the
// page re-fetches what changed through its usual, access-checked route.
//
// A node may run as several replicas on one PostgreSQL database: a
// forwarder (SetForward) then carries every event and wake to the other
// replicas, which hand them to their own subscribers with Receive, so a
// page open on one replica hears of a change made through another.
package live

import (
	"sync"
	"time"
)

// Event says that something in a topic changed.
type Event struct {
	// Topic is what changed: "thread", "link", "quarantine".
	Topic string `json:"topic"`
	// Key narrows the topic, for example a thread id.
	Key string `json:"key,omitempty"`
	// Seq is the hub's number for the event, set by Publish: it rises with
	// each event. It is a time in microseconds (or one more than the last
	// number, if that is later), so that numbers from the hubs of two
	// replicas can be compared: a page rendered by one replica and
	// listening on another still knows whether it missed an event.
	Seq uint64 `json:"-"`
}

// TopicWake is the topic under which a forwarder carries wakes (Wake) to
// other replicas: the event's Key is the worker's name. Subscribers never
// see it.
const TopicWake = "wake"

// TopicResync is received when events may have been lost (the link to
// the other replicas broke for a moment): every open page refreshes and
// every worker looks for work.
const TopicResync = "resync"

// Hub delivers events to subscribers. A slow subscriber misses events
// rather than slowing the publisher; pages refresh on the next one.
type Hub struct {
	mu      sync.Mutex
	seq     uint64
	subs    map[chan Event]struct{}
	wakes   map[string]chan struct{}
	working map[string]int // workers running here, by name (Wakes)
	forward func(Event)
}

// NewHub returns an empty hub.
func NewHub() *Hub {
	return &Hub{subs: map[chan Event]struct{}{}, wakes: map[string]chan struct{}{}, working: map[string]int{}}
}

// SetForward has every event published and every wake from now on also
// handed to f (which must not block), to reach the other replicas.
func (h *Hub) SetForward(f func(Event)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.forward = f
}

// Publish sends e to every subscriber without blocking, and to the other
// replicas.
func (h *Hub) Publish(e Event) {
	if f := h.deliver(e); f != nil {
		f(Event{Topic: e.Topic, Key: e.Key})
	}
}

// Receive delivers an event or wake that another replica published, to
// this replica's subscribers and workers only.
func (h *Hub) Receive(e Event) {
	switch e.Topic {
	case TopicWake:
		h.wake(e.Key)
		return
	case TopicResync:
		// Wakes may have been missed too: every worker looks for work.
		h.mu.Lock()
		names := make([]string, 0, len(h.wakes))
		for name := range h.wakes {
			names = append(names, name)
		}
		h.mu.Unlock()
		for _, name := range names {
			h.wake(name)
		}
	}
	h.deliver(e)
}

// deliver hands e to the local subscribers and returns the forwarder.
func (h *Hub) deliver(e Event) func(Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.seq = max(h.seq+1, uint64(time.Now().UnixMicro()))
	e.Seq = h.seq
	for c := range h.subs {
		select {
		case c <- e:
		default:
		}
	}
	return h.forward
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

// Wake tells the worker called name that there is work for it, on
// whichever replica runs it. Wakes do not queue: a worker woken twice
// before it looks works once.
func (h *Hub) Wake(name string) {
	h.wake(name)
	h.mu.Lock()
	f := h.forward
	if h.working[name] > 0 {
		f = nil // the worker runs here: no other replica need hear it
	}
	h.mu.Unlock()
	if f != nil {
		f(Event{Topic: TopicWake, Key: name})
	}
}

func (h *Hub) wake(name string) {
	select {
	case h.wakeChan(name) <- struct{}{}:
	default:
	}
}

// Wakes is the channel on which the worker called name hears Wake, for
// as long as it runs on this replica: until done is called.
func (h *Hub) Wakes(name string) (wakes <-chan struct{}, done func()) {
	c := h.wakeChan(name)
	h.mu.Lock()
	h.working[name]++
	h.mu.Unlock()
	var once sync.Once
	return c, func() {
		once.Do(func() {
			h.mu.Lock()
			h.working[name]--
			h.mu.Unlock()
		})
	}
}

func (h *Hub) wakeChan(name string) chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	c, ok := h.wakes[name]
	if !ok {
		c = make(chan struct{}, 1)
		h.wakes[name] = c
	}
	return c
}
