package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"puente/internal/agreement"
	"puente/internal/extradition"
)

const extraditionUsage = `usage: puente extradition COMMAND [flags] (token in $PUENTE_TOKEN or --token, node in --url)

  list [--open] [--kind extradition|transfer] [--json]   cases, with their clocks
  show ID [--json]                            one case: its stages and every clock with its due date and days left
  open FILE.json                              open a case ({"kind", "requested", "person": {...}, "target"?, "group"?, "charges"?})
  stage ID --stage S --date YYYY-MM-DD [--place P] [--outcome granted|denied] [--escort AGENCY] [--note TEXT]
                                              record a stage your side owns
  document ID --kind K --file F --language es|en [--certified] [--translated] [--translation F2]
                                              add a formal request's document (warrant, charges, evidence, identity, legal_texts, other)
  documents ID [--json]                       the documents and the Art. 10 checklist
  assurance ID --kind K --text T --date YYYY-MM-DD   give an assurance (no_death_penalty, speciality, …)
  assurance ID --id A --status honoured|breached --outcome TEXT   close one
  record ID [--out FILE]                      the case record signed by the node
  verify FILE --agreement FILE                check a case record offline (no node, no token)
  figures [--json]                            cases per requesting side
`

var extraditionFlags = map[string][]string{
	"list": {"open", "kind", "json"}, "show": {"json"}, "open": nil, "stage": {"stage", "date", "place", "outcome", "escort", "note"}, "figures": {"json"},
	"document": {"kind", "file", "language", "certified", "translated", "translation"}, "assurance": {"kind", "text", "date", "id", "status", "outcome"}, "documents": {"json"}, "record": {"out"}, "verify": {"agreement"},
}

