package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"

	"puente/internal/finintel"
)

const finintelUsage = `usage: puente finintel COMMAND [flags] (token in $PUENTE_TOKEN or --token, node in --url)

  list [--direction sent|received] [--json]     disclosures you may see
  show ID [--json]                              one disclosure
  draft FILE.json                               a new draft (the API's draft JSON)
  goaml FILE.xml                                a new draft from a goAML report
  csv ID --kind subjects|accounts|transactions FILE.csv
                                                add CSV rows to a draft
  submit ID | release ID | recall ID | evidential ID
  return ID --note TEXT
  pass-on ID --agency AGENCY
  consent ID --use disseminate|evidential [--agency AGENCY] --reason TEXT
  decide CONSENT-ID (--grant | --deny) [--conditions TEXT]
  feedback ID --kind KIND [--amount N --currency CUR] [--count N] [--note TEXT]
  export ID [--out FILE]                        FollowTheMoney JSON lines
  rfi list [--json] | rfi show ID | rfi ask --title T --questions Q [--urgency U]
  rfi answer ID --kind partial|full|decline --body TEXT [--disclosure ID]
  figures [--json]                              the reciprocity figures
`

// finintelFlags are the flags each subcommand takes, besides --url and
// --token: any other is refused, not ignored.
var finintelFlags = map[string][]string{
	"list": {"direction", "json"}, "show": {"json"}, "draft": nil, "goaml": nil, "csv": {"kind"},
	"submit": nil, "release": nil, "recall": nil, "evidential": nil, "return": {"note"}, "pass-on": {"agency"},
	"consent": {"use", "agency", "reason"}, "decide": {"grant", "deny", "conditions"},
	"feedback": {"kind", "amount", "currency", "count", "note"}, "export": {"out"}, "figures": {"json"},
	"rfi list": {"json"}, "rfi show": {"json"}, "rfi ask": {"title", "questions", "urgency"},
	"rfi answer": {"kind", "body", "disclosure"},
}

