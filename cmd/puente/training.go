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

	"puente/internal/agreement"
	"puente/internal/training"
)

const trainingUsage = `usage: puente training COMMAND [flags] (token in $PUENTE_TOKEN or --token, node in --url)

  list [--status S] [--json]                  offers of both sides you may see
  show ID [--json]                            one offer, its nominations, exercise and history
  offer FILE.json                             draft an offer (course, exercise, exchange, seminar)
  edit ID FILE.json                           change our draft (the whole offer again)
  publish ID                                  publish our draft to the partner (not its author)
  nominate ID FILE.json                       nominate a participant (name, dob, id_type, national_id, rank, unit, agency)
  substitute ID --nomination N FILE.json      replace a nominee with another
  withdraw ID --nomination N [--reason TEXT]  take a nomination back
  vet ID --nomination N --status S [--date D --unit U]   record vetting (pending, approved, denied, suspended, expired)
  confirm ID --nomination N | waitlist ID --nomination N | decline ID --nomination N --reason TEXT
  attend ID --nomination N --date D --hours H one day's attendance
  result ID --nomination N --result passed|not_passed|attended [--hours H]   (passed issues the certificate)
  certify ID --nomination N                   issue the certificate of a participant who passed
  revoke ID --nomination N --reason TEXT      revoke the participant's certificate
  cancel ID --reason TEXT | complete ID       end our offer
  commit ID FILE.json                         our units and resources for an exercise
  report ID FILE.json                         our after-action report (summary, lessons)
  figures [--json]                            the training figures of both sides
  certificates [--offer ID] [--json]          certificates issued by either side
  certificate ID --out FILE                   download a certificate file, as signed
  revocations --out FILE                      this node's signed list of revoked certificates
`

var trainingFlags = map[string][]string{
	"list": {"status", "json"}, "show": {"json"}, "offer": nil, "edit": nil, "publish": nil, "nominate": nil, "substitute": {"nomination"},
	"withdraw": {"nomination", "reason"}, "vet": {"nomination", "status", "date", "unit"}, "confirm": {"nomination"}, "waitlist": {"nomination"},
	"decline": {"nomination", "reason"}, "attend": {"nomination", "date", "hours"}, "result": {"nomination", "result", "hours"}, "certify": {"nomination"},
	"revoke": {"nomination", "reason"}, "cancel": {"reason"}, "complete": nil, "commit": nil, "report": nil, "figures": {"json"},
	"certificates": {"offer", "json"}, "certificate": {"out"}, "revocations": {"out"},
}

