// Package area is the contract between a work area of the agreement
// (liaison, financial intelligence, matching, and the areas to come) and
// the node that runs it. An area is one package, internal/<area>, whose
// Open builds it from the node's shared foundations (Deps). It plugs in by
// one line in node.Areas; everything else is discovered by looping over
// that list and asking each area for the optional interfaces below:
//
//   - Kinds: the link kinds it receives, and their handlers;
//   - Federation: routes the partner calls directly, behind the link;
//   - Worker: a background loop, run under the node's errgroup;
//   - Events: which of its live events a user may see;
//   - Figures: its reciprocity figures, computed from signed facts;
//   - Work: the tasks waiting for a user, for the home page;
//   - Seeder: its part of the two-node demo.
//
// Its HTTP faces register themselves by the area's name with the api and
// web packages (api.Register, web.Register); only areas in the node's list
// are mounted. docs/architecture.md, "How to add a work area", lists every
// place an area touches.
package area

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"puente/internal/agreement"
	"puente/internal/auth"
	"puente/internal/fault"
	"puente/internal/identity"
	"puente/internal/link"
	"puente/internal/live"
	"puente/internal/screen"
	"puente/internal/store"
	"puente/internal/trust"
	"puente/internal/trustlog"
)

// Area is one work area running on a node.
type Area interface {
	// Name is the area's short name: its package name, the prefix of its
	// link kinds and of its routes ("finintel").
	Name() string
}

// Deps are the shared foundations an area is built on.
type Deps struct {
	Self, Partner string
	DB            *store.DB
	Link          *link.Link
	Hub           *live.Hub
	Log           *trustlog.Log
	Trust         *trust.Service
	Agreement     *agreement.Agreement
	// AgreementHash is the hex SHA-256 of the signed agreement the node
	// runs under.
	AgreementHash string
	// Identity holds the node's keys: an area signs a record meant to be
	// verified offline with them (identity.SignRecord).
	Identity *identity.Identity
	Lists    *screen.Lists
	Logger   *slog.Logger
	// MatchQuota is the operator's cap on the blind evaluations the node
	// answers per day (configuration match_quota; 0: the agreement's).
	MatchQuota int
	// MatchBulkQuota is the operator's cap on the cross-match evaluations
	// it answers per day (configuration match_bulk_quota).
	MatchBulkQuota int
	// Opened are the areas opened before this one, in node.Areas order:
	// an area may build on an earlier one (area.Find[T](d.Opened)).
	Opened Opened
}

// Opened is a list of areas that is a Holder.
type Opened []Area

// Areas returns the list.
func (o Opened) Areas() []Area { return o }

// Builder builds an area for one node: each area package's Open.
type Builder func(Deps) (Area, error)

// Open builds the areas of one node in order and registers the kinds of
// each (Kinds) on d.Link.
func Open(d Deps, builders []Builder) ([]Area, error) {
	var out []Area
	for _, build := range builders {
		d.Opened = out
		a, err := build(d)
		if err != nil {
			return nil, fmt.Errorf("opening a work area: %w", err)
		}
		if k, ok := a.(Kinds); ok {
			for _, kind := range k.Kinds() {
				d.Link.Handle(kind.Kind, kind.Version, kind.Handler)
			}
		}
		if f, ok := a.(Federation); ok {
			for pattern, h := range f.FederationRoutes() {
				d.Link.HandleFederation(pattern, h)
			}
		}
		out = append(out, a)
	}
	return out, nil
}

// Kind is one link kind an area receives.
type Kind struct {
	Kind    string
	Version int
	Handler link.Handler
}

// Kinds is an area that receives envelopes from the partner.
type Kinds interface {
	Kinds() []Kind
}

// Federation is an area that answers the partner directly, beside
// envelopes (a blind evaluation, say): routes such as "POST /fed/v1/…",
// served behind the link's pinned mutual TLS and agreement check.
type Federation interface {
	FederationRoutes() map[string]http.Handler
}

// Worker is an area with background work that must run once per node:
// scheduled steps, sweeps, anything that writes. When the node runs as
// several replicas on one PostgreSQL store, Run runs on the one replica
// that leads (package replica), under a context that ends when it stops
// leading and whose writes are fenced (store.Fence): a worker that acts
// outside the store (sends to the partner) looks at store.Leading first.
// Run returns when ctx ends (nil) or on a failure that should stop the
// node (an error, which the node logs before it shuts down).
type Worker interface {
	Run(ctx context.Context) error
}

// LocalWorker is an area with background work every replica of the node
// does for itself: keeping what it holds in memory (a screening list)
// current. It learns of changes made through other replicas from the live
// hub, whose events cross between replicas. RunLocal returns as Run does.
type LocalWorker interface {
	RunLocal(ctx context.Context) error
}

// Events is an area that publishes live events on the hub. Event reports
// whether e is the area's and u may see it, and under which name and key
// open pages listen for it (data-live="name" or "name:key").
type Events interface {
	Event(ctx context.Context, u *auth.User, e live.Event) (name, key string, ok bool)
}

// Figures is an area with reciprocity figures (its Reciprocity method): one table with a column
// per side, computed from the signed facts both nodes hold, so both nodes
// show the same numbers.
type Figures interface {
	Reciprocity(ctx context.Context, u *auth.User) (*Table, error)
}