// cmdFinIntel drives a running node's financial intelligence through its
// API, as the token's user: the same rules and logging as the UI.
func cmdFinIntel(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return usageErr(finintelUsage)
	}
	cmd := args[0]
	if cmd == "rfi" {
		if len(args) < 2 {
			return usageErr(finintelUsage)
		}
		cmd, args = "rfi "+args[1], args[1:]
	}
	fs := flags("finintel " + cmd)
	var base, token string
	clientFlags(fs, &base, &token)
	asJSON := fs.Bool("json", false, "print JSON")
	direction := fs.String("direction", "", "sent or received")
	kind := fs.String("kind", "", "the kind (CSV file, feedback, answer)")
	note := fs.String("note", "", "a note")
	agency := fs.String("agency", "", "a domestic agency")
	use := fs.String("use", "", "disseminate or evidential")
	reason := fs.String("reason", "", "why")
	grant := fs.Bool("grant", false, "grant the consent")
	deny := fs.Bool("deny", false, "deny the consent")
	conditions := fs.String("conditions", "", "conditions of a grant")
	amount := fs.String("amount", "", "an amount, such as 950000.00")
	currency := fs.String("currency", "", "a currency code")
	count := fs.Int("count", 0, "how many (arrests, accounts…)")
	outFile := fs.String("out", "", "write to this file instead of standard output")
	title := fs.String("title", "", "the request's title")
	questions := fs.String("questions", "", "the request's questions")
	urgency := fs.String("urgency", "routine", "routine, urgent or immediate")
	body := fs.String("body", "", "the answer, or the reason for declining")
	disclosure := fs.String("disclosure", "", "a released disclosure to attach")
	allowed, known := finintelFlags[cmd]
	if !known {
		return fmt.Errorf("unknown finintel command %q\n%s", cmd, strings.TrimRight(finintelUsage, "\n"))
	}
	pos, err := parse(fs, args[1:])
	if err != nil {
		return err
	}
	if err := onlyFlags(fs, "finintel "+cmd, allowed); err != nil {
		return err
	}
	c, err := newClient(base, token)
	if err != nil {
		return err
	}
	one := func() (string, error) {
		if len(pos) != 1 {
			return "", fmt.Errorf("finintel %s takes one id or file", cmd)
		}
		return url.PathEscape(pos[0]), nil
	}
	printJSON := func(v any) error {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	disc := func(path string, in any) error {
		var d finintel.Disclosure
		if err := c.call(ctx, http.MethodPost, path, in, &d); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s %s (%s)\n", d.ID, d.Status, d.Title)
		return nil
	}
	switch cmd {
	case "list":
		var out struct{ Disclosures []finintel.Disclosure }
		if err := c.call(ctx, http.MethodGet, "/api/v1/finintel/disclosures?direction="+url.QueryEscape(*direction), nil, &out); err != nil {
			return err
		}
		if *asJSON {
			return printJSON(out.Disclosures)
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tSTATUS\tFROM → TO\tSUBJECTS\tTRANSACTIONS\tTITLE")
		for _, d := range out.Disclosures {
			fmt.Fprintf(tw, "%s\t%s\t%s → %s\t%d\t%d\t%s\n", d.ID, d.Status, d.FromAgency, d.ToAgency, d.NSubjects, d.NTransactions, d.Title)
		}
		return tw.Flush()
	case "show":
		id, err := one()
		if err != nil {
			return err
		}
		var d finintel.Disclosure
		if err := c.call(ctx, http.MethodGet, "/api/v1/finintel/disclosures/"+id, nil, &d); err != nil {
			return err
		}
		if *asJSON {
			return printJSON(d)
		}
		fmt.Fprintf(stdout, "%s  %s\n%s (%s) → %s  %s, %s\n", d.ID, d.Title, d.FromAgency, d.Origin, d.ToAgency, d.Status, d.Caveats.Classification)
		fmt.Fprintf(stdout, "subjects %d, accounts %d, transactions %d\n", d.NSubjects, d.NAccounts, d.NTransactions)
		for _, x := range d.Consents {
			fmt.Fprintf(stdout, "consent %s: %s %s %s\n", x.ID, x.Use, x.Agency, x.Status)
		}
		for _, x := range d.Disseminations {
			fmt.Fprintf(stdout, "passed on to %s by %s\n", x.Agency, x.By)
		}
		for _, x := range d.Feedback {
			fmt.Fprintf(stdout, "feedback: %s %s %s\n", x.Kind, x.Amount, x.Currency)
		}
		for _, k := range d.Known {
			fmt.Fprintf(stdout, "known to us: %s %s in %s %s\n", k.Ref, k.Key, k.Source, k.Link)
		}
		for _, a := range d.Access {
			fmt.Fprintf(stdout, "partner reported: %s by %s (%s) %s\n", a.Action, a.Actor, a.Agency, a.ToAgency)
		}
		if !d.SealAttested.IsZero() {
			fmt.Fprintf(stdout, "partner sealed its copy (%s) at %s\n", d.SealReason, d.SealAttested.Format("2006-01-02 15:04:05"))
		}
		if d.Sealed() {
			fmt.Fprintf(stdout, "sealed (%s) at %s; content SHA-256 %s\n", d.SealReason, d.SealedAt.Format("2006-01-02 15:04:05"), d.ContentSHA256)
		}
		return nil
	case "draft", "goaml":
		if len(pos) != 1 {
			return fmt.Errorf("finintel %s takes one file", cmd)
		}
		f, err := os.Open(pos[0])
		if err != nil {
			return err
		}
		defer f.Close()
		path, ct := "/api/v1/finintel/disclosures", "application/json"
		if cmd == "goaml" {
			path, ct = "/api/v1/finintel/goaml", "application/xml"
		}
		raw, err := c.send(ctx, http.MethodPost, path, ct, f)
		if err != nil {
			return fmt.Errorf("%s: %w", pos[0], err)
		}
		var d finintel.Disclosure
		if err := json.Unmarshal(raw, &d); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s draft (%s): %d subjects, %d accounts, %d transactions\n", d.ID, d.Title, d.NSubjects, d.NAccounts, d.NTransactions)
		return nil
	case "csv":
		if len(pos) != 2 {
			return errors.New("usage: puente finintel csv ID --kind subjects|accounts|transactions FILE.csv")
		}
		f, err := os.Open(pos[1])
		if err != nil {
			return err
		}
		defer f.Close()
		raw, err := c.send(ctx, http.MethodPost, "/api/v1/finintel/disclosures/"+url.PathEscape(pos[0])+"/import?kind="+url.QueryEscape(*kind), "text/csv", f)
		if err != nil {
			return fmt.Errorf("%s: %w", pos[1], err)
		}
		var d finintel.Disclosure
		if err := json.Unmarshal(raw, &d); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: %d subjects, %d accounts, %d transactions\n", d.ID, d.NSubjects, d.NAccounts, d.NTransactions)
		return nil
	case "submit", "release", "recall", "evidential":
		id, err := one()
		if err != nil {
			return err
		}
		return disc("/api/v1/finintel/disclosures/"+id+"/"+cmd, nil)
	case "return":
		id, err := one()
		if err != nil {
			return err
		}
		return disc("/api/v1/finintel/disclosures/"+id+"/return", map[string]string{"note": *note})
	case "pass-on":
		id, err := one()
		if err != nil {
			return err
		}
		return disc("/api/v1/finintel/disclosures/"+id+"/pass-on", map[string]string{"agency": *agency})
	case "consent":
		id, err := one()
		if err != nil {
			return err
		}
		var x finintel.Consent
		if err := c.call(ctx, http.MethodPost, "/api/v1/finintel/disclosures/"+id+"/consents", map[string]string{"use": *use, "agency": *agency, "reason": *reason}, &x); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "consent %s requested: %s %s\n", x.ID, x.Use, x.Agency)
		return nil
	case "decide":
		id, err := one()
		if err != nil {
			return err
		}
		if *grant == *deny {
			return errors.New("say --grant or --deny")
		}
		if err := c.call(ctx, http.MethodPost, "/api/v1/finintel/consents/"+id+"/decision", map[string]any{"grant": *grant, "conditions": *conditions}, nil); err != nil {
			return err
		}
		verdict := "denied"
		if *grant {
			verdict = "granted"
		}
		fmt.Fprintf(stdout, "consent %s %s\n", pos[0], verdict)
		return nil
	case "feedback":
		id, err := one()
		if err != nil {
			return err
		}
		var f finintel.Feedback
		if err := c.call(ctx, http.MethodPost, "/api/v1/finintel/disclosures/"+id+"/feedback",
			map[string]any{"kind": *kind, "amount": *amount, "currency": *currency, "count": *count, "note": *note}, &f); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "feedback %s sent: %s\n", f.ID, f.Kind)
		return nil
	case "export":
		id, err := one()
		if err != nil {
			return err
		}
		raw, err := c.send(ctx, http.MethodGet, "/api/v1/finintel/disclosures/"+id+"/export", "", nil)
		if err != nil {
			return err
		}
		if *outFile != "" {
			if err := os.WriteFile(*outFile, raw, 0o600); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "wrote %d entities to %s\n", strings.Count(string(raw), "\n"), *outFile)
			return nil
		}
		_, err = stdout.Write(raw)
		return err
	case "figures":
		var f finintel.Figures
		if err := c.call(ctx, http.MethodGet, "/api/v1/finintel/figures", nil, &f); err != nil {
			return err
		}
		if *asJSON {
			return printJSON(f)
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "SIDE\tDISCLOSURES SENT\tRFIS SENT\tANSWERED\tDECLINED\tOVERDUE\tMEDIAN DAYS\tCOMMITMENT\tCONSENT GRANTED/DENIED")
		for _, s := range f.Sides {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%.2f\t%d\t%d/%d\n", s.Party, s.DisclosuresSent, s.RFIsSent, s.RFIsAnswered, s.RFIsDeclined, s.RFIsOverdue,
				s.MedianResponseDays, s.CommitmentDays, s.ConsentsGranted, s.ConsentsDenied)
		}
		return tw.Flush()
	case "rfi list":
		var out struct{ RFIs []finintel.RFI }
		if err := c.call(ctx, http.MethodGet, "/api/v1/finintel/rfis", nil, &out); err != nil {
			return err
		}
		if *asJSON {
			return printJSON(out.RFIs)
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tSTATUS\tFROM → TO\tDEADLINE\tFLAG\tTITLE")
		for _, r := range out.RFIs {
			flag := ""
			switch {
			case r.Late:
				flag = "answered late"
			case r.Overdue:
				flag = "overdue"
			case r.DueSoon:
				flag = "due soon"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s → %s\t%s\t%s\t%s\n", r.ID, r.Status, r.FromAgency, r.ToAgency, r.DeadlineAt.Format("2006-01-02"), flag, r.Title)
		}
		return tw.Flush()
	case "rfi show":
		id, err := one()
		if err != nil {
			return err
		}
		var r finintel.RFI
		if err := c.call(ctx, http.MethodGet, "/api/v1/finintel/rfis/"+id, nil, &r); err != nil {
			return err
		}
		return printJSON(r)
	case "rfi ask":
		var r finintel.RFI
		if err := c.call(ctx, http.MethodPost, "/api/v1/finintel/rfis", finintel.NewRFI{Title: *title, Urgency: *urgency, Questions: *questions}, &r); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "request %s sent; the partner's deadline is %s\n", r.ID, r.DeadlineAt.Format("2006-01-02 15:04 MST"))
		return nil
	case "rfi answer":
		id, err := one()
		if err != nil {
			return err
		}
		if err := c.call(ctx, http.MethodPost, "/api/v1/finintel/rfis/"+id+"/responses", map[string]string{"kind": *kind, "body": *body, "disclosure_id": *disclosure}, nil); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "answer sent to request %s\n", pos[0])
		return nil
	}
	return usageErr(finintelUsage)
}

// usageErr is a usage text as an error, without its final newline.
func usageErr(usage string) error { return fmt.Errorf("%s", strings.TrimRight(usage, "\n")) }