// cmdTraining drives a running node's training area through its API.
func cmdTraining(ctx context.Context, args []string, stdout io.Writer) error {
	a, err := newAreaCmd("training", trainingUsage, trainingFlags, args, stdout)
	if err != nil {
		return err
	}
	cmd, fs := a.cmd, a.fs
	asJSON := fs.Bool("json", false, "print JSON")
	status := fs.String("status", "", "an offer's status (list) or a vetting status (vet)")
	nomination := fs.String("nomination", "", "the nomination's id")
	reason := fs.String("reason", "", "why")
	date := fs.String("date", "", "a date, YYYY-MM-DD")
	unit := fs.String("unit", "", "the unit vetted")
	hours := fs.Int("hours", 0, "hours")
	result := fs.String("result", "", "passed, not_passed or attended")
	offer := fs.String("offer", "", "an offer's id")
	out := fs.String("out", "", "the file to write")
	if err := a.parse(args, false); err != nil {
		return err
	}
	pos, c, want, printJSON := a.pos, a.c, a.want, a.printJSON
	line := func(o *training.Offer) {
		fmt.Fprintf(stdout, "%s %s %s %s %q %s–%s seats %d/%d\n", o.ID, o.Origin, o.Status, o.Type, o.Title, o.Start, o.End, o.Count(training.NomConfirmed), o.Seats)
	}
	call := func(method, path string, in any) error {
		var o training.Offer
		if err := c.call(ctx, method, path, in, &o); err != nil {
			return err
		}
		line(&o)
		for _, n := range o.Nominations {
			vet := ""
			if n.Vetting != nil {
				vet = " vetting " + n.Vetting.Status
			}
			fmt.Fprintf(stdout, "  %s %s %s (%s)%s%s\n", n.ID, n.Status, n.Participant.Name, n.Participant.Agency, vet, strings.TrimRight(" "+n.Result+" "+n.Certificate, " "))
		}
		return nil
	}
	offerPath := func() string { return "/api/v1/training/offers/" + url.PathEscape(pos[0]) }
	step := func(n int, st map[string]any) error {
		what := "an offer's id"
		if n == 2 {
			what = "an offer's id and a file"
		}
		if err := want(n, what); err != nil {
			return err
		}
		st["step"] = cmd
		if *nomination != "" {
			st["nomination_id"] = *nomination
		}
		if *reason != "" {
			st["reason"] = *reason
		}
		return call(http.MethodPost, offerPath()+"/steps", st)
	}
	file := func(key string) (map[string]any, error) {
		raw, err := readJSON(pos[1])
		if err != nil {
			return nil, err
		}
		return map[string]any{key: raw}, nil
	}
	download := func(path string) error {
		if *out == "" {
			return fmt.Errorf("training %s takes --out FILE", cmd)
		}
		raw, err := c.send(ctx, http.MethodGet, path, "", nil)
		if err != nil {
			return err
		}
		if err := os.WriteFile(*out, raw, 0o600); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %s (%d bytes)\n", *out, len(raw))
		return nil
	}
	switch cmd {
	case "list":
		var res struct{ Offers []*training.Offer }
		if err := c.call(ctx, http.MethodGet, "/api/v1/training/offers?status="+url.QueryEscape(*status), nil, &res); err != nil {
			return err
		}
		if *asJSON {
			return printJSON(res.Offers)
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tSIDE\tSTATUS\tTYPE\tDATES\tSEATS\tTITLE")
		for _, o := range res.Offers {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s–%s\t%d/%d\t%s\n", o.ID, o.Origin, o.Status, o.Type, o.Start, o.End, o.Count(training.NomConfirmed), o.Seats, o.Title)
		}
		return tw.Flush()
	case "show":
		if err := want(1, "an offer's id"); err != nil {
			return err
		}
		if *asJSON {
			var o json.RawMessage
			if err := c.call(ctx, http.MethodGet, offerPath(), nil, &o); err != nil {
				return err
			}
			return printJSON(o)
		}
		var o training.Offer
		if err := c.call(ctx, http.MethodGet, offerPath(), nil, &o); err != nil {
			return err
		}
		if err := call(http.MethodGet, offerPath(), nil); err != nil {
			return err
		}
		for _, e := range o.History {
			fmt.Fprintf(stdout, "%s %s %s %s %s\n", e.At.Format(time.RFC3339), e.Side, e.By, e.What, e.Detail)
		}
		return nil
	case "offer":
		if err := want(1, "one file"); err != nil {
			return err
		}
		in, err := readJSON(pos[0])
		if err != nil {
			return err
		}
		return call(http.MethodPost, "/api/v1/training/offers", in)
	case "edit":
		if err := want(2, "an offer's id and a file"); err != nil {
			return err
		}
		in, err := readJSON(pos[1])
		if err != nil {
			return err
		}
		return call(http.MethodPut, offerPath(), in)
	case "publish":
		if err := want(1, "an offer's id"); err != nil {
			return err
		}
		return call(http.MethodPost, offerPath()+"/publish", nil)
	case "nominate", "substitute":
		if err := want(2, "an offer's id and a participant's file"); err != nil {
			return err
		}
		st, err := file("participant")
		if err != nil {
			return err
		}
		return step(2, map[string]any{"nomination": st})
	case "commit", "report":
		if err := want(2, "an offer's id and a file"); err != nil {
			return err
		}
		key := map[string]string{"commit": "commitment", "report": "report"}[cmd]
		st, err := file(key)
		if err != nil {
			return err
		}
		return step(2, st)
	case "vet":
		return step(1, map[string]any{"vetting": map[string]string{"status": *status, "date": *date, "unit_vetted": *unit}})
	case "attend":
		return step(1, map[string]any{"day": map[string]any{"date": *date, "hours": *hours}})
	case "result":
		return step(1, map[string]any{"result": *result, "hours": *hours})
	case "withdraw", "confirm", "waitlist", "decline", "certify", "revoke", "cancel", "complete":
		return step(1, map[string]any{})
	case "figures":
		var f training.Figures
		if err := c.call(ctx, http.MethodGet, "/api/v1/training/figures", nil, &f); err != nil {
			return err
		}
		if *asJSON {
			return printJSON(f)
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "SIDE\tOFFERS\tHOURS\tSEATS\tFILLED\tTRAINED\tVETTED ON TIME\tLATE\tDENIED\tCERTIFICATES\tREVOKED")
		for _, s := range f.Sides {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\n", s.Party, s.Offers, s.Hours, s.SeatsOffer, s.SeatsFilled, s.Trained, s.VetOnTime, s.VetLate, s.Denied, s.Certificates, s.Revoked)
		}
		return tw.Flush()
	case "certificates":
		var res struct{ Certificates []*training.Issued }
		if err := c.call(ctx, http.MethodGet, "/api/v1/training/certificates?offer="+url.QueryEscape(*offer), nil, &res); err != nil {
			return err
		}
		if *asJSON {
			return printJSON(res.Certificates)
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tISSUER\tPARTICIPANT\tAGENCY\tCOURSE\tHOURS\tSTATUS")
		for _, i := range res.Certificates {
			st := "valid"
			if !i.RevokedAt.IsZero() {
				st = "revoked " + i.RevokedAt.Format(time.DateOnly)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\n", i.ID, i.Issuer, i.Certificate.Participant.Name, i.Agency, i.Certificate.Course.Title, i.Certificate.Hours, st)
		}
		return tw.Flush()
	case "certificate":
		if err := want(1, "a certificate's id"); err != nil {
			return err
		}
		return download("/api/v1/training/certificates/" + url.PathEscape(pos[0]) + "/file")
	case "revocations":
		return download("/api/v1/training/revocations")
	}
	return usageErr(trainingUsage)
}

const certificateUsage = `usage: puente certificate verify FILE --agreement FILE [--revocations FILE ...] [--id-type T --id X]

  Checks a training certificate offline, with no node and no token: the
  issuer's signature over its exact bytes with the agreement's key, the
  agreement it was issued under, and, with --revocations (a list
  downloaded with puente training revocations), that the issuer has not
  revoked it; with --id, that it names the holder of that identifier.
`

// repeated is a flag that may be given several times.
type repeated []string

func (r *repeated) String() string     { return strings.Join(*r, ",") }
func (r *repeated) Set(v string) error { *r = append(*r, v); return nil }

// cmdCertificate verifies a certificate offline.
func cmdCertificate(args []string, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "verify" {
		return usageErr(certificateUsage)
	}
	fs := flags("certificate verify")
	agPath := fs.String("agreement", "", "the signed agreement file")
	var lists repeated
	fs.Var(&lists, "revocations", "a revocation list file (repeatable)")
	idType := fs.String("id-type", "passport", "the identifier's type: curp, passport or rfc")
	id := fs.String("id", "", "the holder's identifier, to check the certificate names them")
	pos, err := parse(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) != 1 || *agPath == "" {
		return usageErr(certificateUsage)
	}
	ag, err := agreement.Load(*agPath)
	if err != nil {
		return err
	}
	keys, err := training.KeysOf(ag)
	if err != nil {
		return err
	}
	var revs []*training.RevocationList
	for _, p := range lists {
		raw, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		l, err := training.VerifyRevocations(raw, keys)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		revs = append(revs, l)
	}
	raw, err := os.ReadFile(pos[0])
	if err != nil {
		return err
	}
	v, err := training.VerifyCertificate(raw, keys, revs...)
	if err != nil {
		return fmt.Errorf("%s: %w", pos[0], err)
	}
	if *id != "" && !v.CheckID(*idType, *id) {
		v.Problems = append(v.Problems, "it does not name the holder of that identifier")
	}
	if len(v.Problems) > 0 {
		for _, p := range v.Problems {
			fmt.Fprintf(stdout, "FAIL: %s\n", p)
		}
		return fmt.Errorf("the certificate %s does not verify: %s", pos[0], strings.Join(v.Problems, "; "))
	}
	fmt.Fprintf(stdout, "OK: certificate %s: %s (%s, %s) %s %q, %d of %d hours, %s to %s; signed by %s on %s under agreement %s\n",
		v.ID, v.Participant.Name, v.Participant.Unit, v.Participant.Agency, v.Result, v.Course.Title, v.Hours, v.Course.Hours, v.Course.Start, v.Course.End,
		v.Issuer, v.IssuedAt.Format(time.RFC3339), v.Agreement[:16])
	return nil
}
