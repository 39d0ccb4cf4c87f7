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

	"puente/internal/seizures"
)

const seizuresUsage = `usage: puente seizures COMMAND [flags] (token in $PUENTE_TOKEN or --token, node in --url)

  list [--side MX|US] [--status S] [--json]   seizures you may see, newest first
  show ID [--json]                            one seizure, its conversions and the other side's look-alikes
  record FILE.json                            record a seizure (the API's JSON)
  import FILE.csv                             record the seizures of a CSV file, all or none
  submit ID                                   ask a supervisor to release it
  return ID --reason TEXT                     send a submitted seizure back to its author
  release ID... [--to AGENCY,AGENCY]          release to the partner (a supervisor who recorded none of them)
  figures [--json]                            the shared figures per side, and this node's own
  export [--year YYYY] [--out FILE]           the shared seizures in UNODC's columns (CSV)
`

var seizuresFlags = map[string][]string{
	"list": {"side", "status", "json"}, "show": {"json"}, "record": nil, "import": nil, "submit": nil, "return": {"reason"},
	"release": {"to"}, "figures": {"json"}, "export": {"year", "out"},
}

// cmdSeizures drives a running node's seizures through its API.
func cmdSeizures(ctx context.Context, args []string, stdout io.Writer) error {
	a, err := newAreaCmd("seizures", seizuresUsage, seizuresFlags, args, stdout)
	if err != nil {
		return err
	}
	cmd, fs := a.cmd, a.fs
	asJSON := fs.Bool("json", false, "print JSON")
	side := fs.String("side", "", "MX or US")
	status := fs.String("status", "", "recorded, submitted or released")
	reason := fs.String("reason", "", "why")
	to := fs.String("to", "", "the partner's agencies, comma-separated (default: all that record seizures)")
	year := fs.String("year", "", "a calendar year (default: this one)")
	outFile := fs.String("out", "", "write to this file instead of standard output")
	if err := a.parse(args, false); err != nil {
		return err
	}
	pos, c, want, printJSON := a.pos, a.c, a.want, a.printJSON
	line := func(sz *seizures.Seizure) {
		fmt.Fprintf(stdout, "%s %s %s %s %s\n", sz.ID, sz.Origin, sz.Status, sz.At.Format(time.RFC3339), sz.Title())
	}
	one := func(method, path string, in any) error {
		var sz seizures.Seizure
		if err := c.call(ctx, method, path, in, &sz); err != nil {
			return err
		}
		line(&sz)
		return nil
	}
	switch cmd {
	case "list":
		var out struct{ Seizures []*seizures.Seizure }
		q := url.Values{"side": {*side}, "status": {*status}}
		if err := c.call(ctx, http.MethodGet, "/api/v1/seizures?"+q.Encode(), nil, &out); err != nil {
			return err
		}
		if *asJSON {
			return printJSON(out.Seizures)
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tSIDE\tSTATUS\tAT (UTC)\tPAIR\tAGENCY\tKG\tITEMS\tPLACE")
		for _, sz := range out.Seizures {
			kg := 0.0
			for _, v := range sz.Kg() {
				kg += v
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%.3f\t%d\t%s\n", sz.ID, sz.Origin, sz.Status, sz.At.Format("2006-01-02 15:04"), sz.Pair, sz.Agency, kg, len(sz.Items), sz.Place)
		}
		return tw.Flush()
	case "show":
		if err := want(1, "one id"); err != nil {
			return err
		}
		var v struct {
			seizures.Seizure
			Badges []seizures.Badge `json:"badges"`
		}
		if err := c.call(ctx, http.MethodGet, "/api/v1/seizures/"+url.PathEscape(pos[0]), nil, &v); err != nil {
			return err
		}
		if *asJSON {
			return printJSON(v)
		}
		line(&v.Seizure)
		for _, it := range v.Items {
			switch {
			case it.Conv != nil && !it.Conv.Unconverted:
				fmt.Fprintf(stdout, "  %s %s %g %s = %.3f kg (× %g, %s)", it.Kind, it.Drug, it.Quantity, it.Unit, it.Conv.Kg, it.Conv.KgFactor, it.Conv.KgSource)
				if it.Conv.Doses > 0 {
					fmt.Fprintf(stdout, "; %.0f doses (%s)", it.Conv.Doses, it.Conv.DoseSource)
				}
				fmt.Fprintln(stdout)
			case it.Kind == seizures.ItemFirearm:
				fmt.Fprintf(stdout, "  firearm %s %s %s %s serial %s\n", it.Type, it.Make, it.Model, it.Calibre, it.Serial)
			case it.Kind == seizures.ItemCash:
				fmt.Fprintf(stdout, "  cash %.2f %s = USD %.2f, MXN %.2f (%g MXN/USD, %s)\n", it.Amount, it.Currency, float64(it.USDCents)/100, float64(it.MXNCents)/100, it.MXNPerUSD, it.RateSource)
			default:
				fmt.Fprintf(stdout, "  %s %d %s%s\n", it.Kind, it.Count, it.Calibre, it.What)
			}
		}
		for _, b := range v.Badges {
			fmt.Fprintf(stdout, "like %s (%s, %s): %s\n", b.ID, b.Side, b.Agency, strings.Join(b.Why, ", "))
		}
		return nil
	case "record":
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
		if err := one(http.MethodPost, "/api/v1/seizures", in); err != nil {
			return fmt.Errorf("%s: %w", pos[0], err)
		}
		return nil
	case "import":
		if err := want(1, "one file"); err != nil {
			return err
		}
		f, err := os.Open(pos[0])
		if err != nil {
			return err
		}
		defer f.Close()
		raw, err := c.send(ctx, http.MethodPost, "/api/v1/seizures/import", "text/csv", f)
		if err != nil {
			return fmt.Errorf("%s: %w", pos[0], err)
		}
		var out struct{ Imported int }
		if err := json.Unmarshal(raw, &out); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "imported %d seizures\n", out.Imported)
		return nil
	case "submit":
		if err := want(1, "one id"); err != nil {
			return err
		}
		return one(http.MethodPost, "/api/v1/seizures/"+url.PathEscape(pos[0])+"/submit", map[string]any{})
	case "return":
		if err := want(1, "one id"); err != nil {
			return err
		}
		return one(http.MethodPost, "/api/v1/seizures/"+url.PathEscape(pos[0])+"/return", map[string]any{"reason": *reason})
	case "release":
		if len(pos) == 0 {
			return fmt.Errorf("seizures release takes one or more ids")
		}
		in := map[string]any{"ids": pos}
		if *to != "" {
			in["to"] = strings.Split(*to, ",")
		}
		var out struct{ Released []*seizures.Seizure }
		if err := c.call(ctx, http.MethodPost, "/api/v1/seizures/release", in, &out); err != nil {
			return err
		}
		for _, sz := range out.Released {
			line(sz)
		}
		return nil
	case "figures":
		var f seizures.Figures
		if err := c.call(ctx, http.MethodGet, "/api/v1/seizures/figures", nil, &f); err != nil {
			return err
		}
		if *asJSON {
			return printJSON(f)
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "SIDE\tSHARED\tKG\tFIREARMS\tCASH USD")
		for _, sd := range f.Sides {
			fmt.Fprintf(tw, "%s\t%d\t%.3f\t%d\t%.2f\n", sd.Party, sd.Released, sd.Kg, sd.Firearms, sd.CashUSD)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s released %d of the %d seizures it recorded\n", f.Own.Party, f.Own.Released, f.Own.Recorded)
		return nil
	case "export":
		raw, err := c.send(ctx, http.MethodGet, "/api/v1/seizures/export/unodc?year="+url.QueryEscape(*year), "", nil)
		if err != nil {
			return err
		}
		if *outFile != "" {
			return os.WriteFile(*outFile, raw, 0o600)
		}
		_, err = stdout.Write(raw)
		return err
	}
	return nil
}
