package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"text/tabwriter"
	"time"

	"puente/internal/operations"
)

const opsUsage = `usage: puente ops COMMAND [flags] (token in $PUENTE_TOKEN or --token, node in --url)

  list [--status S] [--json]                 operations you may see
  show ID [--json]                           one operation, its conflicts and reports
  draft FILE.json [--start T --end T]        a mirror draft or a unilateral registration (the API's draft JSON;
                                             the flags override its window)
  release ID                                 send a mirror draft to the partner (a supervisor, not its author)
  accept ID FILE.json                        accept the partner's proposal with your side (units, areas, contact)
  counter ID FILE.json [--start T --end T --reason TEXT]
                                             counter with another window and your side
  decline ID --reason TEXT                   decline a proposal, or a counter to yours
  accept-counter ID                          accept the partner's counter
  start ID | conclude ID
  postpone ID --start T --end T --reason TEXT
  cancel ID --reason TEXT
  after-action ID --text TEXT [--arrests N] [--seizures N] [--weapons N] [--cash-usd N]
  report ID --unit CALLSIGN --lat LAT --lon LON --status STATUS [--note TEXT]
  conflicts [--json]                         open deconfliction conflicts
  resolve CONFLICT-ID --resolution proceed_separately|make_joint|delay|cancel
  cot [--out FILE]                           the board as Cursor-on-Target XML
  cot-send FILE.xml [--operation ID]         a CoT feed's positions become unit reports
  figures [--json]                           the reciprocity figures
`

var opsFlags = map[string][]string{
	"list": {"status", "json"}, "show": {"json"}, "draft": {"start", "end"}, "release": nil, "accept": nil, "counter": {"start", "end", "reason"}, "decline": {"reason"},
	"accept-counter": nil, "start": nil, "conclude": nil, "postpone": {"start", "end", "reason"}, "cancel": {"reason"},
	"after-action": {"text", "arrests", "seizures", "weapons", "cash-usd"}, "report": {"unit", "lat", "lon", "status", "note"},
	"conflicts": {"json"}, "resolve": {"resolution"}, "cot": {"out"}, "cot-send": {"operation"}, "figures": {"json"},
}