// cmdExtradition drives a running node's extradition cases through its API.
func cmdExtradition(ctx context.Context, args []string, stdout io.Writer) error {
	a, err := newAreaCmd("extradition", extraditionUsage, extraditionFlags, args, stdout)
	if err != nil {
		return err
	}
	cmd, fs := a.cmd, a.fs
	asJSON := fs.Bool("json", false, "print JSON")
	open := fs.Bool("open", false, "only open cases")
	kind := fs.String("kind", "", "extradition or transfer")
	var st extradition.Stage
	fs.StringVar(&st.Stage, "stage", "", "the stage")
	fs.StringVar(&st.Date, "date", "", "when it happened (YYYY-MM-DD)")
	fs.StringVar(&st.Place, "place", "", "where")
	fs.StringVar(&st.Outcome, "outcome", "", "granted or denied, for a decision; what happened, for an assurance closed")
	fs.StringVar(&st.Escort, "escort", "", "the escorting agency")
	fs.StringVar(&st.Note, "note", "", "a note")
	var doc extradition.NewDocument
	var docFile, trFile, out, agPath string
	fs.StringVar(&docFile, "file", "", "the document's file")
	fs.StringVar(&trFile, "translation", "", "its translation's file")
	fs.StringVar(&doc.Language, "language", "", "the document's language: es or en")
	fs.BoolVar(&doc.Certified, "certified", false, "the document is certified")
	fs.BoolVar(&doc.Translated, "translated", false, "the document reads in the requested side's language")
	fs.StringVar(&out, "out", "", "write the record to this file")
	fs.StringVar(&agPath, "agreement", "agreement.json", "the signed agreement")
	var as extradition.Assurance
	fs.StringVar(&as.Text, "text", "", "the assurance's text")
	fs.StringVar(&as.ID, "id", "", "the assurance to close")
	fs.StringVar(&as.Status, "status", "", "honoured or breached")
	if err := a.parse(args, cmd == "verify"); err != nil {
		return err
	}
	pos, c, want, printJSON := a.pos, a.c, a.want, a.printJSON
	if cmd == "verify" {
		if err := want(1, "one record file"); err != nil {
			return err
		}
		return verifyCaseRecord(pos[0], agPath, stdout)
	}
	if cmd == "document" {
		doc.Kind = *kind
	}
	show := func(cs *extradition.Case) {
		fmt.Fprintf(stdout, "%s %s %s→%s %s %s\n", cs.ID, cs.Kind, cs.Requesting, cs.Requested, orDash(cs.Current()), cs.Title())
		for _, s := range cs.Stages {
			fmt.Fprintf(stdout, "  %s %s %s", s.Date, s.Side, s.Stage)
			if s.Outcome != "" {
				fmt.Fprintf(stdout, " %s", s.Outcome)
			}
			if s.Place != "" {
				fmt.Fprintf(stdout, " at %s", s.Place)
			}
			fmt.Fprintln(stdout)
		}
		for _, a := range cs.Assurances {
			fmt.Fprintf(stdout, "  assurance %s %s given %s: %s", a.ID, a.Kind, a.Date, a.Status)
			if a.Outcome != "" {
				fmt.Fprintf(stdout, " (%s)", a.Outcome)
			}
			fmt.Fprintln(stdout)
		}
		for _, k := range cs.Clocks {
			unit := "calendar days"
			if k.Business {
				unit = "business days"
			}
			fmt.Fprintf(stdout, "  clock %s (%s, %d %s) from %s due %s: ", k.Term, k.Party, k.Days, unit, k.Started.Format(time.DateOnly), k.Due.Format(time.DateOnly))
			switch {
			case !k.Open() && k.Met:
				fmt.Fprintf(stdout, "met on %s\n", k.Stopped.Format(time.DateOnly))
			case !k.Open():
				fmt.Fprintf(stdout, "missed, done on %s\n", k.Stopped.Format(time.DateOnly))
			case k.Overdue:
				fmt.Fprintf(stdout, "OVERDUE by %d days\n", -k.Left)
			default:
				fmt.Fprintf(stdout, "%d days left\n", k.Left)
			}
		}
	}
	switch cmd {
	case "list":
		q := url.Values{"kind": {*kind}}
		if *open {
			q.Set("open", "true")
		}
		var out struct{ Cases []*extradition.Case }
		if err := c.call(ctx, http.MethodGet, "/api/v1/extradition/cases?"+q.Encode(), nil, &out); err != nil {
			return err
		}
		if *asJSON {
			return printJSON(out.Cases)
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tKIND\tDIRECTION\tSTAGE\tNEXT DUE\tPERSON")
		for _, cs := range out.Cases {
			next := "-"
			for _, k := range cs.Clocks {
				if k.Open() {
					next = fmt.Sprintf("%s %s (%d d)", k.Term, k.Due.Format(time.DateOnly), k.Left)
					if k.Overdue {
						next += " OVERDUE"
					}
					break
				}
			}
			fmt.Fprintf(tw, "%s\t%s\t%s→%s\t%s\t%s\t%s\n", cs.ID, cs.Kind, cs.Requesting, cs.Requested, orDash(cs.Current()), next, cs.Title())
		}
		return tw.Flush()
	case "show":
		if err := want(1, "one id"); err != nil {
			return err
		}
		var cs extradition.Case
		if err := c.call(ctx, http.MethodGet, "/api/v1/extradition/cases/"+url.PathEscape(pos[0]), nil, &cs); err != nil {
			return err
		}
		if *asJSON {
			return printJSON(cs)
		}
		show(&cs)
		return nil
	case "open":
		if err := want(1, "one file"); err != nil {
			return err
		}
		raw, err := os.ReadFile(pos[0])
		if err != nil {
			return err
		}
		var in json.RawMessage
		if err := json.Unmarshal(raw, &in); err != nil {
			return fmt.Errorf("%s: %w", pos[0], err)
		}
		var cs extradition.Case
		if err := c.call(ctx, http.MethodPost, "/api/v1/extradition/cases", in, &cs); err != nil {
			return err
		}
		show(&cs)
		return nil
	case "stage":
		if err := want(1, "one id"); err != nil {
			return err
		}
		var cs extradition.Case
		if err := c.call(ctx, http.MethodPost, "/api/v1/extradition/cases/"+url.PathEscape(pos[0])+"/stages", st, &cs); err != nil {
			return err
		}
		show(&cs)
		return nil
	case "document":
		if err := want(1, "one case id"); err != nil {
			return err
		}
		if docFile == "" {
			return fmt.Errorf("extradition document needs --file")
		}
		if doc.Content, err = os.ReadFile(docFile); err != nil {
			return err
		}
		doc.Name = filepath.Base(docFile)
		if trFile != "" {
			if doc.Translation, err = os.ReadFile(trFile); err != nil {
				return err
			}
			doc.TranslationName = filepath.Base(trFile)
		}
		var d extradition.Document
		if err := c.call(ctx, http.MethodPost, "/api/v1/extradition/cases/"+url.PathEscape(pos[0])+"/documents", doc, &d); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s %s %s sha256 %s\n", d.ID, d.Kind, d.Name, d.SHA256)
		return nil
	case "documents":
		if err := want(1, "one case id"); err != nil {
			return err
		}
		var out struct {
			Documents []extradition.Document  `json:"documents"`
			Art10     []extradition.Checklist `json:"art10"`
		}
		if err := c.call(ctx, http.MethodGet, "/api/v1/extradition/cases/"+url.PathEscape(pos[0])+"/documents", nil, &out); err != nil {
			return err
		}
		if *asJSON {
			return printJSON(out)
		}
		for _, d := range out.Documents {
			tr := ""
			if d.Translation != nil {
				tr = " + " + d.Translation.Language + " translation " + d.Translation.SHA256[:12]
			}
			fmt.Fprintf(stdout, "%s %s %s (%s%s) sha256 %s certified=%t delivered=%t\n", d.Side, d.Kind, d.Name, d.Language, tr, d.SHA256, d.Certified, d.Delivered)
		}
		for _, cl := range out.Art10 {
			fmt.Fprintf(stdout, "art10 %s present=%t certified=%t translated=%t\n", cl.Kind, cl.Present, cl.Certified, cl.Translated)
		}
		return nil
	case "assurance":
		if err := want(1, "one case id"); err != nil {
			return err
		}
		as.Kind, as.Date, as.Outcome = *kind, st.Date, st.Outcome // --outcome: what happened to it
		var got extradition.Assurance
		if err := c.call(ctx, http.MethodPost, "/api/v1/extradition/cases/"+url.PathEscape(pos[0])+"/assurances", as, &got); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s %s %s %s\n", got.ID, got.Kind, got.Status, got.Date)
		return nil
	case "record":
		if err := want(1, "one case id"); err != nil {
			return err
		}
		var raw json.RawMessage
		if err := c.call(ctx, http.MethodGet, "/api/v1/extradition/cases/"+url.PathEscape(pos[0])+"/record", nil, &raw); err != nil {
			return err
		}
		if out == "" {
			_, err := stdout.Write(append(raw, '\n'))
			return err
		}
		if err := os.WriteFile(out, append(raw, '\n'), 0o644); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "case record written to %s\n", out)
		return nil
	case "figures":
		var f struct {
			Cases []extradition.CaseFigures `json:"cases"`
		}
		if err := c.call(ctx, http.MethodGet, "/api/v1/extradition/figures", nil, &f); err != nil {
			return err
		}
		if *asJSON {
			return printJSON(f.Cases)
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "REQUESTING\tCASES\tTRANSFERS\tOPEN\tSURRENDERED\tREFUSED\tARREST→REQUEST (MEDIAN D)\tCOMMITMENT D\tCLOCKS MET\tMISSED")
		for _, s := range f.Cases {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%.1f\t%d\t%d\t%d\n", s.Requesting, s.Cases, s.Transfers, s.Open, s.Surrendered, s.Refused, s.MedianArrestToRequest, s.Commitment, s.ClocksMet, s.ClocksMissed)
		}
		return tw.Flush()
	}
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// verifyCaseRecord checks a case record offline and says what does not
// hold; an error (a non-zero exit) when anything does not.
func verifyCaseRecord(path, agPath string, stdout io.Writer) error {
	ag, err := agreement.Load(agPath)
	if err != nil {
		return err
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	r, problems, err := extradition.VerifyRecord(raw, ag)
	if err != nil {
		return err
	}
	if len(problems) > 0 {
		for _, p := range problems {
			fmt.Fprintf(stdout, "FAIL: %s\n", p)
		}
		return fmt.Errorf("the case record %s does not verify: %s", path, strings.Join(problems, "; "))
	}
	fmt.Fprintf(stdout, "OK: case %s (%s → %s), %d stages, %d documents, %d clocks, signed by %s on %s under agreement %s\n",
		r.Case.ID, r.Case.Requesting, r.Case.Requested, len(r.Stages), len(r.Documents), len(r.Clocks), r.Signer, r.IssuedAt.Format(time.RFC3339), r.Agreement[:16])
	return nil
}
