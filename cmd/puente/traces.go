package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"

	"puente/internal/traces"
)

const tracesUsage = `usage: puente traces COMMAND [flags] (token in $PUENTE_TOKEN or --token, node in --url)

  list [--status S] [--json]                  traces you may see
  show ID [--json]                            one trace, its check, result and history
  check FILE.json                             the completeness check of a request, nothing stored
  request FILE.json                           prepare a trace (Form 3312.1 as JSON) for a sponsor
  from-seizure SEIZURE-ID FILE.json           prepare a trace of every firearm of a seizure
  edit ID FILE.json                           correct a draft or returned trace (the whole request again)
  submit ID                                   sponsor and send it (a sponsor who did not prepare it)
  accept ID | return ID --reason TEXT | progress ID --stage manufacturer|importer|wholesaler|dealer
  complete ID FILE.json                       the result (source, dealer, purchaser, purchase_date)
  not-complete ID --reason CODE               close without a result
  figures [--json]                            figures per requesting side
`

var tracesFlags = map[string][]string{
	"list": {"status", "json"}, "show": {"json"}, "check": nil, "request": nil, "from-seizure": nil, "submit": nil, "edit": nil, "accept": nil,
	"return": {"reason"}, "progress": {"stage"}, "complete": nil, "not-complete": {"reason"}, "figures": {"json"},
}

