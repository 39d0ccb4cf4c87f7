package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"

	"puente/internal/identity"
	"puente/internal/match"
	"puente/internal/names"
	"puente/internal/screen"
	"puente/internal/trustlog"
)

// listsDir finds the sanctions lists: --lists, else $PUENTE_LISTS, else
// ../shared/data as in this repository's layout.
func listsDir(flagValue string) string {
	if flagValue != "" {
		return flagValue
	}
	if v := os.Getenv("PUENTE_LISTS"); v != "" {
		return v
	}
	return "../shared/data"
}

func dirExists(d string) bool {
	st, err := os.Stat(d)
	return err == nil && st.IsDir()
}

func cmdScreen(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer) error {
	fs := flags("screen")
	var lists, file string
	var dob, limit int
	var asJSON bool
	var min float64
	fs.StringVar(&lists, "lists", "", "folder holding ofac-sdn/ and un/ (default $PUENTE_LISTS or ../shared/data)")
	fs.IntVar(&dob, "dob", 0, "birth year of the person screened")
	fs.IntVar(&limit, "limit", 10, "candidates per query")
	fs.Float64Var(&min, "min", 0.5, "lowest score shown")
	fs.StringVar(&file, "file", "", "screen one name per line of this file (- for standard input)")
	fs.BoolVar(&asJSON, "json", false, "print JSON: one line per query")
	var typ string
	fs.StringVar(&typ, "type", "", "the query's type, when known: individual, entity, vessel or aircraft")
	var base, token string
	clientFlags(fs, &base, &token)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if (file == "") == (len(pos) == 0) {
		return errors.New(`usage: puente screen "NAME" [--dob YEAR] [--json] [--url URL] | puente screen --file names.txt [--json]`)
	}
	if dob != 0 && (dob < 1900 || dob > 2100) {
		return fmt.Errorf("--dob %d is not a birth year", dob)
	}
	// With --url the running node screens: its lists and its priority
	// targets, as the user's agency may see them; else the lists here.
	remote := false
	fs.Visit(func(f *flag.Flag) { remote = remote || f.Name == "url" })
	var find func(q screen.Query) ([]screen.Candidate, error)
	if remote {
		c, err := newClient(base, token)
		if err != nil {
			return err
		}
		find = func(q screen.Query) ([]screen.Candidate, error) {
			v := url.Values{"name": {q.Name}}
			if q.Type != "" {
				v.Set("type", q.Type)
			}
			if q.Year != 0 {
				v.Set("dob", strconv.Itoa(q.Year))
			}
			var out struct{ Candidates []screen.Candidate }
			err := c.call(ctx, http.MethodGet, "/api/v1/screen?"+v.Encode(), nil, &out)
			return out.Candidates, err
		}
	} else {
		entries, err := screen.Load(listsDir(lists))
		if err != nil {
			return err
		}
		s := screen.New(entries)
		find = func(q screen.Query) ([]screen.Candidate, error) { return s.Screen(q), nil }
	}
	one := func(name string, year int) error {
		cs, err := find(screen.Query{Type: typ, Name: name, Year: year, Limit: limit, Min: min})
		if err != nil {
			return err
		}
		if asJSON {
			if cs == nil {
				cs = []screen.Candidate{}
			}
			b, err := json.Marshal(map[string]any{"query": name, "dob": year, "candidates": cs})
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(stdout, string(b))
			return err
		}
		fmt.Fprintf(stdout, "%s", name)
		if year != 0 {
			fmt.Fprintf(stdout, " (born %d)", year)
		}
		fmt.Fprintln(stdout)
		if len(cs) == 0 {
			fmt.Fprintln(stdout, "  no candidate")
		}
		for _, c := range cs {
			mark := " "
			if c.Match {
				mark = "*"
			}
			fmt.Fprintf(stdout, " %s %.3f  %-8s %-12s %s", mark, c.Score, c.List, c.ID, c.Name)
			if c.MatchedName != c.Name {
				fmt.Fprintf(stdout, "  (as %q)", c.MatchedName)
			}
			fmt.Fprintf(stdout, "\n           %s\n", explain(c.Explanation))
		}
		return nil
	}
	if file == "" {
		return one(strings.Join(pos, " "), dob)
	}
	in := stdin
	if file != "-" {
		f, err := os.Open(file)
		if err != nil {
			return fmt.Errorf("reading names: %w", err)
		}
		defer f.Close()
		in = f
	}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if err := one(line, dob); err != nil {
			return err
		}
	}
	return sc.Err()
}

