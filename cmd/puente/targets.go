package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"puente/internal/extradition"
)

const targetsUsage = `usage: puente targets COMMAND [flags] (token in $PUENTE_TOKEN or --token, node in --url)

  list [--side MX|US] [--status S] [--q TEXT] [--json]   the priority targets you may see
  show ID [--json]                            one target, its charges, acknowledgement and additions
  nominate FILE.json                          a draft nomination of your agency
  edit ID FILE.json                           change the particulars (a draft, or a released one: the partner gets the next version)
  submit ID                                   put a draft before a reviewer
  return ID --reason TEXT                     send it back to its author
  release ID [--caveats FILE.json]            release it to the partner (a reviewer who did not write it)
  status ID --status at_large|located|detained|in_proceedings|surrendered|deceased|withdrawn
  ack ID                                      acknowledge the partner's nomination
  add ID --text TEXT                          add what your side knows, sent to the other side
  notice ID NOTICE.json                       record a Red Notice or diffusion (INTERPOL's public notice JSON)
  notices ID                                  export its notices in that JSON
  photo ID FILE.jpg|png                       add a photograph (at most 5 MiB, up to five)
  figures [--json]                            targets per nominating side
`

var targetsFlags = map[string][]string{
	"list": {"side", "status", "q", "json"}, "show": {"json"}, "nominate": nil, "edit": nil, "submit": nil, "return": {"reason"},
	"release": {"caveats"}, "status": {"status"}, "ack": nil, "add": {"text"}, "figures": {"json"}, "notice": nil, "notices": nil, "photo": nil,
}

