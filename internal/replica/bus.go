package replica

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"puente/internal/live"
)

// Bus carries the live hub's events and wakes between the replicas of a
// node through PostgreSQL's LISTEN/NOTIFY: what one replica publishes
// (after its commit) reaches the pages open on the others, and a wake for
// the delivery worker reaches whichever replica runs it.
//
// A notification carries only what the hub's events carry (a topic and a
// key, never data a user might not see), on a channel named after the
// node's schema, so that nodes sharing a database do not hear each other.
type Bus struct {
	dsn string
	hub *live.Hub
	log *slog.Logger
	// id tells this replica's own notifications, which PostgreSQL also
	// delivers to it, from the others'.
	id string

	mu      sync.Mutex
	pending map[live.Event]struct{}
	order   []live.Event
	kick    chan struct{}
}

// maxPayload keeps a notification under PostgreSQL's 8,000-byte limit.
const maxPayload = 7000

type message struct {
	From   string      `json:"f"`
	Events [][2]string `json:"e"`
}

// NewBus returns a bus for the node whose store is dsn; Run connects it
// to hub.
func NewBus(dsn string, hub *live.Hub, log *slog.Logger) *Bus {
	if log == nil {
		log = slog.Default()
	}
	return &Bus{dsn: dsn, hub: hub, log: log.With("component", "replica-bus"), id: rand.Text()[:10],
		pending: map[live.Event]struct{}{}, kick: make(chan struct{}, 1)}
}

// forward queues e for the other replicas; the same event queued twice
// before it is sent goes once.
func (b *Bus) forward(e live.Event) {
	b.mu.Lock()
	if _, ok := b.pending[e]; !ok {
		b.pending[e] = struct{}{}
		b.order = append(b.order, e)
	}
	b.mu.Unlock()
	select {
	case b.kick <- struct{}{}:
	default:
	}
}

func (b *Bus) take() []live.Event {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := b.order
	b.order = nil
	clear(b.pending)
	return out
}

// Run connects the hub to the other replicas until ctx ends: it listens
// for their notifications and sends this replica's. A broken connection
// is made again; pages are then told to refresh (live.TopicResync), since
// events may have been missed meanwhile.
func (b *Bus) Run(ctx context.Context) error {
	b.hub.SetForward(b.forward)
	defer b.hub.SetForward(nil)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); b.loop(ctx, "listening", b.listen) }()
	go func() { defer wg.Done(); b.loop(ctx, "notifying", b.send) }()
	wg.Wait()
	return nil
}

// loop runs f on a fresh connection until ctx ends, connecting again
// after a pause whenever f fails.
func (b *Bus) loop(ctx context.Context, what string, f func(context.Context, *pgx.Conn, string) error) {
	last := ""
	for ctx.Err() == nil {
		began := time.Now()
		err := b.session(ctx, f)
		if ctx.Err() != nil {
			return
		}
		if time.Since(began) > 10*time.Second {
			last = "" // it had been working: a new break
		}
		// Logged when the reason changes, not at every attempt.
		if err.Error() != last {
			b.log.Warn("the replicas' event bus broke; connecting again", "while", what, "err", err)
			last = err.Error()
		}
		select {
		case <-ctx.Done():
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func (b *Bus) session(ctx context.Context, f func(context.Context, *pgx.Conn, string) error) error {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	conn, err := pgx.Connect(cctx, b.dsn)
	cancel()
	if err != nil {
		return fmt.Errorf("connecting: %w", err)
	}
	defer conn.Close(context.Background())
	var schema string
	if err := conn.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return fmt.Errorf("reading the schema: %w", err)
	}
	sum := sha256.Sum256([]byte(schema))
	return f(ctx, conn, "puente_"+hex.EncodeToString(sum[:8]))
}

func (b *Bus) listen(ctx context.Context, conn *pgx.Conn, channel string) error {
	if _, err := conn.Exec(ctx, "LISTEN "+channel); err != nil {
		return fmt.Errorf("listening: %w", err)
	}
	// Whatever happened while not listening is unknown: open pages
	// refresh, sleeping workers look for work.
	b.hub.Receive(live.Event{Topic: live.TopicResync})
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return fmt.Errorf("waiting for a notification: %w", err)
		}
		var m message
		if err := json.Unmarshal([]byte(n.Payload), &m); err != nil {
			b.log.Warn("an unreadable notification on the replicas' bus", "err", err)
			continue
		}
		if m.From == b.id {
			continue
		}
		for _, e := range m.Events {
			b.hub.Receive(live.Event{Topic: e[0], Key: e[1]})
		}
	}
}

// gather is how long the sender collects events after the first before
// it notifies: under load one notification carries many events (and the
// same event once), instead of one transaction per event.
const gather = 5 * time.Millisecond

func (b *Bus) send(ctx context.Context, conn *pgx.Conn, channel string) error {
	// A notification need not survive a crash of the database (the
	// replicas resynchronise when they reconnect): its commit need not
	// wait for the disk.
	if _, err := conn.Exec(ctx, `SET synchronous_commit = off`); err != nil {
		return fmt.Errorf("preparing the notifying session: %w", err)
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-b.kick:
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(gather):
		}
		events := b.take()
		for len(events) > 0 {
			m := message{From: b.id}
			size := 0
			for len(events) > 0 && (len(m.Events) == 0 || size+len(events[0].Topic)+len(events[0].Key)+8 < maxPayload) {
				e := events[0]
				events = events[1:]
				m.Events = append(m.Events, [2]string{e.Topic, e.Key})
				size += len(e.Topic) + len(e.Key) + 8
			}
			payload, _ := json.Marshal(m)
			if _, err := conn.Exec(ctx, `SELECT pg_notify($1, $2)`, channel, string(payload)); err != nil {
				// Sent again on the next connection.
				for _, e := range m.Events {
					b.forward(live.Event{Topic: e[0], Key: e[1]})
				}
				for _, e := range events {
					b.forward(e)
				}
				return fmt.Errorf("notifying: %w", err)
			}
		}
	}
}