// explain writes a comparison's parts for people.
func explain(parts []names.Part) string {
	var out []string
	for _, p := range parts {
		switch p.How {
		case names.HowMissing:
			out = append(out, fmt.Sprintf("%s: %s", p.Query, p.How))
		case names.HowExtra:
			out = append(out, fmt.Sprintf("%s: %s", p.Other, p.How))
		case names.HowYear, names.HowYearMiss:
			out = append(out, fmt.Sprintf("%s (%s vs %s)", p.How, p.Query, p.Other))
		case names.HowGeneric:
			out = append(out, fmt.Sprintf("%s: at most %.2f", p.How, p.Score))
		case names.HowLegal:
			q, o := p.Query, p.Other
			if q == "" {
				q = "none"
			}
			if o == "" {
				o = "none"
			}
			out = append(out, fmt.Sprintf("%s %s~%s %.2f", p.How, q, o, p.Score))
		default:
			if p.Query == p.Other {
				out = append(out, fmt.Sprintf("%s: %s", p.Query, p.How))
			} else {
				out = append(out, fmt.Sprintf("%s~%s: %s %.2f", p.Query, p.Other, p.How, p.Score))
			}
		}
	}
	return strings.Join(out, "; ")
}

func cmdNames(args []string, stdout io.Writer) error {
	if len(args) > 0 && args[0] == "eval" {
		return cmdNamesEval(args[1:], stdout)
	}
	if len(args) > 0 && args[0] == "evalset" {
		return cmdNamesEvalset(args[1:], stdout)
	}
	if len(args) == 0 || args[0] != "compare" {
		return errors.New(`usage: puente names compare "NAME A" "NAME B" [--type1 T] [--type2 T] [--json] | puente names compare --pairs FILE.csv | puente names eval | puente names evalset`)
	}
	fs := flags("names compare")
	var pairs, type1, type2, both string
	var asJSON bool
	fs.StringVar(&pairs, "pairs", "", "CSV file with columns name1,name2[,type1,type2] (a header row is skipped); prints one JSON line per pair")
	fs.StringVar(&both, "type", "", "entity type of both names: person, company, organization, vessel or aircraft")
	fs.StringVar(&type1, "type1", "", "entity type of the first name")
	fs.StringVar(&type2, "type2", "", "entity type of the second name")
	fs.BoolVar(&asJSON, "json", false, "print JSON")
	pos, err := parse(fs, args[1:])
	if err != nil {
		return err
	}
	if both != "" && names.TypeOf(both) == "" {
		return fmt.Errorf("--type: unknown entity type %q (person, company, organization, vessel or aircraft)", both)
	}
	if type1 == "" {
		type1 = both
	}
	if type2 == "" {
		type2 = both
	}
	checkType := func(t, where string) error {
		if t != "" && names.TypeOf(t) == "" {
			return fmt.Errorf("%s: unknown entity type %q (person, company, organization, vessel or aircraft)", where, t)
		}
		return nil
	}
	for _, t := range [][2]string{{type1, "--type1"}, {type2, "--type2"}} {
		if err := checkType(t[0], t[1]); err != nil {
			return err
		}
	}
	compare := func(a, ta, b, tb string) (names.Result, map[string]any) {
		r := names.Compare(names.ParseTyped(a, ta), names.ParseTyped(b, tb), nil)
		out := map[string]any{"name1": a, "name2": b, "score": r.Score, "match": r.Match, "threshold": names.DefaultThreshold, "explanation": r.Parts}
		if ta != "" {
			out["type1"] = names.TypeOf(ta)
		}
		if tb != "" {
			out["type2"] = names.TypeOf(tb)
		}
		return r, out
	}
	if pairs == "" {
		if len(pos) != 2 {
			return errors.New(`give two names: puente names compare "NAME A" "NAME B"`)
		}
		r, out := compare(pos[0], type1, pos[1], type2)
		if asJSON {
			b, _ := json.Marshal(out)
			_, err := fmt.Fprintln(stdout, string(b))
			return err
		}
		verdict := "no match"
		if r.Match {
			verdict = "match"
		}
		fmt.Fprintf(stdout, "%.3f %s (threshold %.2f)\n  %s\n", r.Score, verdict, names.DefaultThreshold, explain(r.Parts))
		return nil
	}
	f, err := os.Open(pairs)
	if err != nil {
		return fmt.Errorf("reading pairs: %w", err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	for line := 1; ; line++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", pairs, err)
		}
		if len(rec) < 2 {
			return fmt.Errorf("%s line %d: want two columns, name1,name2", pairs, line)
		}
		if line == 1 && strings.EqualFold(strings.TrimSpace(rec[0]), "name1") {
			continue
		}
		ta, tb := type1, type2
		if len(rec) > 2 && strings.TrimSpace(rec[2]) != "" {
			ta = strings.TrimSpace(rec[2])
		}
		if len(rec) > 3 && strings.TrimSpace(rec[3]) != "" {
			tb = strings.TrimSpace(rec[3])
		}
		for _, t := range [][2]string{{ta, "type1"}, {tb, "type2"}} {
			if err := checkType(t[0], fmt.Sprintf("%s line %d, %s", pairs, line, t[1])); err != nil {
				return err
			}
		}
		_, out := compare(rec[0], ta, rec[1], tb)
		b, _ := json.Marshal(out)
		if _, err := fmt.Fprintln(stdout, string(b)); err != nil {
			return err
		}
	}
}