// cmdTargets drives a running node's priority targets through its API.
func cmdTargets(ctx context.Context, args []string, stdout io.Writer) error {
	a, err := newAreaCmd("targets", targetsUsage, targetsFlags, args, stdout)
	if err != nil {
		return err
	}
	cmd, fs := a.cmd, a.fs
	asJSON := fs.Bool("json", false, "print JSON")
	side := fs.String("side", "", "MX or US")
	status := fs.String("status", "", "a status")
	query := fs.String("q", "", "a part of a name, alias or organisation")
	reason := fs.String("reason", "", "why it goes back")
	text := fs.String("text", "", "what to add")
	cavFile := fs.String("caveats", "", "a JSON file of caveats")
	if err := a.parse(args, false); err != nil {
		return err
	}
	pos, c, want, printJSON := a.pos, a.c, a.want, a.printJSON
	line := func(t *extradition.Target) {
		fmt.Fprintf(stdout, "%s %s %s %s %s (%s)\n", t.ID, t.Origin, t.Stage, t.Status, t.Name, t.Agency)
	}
	readFile := readJSON
	call := func(method, path string, in any) error {
		var t extradition.Target
		if err := c.call(ctx, method, path, in, &t); err != nil {
			return err
		}
		line(&t)
		return nil
	}
	on := func(action string, in any) error {
		if err := want(1, "one id"); err != nil {
			return err
		}
		return call(http.MethodPost, "/api/v1/targets/"+url.PathEscape(pos[0])+"/"+action, in)
	}
	switch cmd {
	case "list":
		q := url.Values{"side": {*side}, "status": {*status}, "q": {*query}}
		var out struct{ Targets []*extradition.Target }
		if err := c.call(ctx, http.MethodGet, "/api/v1/targets?"+q.Encode(), nil, &out); err != nil {
			return err
		}
		if *asJSON {
			return printJSON(out.Targets)
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tSIDE\tAGENCY\tNOMINATION\tSTATUS\tACK\tNAME")
		for _, t := range out.Targets {
			ack := "-"
			if t.Ack != nil {
				ack = t.Ack.Agency
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Origin, t.Agency, t.Stage, t.Status, ack, t.Title())
		}
		return tw.Flush()
	case "show":
		if err := want(1, "one id"); err != nil {
			return err
		}
		var t extradition.Target
		if err := c.call(ctx, http.MethodGet, "/api/v1/targets/"+url.PathEscape(pos[0]), nil, &t); err != nil {
			return err
		}
		if *asJSON {
			return printJSON(t)
		}
		line(&t)
		if len(t.Aliases) > 0 {
			fmt.Fprintf(stdout, "aliases: %s\n", strings.Join(t.Aliases, ", "))
		}
		for _, ch := range t.Charges {
			fmt.Fprintf(stdout, "charge: %s; %s %s %s\n", ch.Offence, ch.Court, ch.Warrant, ch.Date)
		}
		if t.Ack != nil {
			fmt.Fprintf(stdout, "acknowledged by %s %s\n", t.Ack.Agency, t.Ack.At.Format("2006-01-02T15:04Z"))
		}
		for _, a := range t.Additions {
			fmt.Fprintf(stdout, "added by %s %s: %s\n", a.Side, a.Agency, a.Text)
		}
		for _, p := range t.Photos {
			fmt.Fprintf(stdout, "photo %s %s sha256 %s\n", p.Name, p.ContentType, p.SHA256)
		}
		for _, n := range t.Notices {
			fmt.Fprintf(stdout, "%s notice %s: %s %s (%s)\n", n.Kind, n.Reference, n.Forename, n.Name, n.Issuing)
		}
		return nil
	case "nominate":
		if err := want(1, "one file"); err != nil {
			return err
		}
		in, err := readFile(pos[0])
		if err != nil {
			return err
		}
		return call(http.MethodPost, "/api/v1/targets", in)
	case "edit":
		if err := want(2, "an id and a file"); err != nil {
			return err
		}
		in, err := readFile(pos[1])
		if err != nil {
			return err
		}
		return call(http.MethodPut, "/api/v1/targets/"+url.PathEscape(pos[0]), in)
	case "submit":
		return on("submit", nil)
	case "return":
		return on("return", map[string]string{"reason": *reason})
	case "release":
		in := map[string]any{}
		if *cavFile != "" {
			cav, err := readFile(*cavFile)
			if err != nil {
				return err
			}
			in["caveats"] = cav
		}
		return on("release", in)
	case "status":
		return on("status", map[string]string{"status": *status})
	case "ack":
		return on("ack", nil)
	case "add":
		return on("additions", map[string]string{"text": *text})
	case "notice":
		if err := want(2, "an id and a notice file"); err != nil {
			return err
		}
		in, err := readFile(pos[1])
		if err != nil {
			return err
		}
		return call(http.MethodPost, "/api/v1/targets/"+url.PathEscape(pos[0])+"/notices", in)
	case "photo":
		if err := want(2, "an id and a photo file"); err != nil {
			return err
		}
		data, err := os.ReadFile(pos[1])
		if err != nil {
			return err
		}
		return call(http.MethodPost, "/api/v1/targets/"+url.PathEscape(pos[0])+"/photos", map[string]any{"name": filepath.Base(pos[1]), "content": data})
	case "notices":
		if err := want(1, "one id"); err != nil {
			return err
		}
		var out struct {
			Notices []extradition.NoticeJSON `json:"notices"`
		}
		if err := c.call(ctx, http.MethodGet, "/api/v1/targets/"+url.PathEscape(pos[0])+"/notices", nil, &out); err != nil {
			return err
		}
		return printJSON(out.Notices)
	case "figures":
		var f struct {
			Targets []extradition.TargetFigures `json:"targets"`
		}
		if err := c.call(ctx, http.MethodGet, "/api/v1/extradition/figures", nil, &f); err != nil {
			return err
		}
		if *asJSON {
			return printJSON(f)
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "SIDE\tNOMINATED\tACKNOWLEDGED\tAT LARGE\tLOCATED\tDETAINED\tIN PROCEEDINGS\tSURRENDERED\tWITHDRAWN")
		for _, s := range f.Targets {
			b := s.ByStatus
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\n", s.Party, s.Nominated, s.Acknowledged, b[extradition.AtLarge], b[extradition.Located],
				b[extradition.Detained], b[extradition.InProceedings], b[extradition.TargetSurrendered], b[extradition.Withdrawn])
		}
		return tw.Flush()
	}
	return nil
}