// cmdOps drives a running node's operations through its API, as the
// token's user.
func cmdOps(ctx context.Context, args []string, stdout io.Writer) error {
	a, err := newAreaCmd("ops", opsUsage, opsFlags, args, stdout)
	if err != nil {
		return err
	}
	cmd, fs := a.cmd, a.fs
	asJSON := fs.Bool("json", false, "print JSON")
	status := fs.String("status", "", "a status (list) or a unit status (report)")
	reason := fs.String("reason", "", "why")
	start := fs.String("start", "", "RFC 3339, or 2006-01-02T15:04 in the sector pair's zone")
	end := fs.String("end", "", "RFC 3339, or 2006-01-02T15:04 in the sector pair's zone")
	text := fs.String("text", "", "the after-action report")
	arrests := fs.Int("arrests", 0, "persons arrested")
	seizures := fs.Int("seizures", 0, "seizures made")
	weapons := fs.Int("weapons", 0, "weapons seized")
	cash := fs.Int64("cash-usd", 0, "cash seized, in US dollars")
	unit := fs.String("unit", "", "the unit's callsign")
	lat := fs.Float64("lat", 0, "latitude, degrees")
	lon := fs.Float64("lon", 0, "longitude, degrees")
	note := fs.String("note", "", "a short note")
	resolution := fs.String("resolution", "", "how the conflict was resolved")
	outFile := fs.String("out", "", "write to this file instead of standard output")
	operation := fs.String("operation", "", "the operation of events that name none")
	if err := a.parse(args, false); err != nil {
		return err
	}
	pos, c, want, printJSON := a.pos, a.c, a.want, a.printJSON
	printOp := func(op *operations.Operation) {
		fmt.Fprintf(stdout, "%s %s %s (%s) %s → %s\n", op.ID, op.Kind, op.Status, op.Title, op.Start.Format(time.RFC3339), op.End.Format(time.RFC3339))
	}
	step := func(id string, in map[string]any) error {
		var op operations.Operation
		if err := c.call(ctx, http.MethodPost, "/api/v1/operations/"+url.PathEscape(id)+"/steps", in, &op); err != nil {
			return err
		}
		printOp(&op)
		return nil
	}
	readJSON := func(file string) (map[string]any, error) {
		raw, err := os.ReadFile(file)
		if err != nil {
			return nil, err
		}
		m := map[string]any{}
		dec := json.NewDecoder(bytes.NewReader(raw))
		if err := dec.Decode(&m); err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		for name, v := range map[string]string{"start": *start, "end": *end, "reason": *reason} {
			if v != "" {
				m[name] = v
			}
		}
		return m, nil
	}
	switch cmd {
	case "list":
		var out struct{ Operations []*operations.Operation }
		if err := c.call(ctx, http.MethodGet, "/api/v1/operations?status="+url.QueryEscape(*status), nil, &out); err != nil {
			return err
		}
		if *asJSON {
			return printJSON(out.Operations)
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tKIND\tSTATUS\tPAIR\tSTART (UTC)\tEND (UTC)\tTITLE")
		for _, op := range out.Operations {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", op.ID, op.Kind, op.Status, op.Pair, op.Start.Format("2006-01-02 15:04"), op.End.Format("2006-01-02 15:04"), op.Title)
		}
		return tw.Flush()
	case "show":
		if err := want(1, "one id"); err != nil {
			return err
		}
		var v struct {
			operations.Operation
			Conflicts []*operations.Conflict `json:"conflicts"`
			Reports   []*operations.Report   `json:"reports"`
		}
		if err := c.call(ctx, http.MethodGet, "/api/v1/operations/"+url.PathEscape(pos[0]), nil, &v); err != nil {
			return err
		}
		if *asJSON {
			return printJSON(v)
		}
		printOp(&v.Operation)
		for _, p := range slices.Sorted(func(yield func(string) bool) {
			for k := range v.Sides {
				if !yield(k) {
					return
				}
			}
		}) {
			sd := v.Sides[p]
			fmt.Fprintf(stdout, "%s: contact %s, %d units, %d areas\n", p, sd.Contact, len(sd.Units), len(sd.Areas))
			if sd.AfterAction != "" {
				fmt.Fprintf(stdout, "%s after action: %s\n", p, sd.AfterAction)
			}
		}
		for _, e := range v.History {
			fmt.Fprintf(stdout, "%s %s %s %s %s\n", e.At.Format(time.RFC3339), e.Side, e.Actor, e.What, e.Detail)
		}
		for _, x := range v.Conflicts {
			fmt.Fprintf(stdout, "conflict %s: %s %s, %s → %s, partner contact %s\n", x.ID, x.Kind, x.Status, x.From.Format(time.RFC3339), x.To.Format(time.RFC3339), x.PartnerContact)
		}
		for _, r := range v.Reports {
			fmt.Fprintf(stdout, "report %s %s %s %.5f,%.5f %s %s\n", r.At.Format(time.RFC3339), r.Side, r.Unit, r.Lat, r.Lon, r.Status, r.Note)
		}
		return nil
	case "draft":
		if err := want(1, "one file"); err != nil {
			return err
		}
		in, err := readJSON(pos[0])
		if err != nil {
			return err
		}
		var op operations.Operation
		if err := c.call(ctx, http.MethodPost, "/api/v1/operations", in, &op); err != nil {
			return fmt.Errorf("%s: %w", pos[0], err)
		}
		printOp(&op)
		return nil
	case "release":
		if err := want(1, "one id"); err != nil {
			return err
		}
		var op operations.Operation
		if err := c.call(ctx, http.MethodPost, "/api/v1/operations/"+url.PathEscape(pos[0])+"/release", nil, &op); err != nil {
			return err
		}
		printOp(&op)
		return nil
	case "accept", "counter":
		if err := want(2, "an id and a file"); err != nil {
			return err
		}
		in, err := readJSON(pos[1])
		if err != nil {
			return err
		}
		in["step"] = map[string]string{"accept": operations.StepAccepted, "counter": operations.StepCountered}[cmd]
		return step(pos[0], in)
	case "decline", "cancel":
		if err := want(1, "one id"); err != nil {
			return err
		}
		return step(pos[0], map[string]any{"step": map[string]string{"decline": operations.StepDeclined, "cancel": operations.StepCancelled}[cmd], "reason": *reason})
	case "accept-counter", "start", "conclude":
		if err := want(1, "one id"); err != nil {
			return err
		}
		return step(pos[0], map[string]any{"step": map[string]string{"accept-counter": operations.StepCounterAccepted, "start": operations.StepStarted, "conclude": operations.StepConcluded}[cmd]})
	case "postpone":
		if err := want(1, "one id"); err != nil {
			return err
		}
		return step(pos[0], map[string]any{"step": operations.StepPostponed, "start": *start, "end": *end, "reason": *reason})
	case "after-action":
		if err := want(1, "one id"); err != nil {
			return err
		}
		return step(pos[0], map[string]any{"step": operations.StepAfterAction, "after_action": *text,
			"results": operations.Results{Arrests: *arrests, Seizures: *seizures, Weapons: *weapons, CashUSD: *cash}})
	case "report":
		if err := want(1, "one id"); err != nil {
			return err
		}
		var r operations.Report
		in := operations.NewReport{Unit: *unit, Lat: *lat, Lon: *lon, Status: *status, Note: *note}
		if err := c.call(ctx, http.MethodPost, "/api/v1/operations/"+url.PathEscape(pos[0])+"/reports", in, &r); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s %s %s %s\n", r.ID, r.Unit, r.Status, r.At.Format(time.RFC3339))
		return nil
	case "conflicts":
		var out struct{ Conflicts []*operations.Conflict }
		if err := c.call(ctx, http.MethodGet, "/api/v1/operations/conflicts", nil, &out); err != nil {
			return err
		}
		if *asJSON {
			return printJSON(out.Conflicts)
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tOPERATION\tKIND\tFROM (UTC)\tTO (UTC)\tPARTNER CONTACT")
		when := func(t time.Time) string {
			if t.IsZero() {
				return "—"
			}
			return t.Format("2006-01-02 15:04")
		}
		for _, x := range out.Conflicts {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", x.ID, x.OperationID, x.Kind, when(x.From), when(x.To), x.PartnerContact)
		}
		return tw.Flush()
	case "resolve":
		if err := want(1, "one conflict id"); err != nil {
			return err
		}
		if err := c.call(ctx, http.MethodPost, "/api/v1/operations/conflicts/"+url.PathEscape(pos[0])+"/resolve", map[string]string{"resolution": *resolution}, nil); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s resolved: %s\n", pos[0], *resolution)
		return nil
	case "cot":
		raw, err := c.send(ctx, http.MethodGet, "/api/v1/operations/cot", "", nil)
		if err != nil {
			return err
		}
		if *outFile != "" {
			return os.WriteFile(*outFile, raw, 0o600)
		}
		_, err = stdout.Write(raw)
		return err
	case "cot-send":
		if err := want(1, "one file"); err != nil {
			return err
		}
		raw, err := os.ReadFile(pos[0])
		if err != nil {
			return err
		}
		out, err := c.send(ctx, http.MethodPost, "/api/v1/operations/cot?operation="+url.QueryEscape(*operation), "application/xml", bytes.NewReader(raw))
		if err != nil {
			return fmt.Errorf("%s: %w", pos[0], err)
		}
		var res struct{ Reports []*operations.Report }
		if err := json.Unmarshal(out, &res); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%d reports\n", len(res.Reports))
		return nil
	case "figures":
		var f operations.Figures
		if err := c.call(ctx, http.MethodGet, "/api/v1/operations/figures", nil, &f); err != nil {
			return err
		}
		if *asJSON {
			return printJSON(f)
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "SIDE\tPROPOSED\tJOINT\tACCEPTED\tCOUNTERED\tDECLINED\tPENDING\tOVERDUE\tMEDIAN ANSWER (H)\tCONFLICTS\tRESOLVED IN TIME")
		for _, s := range f.Sides {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%.1f\t%d\t%d\n", s.Party, s.Proposed, s.Joint, s.Accepted, s.Countered, s.Declined, s.Pending, s.Overdue, s.MedianAnswerH, s.ConflictsFound, s.ResolvedInTime)
		}
		return tw.Flush()
	}
	return nil
}
