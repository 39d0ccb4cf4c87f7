package screen

import (
	"errors"
	"math"
	"math/bits"
	"slices"
	"sort"
	"sync"
	"sync/atomic"

	"puente/internal/names"
)

// Candidate is one list entry ranked against a query.
type Candidate struct {
	List        string       `json:"list"`
	ID          string       `json:"id"`
	Type        string       `json:"type"`
	Name        string       `json:"name"`         // the entry's primary name
	MatchedName string       `json:"matched_name"` // the name or alias that scored best
	Score       float64      `json:"score"`
	Match       bool         `json:"match"` // at or above the default threshold
	BirthYears  []int        `json:"birth_years,omitempty"`
	Explanation []names.Part `json:"explanation"`
	// Agencies, when set, are the only agencies that may see it (Entry).
	Agencies []string `json:"-"`
	// form ranks ties: 2 when the matched name is the query as written
	// (accents and case aside), 1 when it has the query's words in the
	// query's order, 0 otherwise.
	form int
}

// sameForm says how closely a listed name follows the query's writing.
func sameForm(q, n names.Name) int {
	if !slices.Equal(q.Tokens, n.Tokens) {
		return 0
	}
	if q.SurnameFirst == n.SurnameFirst && q.Form == n.Form {
		return 2
	}
	return 1
}

// Visible keeps the candidates a user of agency may see; all is set for
// those who read everything (auditors).
func Visible(cs []Candidate, agency string, all bool) []Candidate {
	out := cs[:0:0]
	for _, c := range cs {
		if all || len(c.Agencies) == 0 || slices.Contains(c.Agencies, agency) {
			out = append(out, c)
		}
	}
	return out
}

type indexed struct {
	entry   int32
	name    names.Name
	weights []float64 // of name's tokens
}

// Screener holds the lists in memory with a blocking index: each name
// token is filed under its sound key and its first three letters, so a
// query reaches candidates despite accents, spelling variants and most
// typos, without comparing it to every name.
type Screener struct {
	scratch sync.Pool
	entries []Entry
	names   []indexed
	// single marks the indexed names of one word (a legal form counts as
	// one), kept apart from names
	// so the candidates a query merely touches need not be read.
	single   []bool
	postings map[string][]int32
	df       map[string]int
	// more, when set, returns a second screener whose candidates Screen
	// ranks with these: the lists a node keeps itself (its priority
	// targets), which change while the files' lists do not.
	more func() *Screener
}

// maxPosting bounds how many names one key may contribute when the query
// has rarer keys too: "mohammad" or "garcia" alone would pull in
// thousands.
const maxPosting = 2500

// New indexes entries.
func New(entries []Entry) *Screener {
	s := &Screener{scratch: sync.Pool{New: func() any { return &scratch{} }}, entries: entries, postings: map[string][]int32{}, df: map[string]int{}}
	defer func() {
		for i := range s.names {
			n := &s.names[i]
			n.weights = make([]float64, len(n.name.Tokens))
			for k, t := range n.name.Tokens {
				n.weights[k] = s.weight(t)
			}
		}
	}()
	for i, e := range entries {
		for _, raw := range e.Names {
			n := names.ParseTyped(raw, e.Type)
			if len(n.Tokens) == 0 {
				continue
			}
			id := int32(len(s.names))
			s.names = append(s.names, indexed{entry: int32(i), name: n})
			s.single = append(s.single, len(n.Tokens) == 1 && n.Form == "")
			seen := map[string]bool{}
			for k, tok := range n.Tokens {
				if !seen[tok] {
					s.df[tok]++
				}
				for _, key := range keys(tok, n.Sounds[k]) {
					if !seen[key] {
						seen[key] = true
						s.postings[key] = append(s.postings[key], id)
					}
				}
				seen[tok] = true
			}
		}
	}
	return s
}

// scratch counts hits per indexed name for one query.
type scratch struct {
	mask    []uint32 // which query tokens reached the name (the first 32)
	touched []int32
}

func (sc *scratch) reset(n int) {
	if len(sc.mask) < n {
		sc.mask = make([]uint32, n)
	}
	for _, id := range sc.touched {
		sc.mask[id] = 0
	}
	sc.touched = sc.touched[:0]
}

func (sc *scratch) hit(id int32, tok int) {
	if sc.mask[id] == 0 {
		sc.touched = append(sc.touched, id)
	}
	sc.mask[id] |= 1 << uint(min(tok, 31))
}

func (sc *scratch) count(id int32) int { return bits.OnesCount32(sc.mask[id]) }

// Len is the number of entries.
func (s *Screener) Len() int { return len(s.entries) }

// Names is the number of indexed names, aliases included.
func (s *Screener) Names() int { return len(s.names) }

func keys(tok, sound string) []string {
	if len(tok) < 2 {
		return nil
	}
	out := []string{"s:" + sound}
	if len(tok) >= 3 {
		out = append(out, "p:"+tok[:3])
	}
	return out
}

// weight makes rare tokens count more than common ones (inverse document
// frequency, clamped to [0.3, 1.2]).
func (s *Screener) weight(tok string) float64 {
	idf := math.Log(float64(len(s.names)+1) / float64(s.df[tok]+1))
	return math.Max(0.3, math.Min(1.2, idf/8))
}

// Query is one screening request.
type Query struct {
	// Type, when known, is the query's: "individual", or "entity" for a
	// company or organisation. An entry of another type (a vessel, an
	// aircraft, a company for a person) then needs two of the query's
	// words, never one shared token.
	Type  string
	Name  string
	Year  int     // birth year, 0 if unknown
	Limit int     // candidates to return; 10 if 0
	Min   float64 // lowest score to return; 0.5 if 0
}