// Table is an area's reciprocity figures. Title and row labels are
// translation keys.
type Table struct {
	Area  string `json:"area"`
	Title string `json:"title"`
	// Live is the data-live name that refreshes the table ("" for none).
	Live  string   `json:"-"`
	Sides []string `json:"sides"`
	Rows  []Row    `json:"rows"`
}

// Row is one figure for each side, in the order of Table.Sides.
type Row struct {
	Label string `json:"label"`
	Cells []Cell `json:"cells"`
	// Evidence are the kinds of the log entries behind the figure (none:
	// every entry of the area): what an auditor's export lists with it.
	Evidence []string `json:"evidence,omitempty"`
}

// Cell is one side's value of a figure, already formatted. Key, when set,
// is a translation key that shows it with its unit ("{{.Value}} d"). Bad
// marks a value that misses a commitment.
type Cell struct {
	Value string `json:"value"`
	Key   string `json:"unit,omitempty"`
	Bad   bool   `json:"misses_commitment,omitempty"`
	// Trend is the figure per month over the last twelve, oldest first
	// (none: the area has no trend for it).
	Trend []int `json:"trend,omitempty"`
}

// Work is an area with tasks waiting for a user: the home page's work
// list. Work returns them, and the data-live name whose events refresh
// them (the same the area's Events uses).
type Work interface {
	Work(ctx context.Context, u *auth.User) (live string, items []WorkItem, err error)
}

// WorkItem is one task: what to do (a translation key), on what (the
// record's own title), where (a link one click from handling it), and by
// when.
type WorkItem struct {
	Key     string    // "ops.work.answer"
	Title   string    // the operation's, thread's or disclosure's title
	Link    string    // "/operations/o/ID"
	Due     time.Time // zero: no deadline
	Overdue bool
	Who     string // who decides or acts, when not the user alone
	Flag    string // a translation key shown as a warning tag ("ops.escalated")
}

// Seeder is an area with synthetic data for the two-node demo. SeedDemo
// runs once on a fresh demo, on the Mexican node's area, with the same
// area of the United States' node as Partner.
type Seeder interface {
	SeedDemo(ctx context.Context, s Seed) error
}

// Seed is what SeedDemo gets: the partner's area and the demo users.
type Seed struct {
	Partner Area
	// User returns a demo user of this node; PartnerUser of the partner's.
	User, PartnerUser func(ctx context.Context, username string) (*auth.User, error)
}

// WaitFor polls cond until it holds, for up to limit: a demo seed waits
// so for what it sent to cross the link before acting on the other side.
func WaitFor(what string, limit time.Duration, cond func() bool) error {
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("seeding: %s did not happen within %s", what, limit)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}

// Holder is anything that holds a node's areas (the node).
type Holder interface {
	Areas() []Area
}

// Find returns the area of type T that h holds, or the zero T.
func Find[T Area](h Holder) T {
	for _, a := range h.Areas() {
		if t, ok := a.(T); ok {
			return t
		}
	}
	var zero T
	return zero
}

// Reciprocity gathers the figures of every area h holds that u may see,
// in the order of the node's areas: the Reciprocity page and its API.
// Both nodes compute each table from the signed facts they both hold.
func Reciprocity(ctx context.Context, h Holder, u *auth.User) ([]*Table, error) {
	// The areas' tables are independent: computed side by side, kept in
	// the areas' order.
	var figs []Figures
	var names []string
	for _, a := range h.Areas() {
		if f, ok := a.(Figures); ok {
			figs, names = append(figs, f), append(names, a.Name())
		}
	}
	tables := make([]*Table, len(figs))
	errs := make([]error, len(figs))
	var wg sync.WaitGroup
	for i, f := range figs {
		wg.Go(func() { tables[i], errs[i] = f.Reciprocity(ctx, u) })
	}
	wg.Wait()
	var out []*Table
	for i, t := range tables {
		if err := errs[i]; err != nil {
			if errors.Is(err, fault.ErrForbidden) {
				continue
			}
			return nil, fmt.Errorf("the %s figures: %w", names[i], err)
		}
		out = append(out, t)
	}
	return out, nil
}

// Months are the n months up to and including now's, oldest first
// ("2026-01"): the axis of a figure's trend.
func Months(now time.Time, n int) []string {
	out := make([]string, n)
	m := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	for i := n - 1; i >= 0; i-- {
		out[i] = m.Format("2006-01")
		m = m.AddDate(0, -1, 0)
	}
	return out
}

// TrendMonths is how many months a Cell's Trend covers.
const TrendMonths = 12

// Trend is a figure counted by month (by["2026-01"]) over months.
func Trend(months []string, by map[string]int) []int {
	out := make([]int, len(months))
	for i, m := range months {
		out[i] = by[m]
	}
	return out
}

// Clock is an area service's clock: the real time, or the one a test (or
// the demo's year of data) sets. Embed it for SetClock and Now.
type Clock struct {
	mu  sync.Mutex
	now func() time.Time
}

// SetClock replaces the clock.
func (c *Clock) SetClock(now func() time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = now
}

// Now is the clock in UTC, to the second.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.now == nil {
		return time.Now().UTC().Truncate(time.Second)
	}
	return c.now().UTC().Truncate(time.Second)
}
