package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"puente/internal/extradition"
)

const extraditionUsage = `usage: puente extradition COMMAND [flags] (token in $PUENTE_TOKEN or --token, node in --url)

  list [--open] [--kind extradition|transfer] [--json]   cases, with their clocks
  show ID [--json]                            one case: its stages and every clock with its due date and days left
  open FILE.json                              open a case ({"kind", "requested", "person": {...}, "target"?, "group"?, "charges"?})
  stage ID --stage S --date YYYY-MM-DD [--place P] [--outcome granted|denied] [--escort AGENCY] [--note TEXT]
                                              record a stage your side owns
  figures [--json]                            cases per requesting side
`

var extraditionFlags = map[string][]string{
	"list": {"open", "kind", "json"}, "show": {"json"}, "open": nil, "stage": {"stage", "date", "place", "outcome", "escort", "note"}, "figures": {"json"},
}

// cmdExtradition drives a running node's extradition cases through its API.
func cmdExtradition(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return usageErr(extraditionUsage)
	}
	cmd := args[0]
	fs := flags("extradition " + cmd)
	var base, token string
	clientFlags(fs, &base, &token)
	asJSON := fs.Bool("json", false, "print JSON")
	open := fs.Bool("open", false, "only open cases")
	kind := fs.String("kind", "", "extradition or transfer")
	var st extradition.Stage
	fs.StringVar(&st.Stage, "stage", "", "the stage")
	fs.StringVar(&st.Date, "date", "", "when it happened (YYYY-MM-DD)")
	fs.StringVar(&st.Place, "place", "", "where")
	fs.StringVar(&st.Outcome, "outcome", "", "granted or denied, for a decision")
	fs.StringVar(&st.Escort, "escort", "", "the escorting agency")
	fs.StringVar(&st.Note, "note", "", "a note")
	allowed, known := extraditionFlags[cmd]
	if !known {
		return fmt.Errorf("unknown extradition command %q\n%s", cmd, strings.TrimRight(extraditionUsage, "\n"))
	}
	pos, err := parse(fs, args[1:])
	if err != nil {
		return err
	}
	if err := onlyFlags(fs, "extradition "+cmd, allowed); err != nil {
		return err
	}
	c, err := newClient(base, token)
	if err != nil {
		return err
	}
	want := func(n int, what string) error {
		if len(pos) != n {
			return fmt.Errorf("extradition %s takes %s", cmd, what)
		}
		return nil
	}
	printJSON := func(v any) error {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
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