// Screen ranks the entries against q, best first, one candidate per entry.
func (s *Screener) Screen(q Query) []Candidate {
	if q.Limit <= 0 {
		q.Limit = 10
	}
	if q.Min <= 0 {
		q.Min = 0.5
	}
	qn := names.ParseTyped(q.Name, q.Type)
	if len(qn.Tokens) == 0 {
		return nil
	}
	// Count, for each indexed name, how many query tokens reach it through
	// one of their keys. A name reached by one token of a longer query
	// cannot score well: it is compared only if it has a single token.
	type list struct {
		tok  int
		post []int32
	}
	var lists []list
	for i, tok := range qn.Tokens {
		for _, k := range keys(tok, qn.Sounds[i]) {
			if p := s.postings[k]; len(p) > 0 {
				lists = append(lists, list{i, p})
			}
		}
	}
	sort.Slice(lists, func(a, b int) bool { return len(lists[a].post) < len(lists[b].post) })
	sc := s.scratch.Get().(*scratch)
	defer s.scratch.Put(sc)
	sc.reset(len(s.names))
	for i, l := range lists {
		if i > 0 && len(l.post) > maxPosting {
			break
		}
		for _, id := range l.post {
			sc.hit(id, l.tok)
		}
	}
	need := min(2, len(qn.Tokens))
	wq := make([]float64, len(qn.Tokens))
	for i, t := range qn.Tokens {
		wq[i] = s.weight(t)
	}
	best := map[int32]Candidate{}
	for _, id := range sc.touched {
		if sc.count(id) < need && !s.single[id] {
			continue
		}
		in := &s.names[id]
		e := &s.entries[in.entry]
		if q.Type != "" && e.Type != "" && e.Type != q.Type && sc.count(id) < 2 {
			continue
		}
		// A birth year moves a score by at most +0.05.
		if names.ScoreWeighted(&qn, &in.name, wq, in.weights)+0.05 < q.Min {
			continue
		}
		r := names.CompareWeighted(&qn, &in.name, wq, in.weights).WithYear(q.Year, e.Years)
		if r.Score < q.Min {
			continue
		}
		form := sameForm(qn, in.name)
		if c, ok := best[in.entry]; ok && (c.Score > r.Score || c.Score == r.Score && c.form >= form) {
			continue
		}
		best[in.entry] = Candidate{List: e.List, ID: e.ID, Type: e.Type, Name: e.Name, MatchedName: in.name.Raw,
			Score: r.Score, Match: r.Match, BirthYears: e.Years, Explanation: r.Parts, Agencies: e.Agencies, form: form}
	}
	out := make([]Candidate, 0, len(best))
	for _, c := range best {
		out = append(out, c)
	}
	if s.more != nil {
		if m := s.more(); m != nil {
			out = append(out, m.Screen(q)...)
		}
	}
	sort.Slice(out, func(a, b int) bool {
		if out[a].Score != out[b].Score {
			return out[a].Score > out[b].Score
		}
		if out[a].form != out[b].form {
			// Of two equal scores, the name matched as written first.
			return out[a].form > out[b].form
		}
		if out[a].List != out[b].List {
			return out[a].List < out[b].List
		}
		return out[a].ID < out[b].ID
	})
	if len(out) > q.Limit {
		out = out[:q.Limit]
	}
	return out
}

// Lists loads the lists of a folder once, on first use: a node that never
// screens never pays for them.
type Lists struct {
	dir  string
	once sync.Once
	s    *Screener
	err  error
	own  atomic.Pointer[Screener]
	// ownVersion counts the replacements of the own lists, so what was
	// screened against an older one can be screened again.
	ownVersion atomic.Int64
	mu         sync.Mutex
	watchers   []chan struct{}
}

// ErrNoLists means the node has no lists folder configured.
var ErrNoLists = errors.New("no sanctions lists are configured for this node (set lists_dir in puente.json or PUENTE_LISTS)")

// NewLists returns the lists of dir; "" means none.
func NewLists(dir string) *Lists { return &Lists{dir: dir} }

// Dir is the folder the lists come from.
func (l *Lists) Dir() string { return l.dir }

// Screener loads the lists on first call and returns the screener; it
// screens the node's own lists (SetOwn) too. A node without a lists
// folder screens its own lists alone, once it has some.
func (l *Lists) Screener() (*Screener, error) {
	if l.dir == "" {
		own := l.own.Load()
		if own == nil || own.Len() == 0 {
			return nil, ErrNoLists
		}
		return own, nil
	}
	l.once.Do(func() {
		es, err := Load(l.dir)
		if err != nil {
			l.err = err
			return
		}
		l.s = New(es)
		l.s.more = l.own.Load
	})
	return l.s, l.err
}

// SetOwn replaces the lists the node keeps itself (List set on each
// entry: "targets"), which every screening from now on includes.
func (l *Lists) SetOwn(entries []Entry) {
	l.own.Store(New(entries))
	l.ownVersion.Add(1)
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, w := range l.watchers {
		select {
		case w <- struct{}{}:
		default:
		}
	}
}

// Watch returns a channel that receives after each SetOwn (coalesced):
// a worker that screens what arrives screens it again.
func (l *Lists) Watch() <-chan struct{} {
	w := make(chan struct{}, 1)
	l.mu.Lock()
	l.watchers = append(l.watchers, w)
	l.mu.Unlock()
	return w
}

// OwnVersion counts the calls of SetOwn.
func (l *Lists) OwnVersion() int64 { return l.ownVersion.Load() }