// cmdTraces drives a running node's firearm traces through its API.
func cmdTraces(ctx context.Context, args []string, stdout io.Writer) error {
	a, err := newAreaCmd("traces", tracesUsage, tracesFlags, args, stdout)
	if err != nil {
		return err
	}
	cmd, fs := a.cmd, a.fs
	asJSON := fs.Bool("json", false, "print JSON")
	status := fs.String("status", "", "a status")
	reason := fs.String("reason", "", "why (return), or a reason code (not-complete)")
	stage := fs.String("stage", "", "manufacturer, importer, wholesaler or dealer")
	if err := a.parse(args, false); err != nil {
		return err
	}
	pos, c, want, printJSON := a.pos, a.c, a.want, a.printJSON
	line := func(t *traces.Trace) {
		fmt.Fprintf(stdout, "%s %s %s %s (%s)\n", t.ID, t.Origin, t.Status, t.Title(), t.Agency)
	}
	readFile := readJSON
	one := func(path string, in any) error {
		var t traces.Trace
		if err := c.call(ctx, http.MethodPost, path, in, &t); err != nil {
			return err
		}
		line(&t)
		return nil
	}
	step := func(in map[string]any) error {
		if err := want(1, "one id"); err != nil {
			return err
		}
		return one("/api/v1/traces/"+url.PathEscape(pos[0])+"/steps", in)
	}
	switch cmd {
	case "list":
		var out struct{ Traces []*traces.Trace }
		if err := c.call(ctx, http.MethodGet, "/api/v1/traces?status="+url.QueryEscape(*status), nil, &out); err != nil {
			return err
		}
		if *asJSON {
			return printJSON(out.Traces)
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tSIDE\tSTATUS\tPRIORITY\tAGENCY\tDUE (UTC)\tFIREARM")
		for _, t := range out.Traces {
			due := ""
			if !t.Due.IsZero() {
				due = t.Due.Format("2006-01-02 15:04")
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Origin, t.Status, t.Priority, t.Agency, due, t.Title())
		}
		return tw.Flush()
	case "show":
		if err := want(1, "one id"); err != nil {
			return err
		}
		var t traces.Trace
		if err := c.call(ctx, http.MethodGet, "/api/v1/traces/"+url.PathEscape(pos[0]), nil, &t); err != nil {
			return err
		}
		if *asJSON {
			return printJSON(t)
		}
		line(&t)
		fmt.Fprintf(stdout, "expected success %.0f%%; problems: %s\n", t.Quality.Expected*100, strings.Join(t.Quality.Problems, ", "))
		if r := t.Result; r != nil {
			fmt.Fprintf(stdout, "result: %s; dealer %s %s (%s, %s); purchased %s; time-to-crime %d days", r.Source, r.Dealer.Licence, r.Dealer.Name, r.Dealer.City, r.Dealer.State, r.Purchase, r.TimeToCrimeDays)
			if r.Short {
				fmt.Fprint(stdout, " (short)")
			}
			fmt.Fprintln(stdout)
		}
		if t.Reason != "" {
			fmt.Fprintf(stdout, "reason: %s\n", t.Reason)
		}
		for _, e := range t.History {
			fmt.Fprintf(stdout, "%s %s %s %s %s\n", e.At.Format(time.RFC3339), e.Side, e.By, e.What, e.Detail)
		}
		return nil
	case "check":
		if err := want(1, "one file"); err != nil {
			return err
		}
		in, err := readFile(pos[0])
		if err != nil {
			return err
		}
		var q traces.Quality
		if err := c.call(ctx, http.MethodPost, "/api/v1/traces/check", in, &q); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "expected success %.0f%%\n", q.Expected*100)
		for _, p := range q.Problems {
			mark := ""
			for _, b := range q.Blocking {
				if b == p {
					mark = " (blocking)"
				}
			}
			fmt.Fprintf(stdout, "problem: %s%s\n", p, mark)
		}
		return nil
	case "request":
		if err := want(1, "one file"); err != nil {
			return err
		}
		in, err := readFile(pos[0])
		if err != nil {
			return err
		}
		var t struct {
			traces.Trace
			Merged bool `json:"merged"`
		}
		if err := c.call(ctx, http.MethodPost, "/api/v1/traces", in, &t); err != nil {
			return fmt.Errorf("%s: %w", pos[0], err)
		}
		line(&t.Trace)
		if t.Merged {
			fmt.Fprintln(stdout, "merged into an earlier trace of the same gun")
		}
		return nil
	case "from-seizure":
		if err := want(2, "a seizure id and a file"); err != nil {
			return err
		}
		in, err := readFile(pos[1])
		if err != nil {
			return err
		}
		var out struct{ Traces []*traces.Trace }
		if err := c.call(ctx, http.MethodPost, "/api/v1/seizures/"+url.PathEscape(pos[0])+"/traces", in, &out); err != nil {
			return err
		}
		for _, t := range out.Traces {
			line(t)
		}
		return nil
	case "edit":
		if err := want(2, "an id and a file"); err != nil {
			return err
		}
		in, err := readFile(pos[1])
		if err != nil {
			return err
		}
		var t traces.Trace
		if err := c.call(ctx, http.MethodPut, "/api/v1/traces/"+url.PathEscape(pos[0]), in, &t); err != nil {
			return err
		}
		line(&t)
		return nil
	case "submit":
		if err := want(1, "one id"); err != nil {
			return err
		}
		return one("/api/v1/traces/"+url.PathEscape(pos[0])+"/submit", map[string]any{})
	case "accept":
		return step(map[string]any{"step": traces.StepAccept})
	case "return":
		return step(map[string]any{"step": traces.StepReturn, "reason": *reason})
	case "progress":
		return step(map[string]any{"step": traces.StepProgress, "stage": *stage})
	case "not-complete":
		return step(map[string]any{"step": traces.StepNotComplete, "reason": *reason})
	case "complete":
		if err := want(2, "an id and a file"); err != nil {
			return err
		}
		res, err := readFile(pos[1])
		if err != nil {
			return err
		}
		return one("/api/v1/traces/"+url.PathEscape(pos[0])+"/steps", map[string]any{"step": traces.StepComplete, "result": res})
	case "figures":
		var f traces.Figures
		if err := c.call(ctx, http.MethodGet, "/api/v1/traces/figures", nil, &f); err != nil {
			return err
		}
		if *asJSON {
			return printJSON(f)
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "SIDE\tREQUESTED\tCOMPLETED\tNOT COMPLETED\tOPEN\tON TIME\tLATE\tSUCCESS\tMEDIAN H\tSHORT TTC")
		for _, sd := range f.Sides {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%.0f%%\t%.1f\t%d\n", sd.Party, sd.Requested, sd.Completed, sd.NotCompleted, sd.Open, sd.OnTime, sd.Late, sd.SuccessRate*100, sd.MedianHours, sd.ShortTTC)
		}
		if len(f.TopDealers) > 0 {
			fmt.Fprintln(tw, "\nDEALER\tLICENCE\tPLACE\tGUNS\tSHORT TTC")
			for _, d := range f.TopDealers {
				fmt.Fprintf(tw, "%s\t%s\t%s, %s\t%d\t%d\n", d.Name, d.Licence, d.City, d.State, d.Guns, d.Short)
			}
		}
		return tw.Flush()
	}
	return nil
}