// cmdNamesEval measures matching quality by kind: precision, recall and
// F1 of each kind at the threshold, and of all pairs over thresholds, on
// the tuning part of the evaluation set or on the held-back part.
func cmdNamesEval(args []string, stdout io.Writer) error {
	fs := flags("names eval")
	var pairsFile, record string
	var heldBack, asJSON bool
	var wrong int
	threshold := names.DefaultThreshold
	fs.StringVar(&pairsFile, "pairs", "", "labelled pairs (label,name1,name2,kind,type1,type2,source); the built-in set if unset")
	fs.BoolVar(&heldBack, "held-back", false, "score the held-back part (the part tuning never looks at) instead of the tuning part")
	fs.Float64Var(&threshold, "threshold", names.DefaultThreshold, "score from which a pair counts as a match")
	fs.IntVar(&wrong, "wrong", 0, "print up to N pairs of each kind the threshold gets wrong")
	fs.StringVar(&record, "record", "", "write the held-back part's F1 by kind to this file (what CI compares against)")
	fs.BoolVar(&asJSON, "json", false, "print JSON")
	var screening int
	var lists string
	fs.IntVar(&screening, "screen", 0, "instead, screen N variant spellings of listed people and N names no list gives, and report accuracy")
	fs.StringVar(&lists, "lists", "", "sanctions lists folder for --screen (default $PUENTE_LISTS or ../shared/data)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if screening > 0 {
		entries, err := screen.Load(listsDir(lists))
		if err != nil {
			return err
		}
		q := screen.EvaluateScreening(screen.New(entries), entries, screening)
		if asJSON {
			b, err := json.Marshal(q)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(stdout, string(b))
			return err
		}
		fmt.Fprintf(stdout, "listed people, variant spellings: %d of %d found first\nnames no list gives: %d of %d reported as a match\naccuracy %.3f\n", q.FoundFirst, q.Listed, q.FalseHits, q.Clean, q.Accuracy)
		for _, m := range q.Misses {
			fmt.Fprintf(stdout, "  missed: %s\n", m)
		}
		for _, h := range q.Hits {
			fmt.Fprintf(stdout, "  false hit: %s\n", h)
		}
		return nil
	}
	var all []names.Pair
	var err error
	if pairsFile != "" {
		f, err := os.Open(pairsFile)
		if err != nil {
			return fmt.Errorf("reading pairs: %w", err)
		}
		defer f.Close()
		if all, err = names.ReadPairs(f); err != nil {
			return fmt.Errorf("%s: %w", pairsFile, err)
		}
		for i := range all {
			if all[i].Kind == "" {
				all[i].Kind = names.KindVariants
			}
		}
	} else if all, err = names.KindSet(); err != nil {
		return err
	}
	if record != "" {
		b, err := json.MarshalIndent(names.Record(names.Split(all, true)), "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(record, append(b, '\n'), 0o644); err != nil {
			return fmt.Errorf("recording: %w", err)
		}
	}
	part, partName := names.Split(all, heldBack), "tuning part"
	if heldBack {
		partName = "held-back part"
	}
	kinds := names.ByKind(part, threshold)
	curve, _ := names.Evaluate(part, []float64{0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95})
	if asJSON {
		b, err := json.Marshal(map[string]any{"part": partName, "threshold": threshold, "pairs": len(part), "kinds": kinds, "curve": curve})
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(stdout, string(b))
		return err
	}
	fmt.Fprintf(stdout, "%s: %d of %d pairs, threshold %.2f\n", partName, len(part), len(all), threshold)
	fmt.Fprintln(stdout, "  kind            pairs  same  precision  recall  F1     TP   FP   FN   TN")
	for _, k := range kinds {
		fmt.Fprintf(stdout, "  %-14s  %5d  %4d  %.3f      %.3f   %.3f  %4d %4d %4d %4d\n", k.Kind, k.Pairs, k.Same, k.Precision, k.Recall, k.F1, k.TP, k.FP, k.FN, k.TN)
	}
	fmt.Fprintln(stdout, "all pairs by threshold:")
	for _, x := range curve {
		mark := " "
		if x.Threshold == threshold {
			mark = "*"
		}
		fmt.Fprintf(stdout, " %s%.2f  precision %.3f  recall %.3f  F1 %.3f\n", mark, x.Threshold, x.Precision, x.Recall, x.F1)
	}
	if wrong > 0 {
		shown := map[string]int{}
		for _, p := range part {
			r := names.Compare(names.ParseTyped(p.A, p.TypeA), names.ParseTyped(p.B, p.TypeB), nil)
			if (r.Score >= threshold) == p.Same || shown[p.Kind] >= wrong {
				continue
			}
			shown[p.Kind]++
			fmt.Fprintf(stdout, "  wrong (%s, same=%v): %.3f %q vs %q (%s)\n    %s\n", p.Kind, p.Same, r.Score, p.A, p.B, p.Category, explain(r.Parts))
		}
	}
	return nil
}

// cmdNamesEvalset draws the list part of the evaluation set from the
// sanctions lists and writes it as CSV (internal/names/evaldata/lists.csv).
func cmdNamesEvalset(args []string, stdout io.Writer) error {
	fs := flags("names evalset")
	var lists string
	var perKind int
	fs.StringVar(&lists, "lists", "", "sanctions lists folder (default $PUENTE_LISTS or ../shared/data)")
	fs.IntVar(&perKind, "per-kind", 150, "most same and most different pairs to draw of each kind")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if perKind <= 0 {
		return errors.New("--per-kind must be at least 1")
	}
	entries, err := screen.Load(listsDir(lists))
	if err != nil {
		return err
	}
	return names.WritePairs(stdout, screen.KindPairs(entries, perKind))
}

func cmdSubjects(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "import" {
		return errors.New("usage: puente subjects import --dir DIR FILE.csv")
	}
	fs := flags("subjects import")
	dir := fs.String("dir", ".", "node folder")
	pos, err := parse(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errors.New("usage: puente subjects import --dir DIR FILE.csv")
	}
	f, err := os.Open(pos[0])
	if err != nil {
		return fmt.Errorf("reading subjects: %w", err)
	}
	defer f.Close()
	subs, err := match.ReadCSV(f)
	if err != nil {
		return fmt.Errorf("%s: %w", pos[0], err)
	}
	db, cfg, err := openStore(ctx, *dir)
	if err != nil {
		return err
	}
	defer db.Close()
	id, err := identity.Load(*dir)
	if err != nil {
		return err
	}
	tl, err := trustlog.New(db, cfg.Party, id.Signing)
	if err != nil {
		return err
	}
	n, err := match.Import(trustlog.WithActor(ctx, "cli:puente subjects import"), db, tl, subs)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "imported %d subjects; the running node publishes its new filter within seconds\n", n)
	return nil
}
