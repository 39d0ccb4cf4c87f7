package api_test

import (
	"puente/internal/match"

	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"puente/internal/auth"
	"puente/internal/demo"
	"puente/internal/finintel"
	"puente/internal/screen"
	"puente/internal/testenv"
	"puente/internal/trustlog"
)

// side is one node's cast for the lifecycle.
type side struct {
	code                     string
	analyst, supervisor, fiu *client
	other                    *client // an analyst of another domestic agency
	otherAgency              string
}

func cast(t *testing.T, p *demo.Pair) map[string]*side {
	return map[string]*side{
		"MX": {code: "MX", analyst: &client{t: t, base: p.URL("MX"), token: p.Tokens["MX"]},
			supervisor: userClient(t, p, "MX", "supervisora", auth.Supervisor, "UIF"),
			fiu:        userClient(t, p, "MX", "juridico", auth.Legal, "UIF"),
			other:      userClient(t, p, "MX", "fiscal", auth.Analyst, "FGR"), otherAgency: "FGR"},
		"US": {code: "US", analyst: &client{t: t, base: p.URL("US"), token: p.Tokens["US"]},
			supervisor: userClient(t, p, "US", "supervisor", auth.Supervisor, "FinCEN"),
			fiu:        userClient(t, p, "US", "counsel", auth.Legal, "FinCEN"),
			other:      userClient(t, p, "US", "agent", auth.Analyst, "DEA"), otherAgency: "DEA"},
	}
}

func ringDraft(title string, releasable []string) map[string]any {
	return map[string]any{
		"title": title, "criminal_group": "Red Pacífico", "narrative": "Structuring of cash through front companies on both sides of the border.",
		"caveats": map[string]any{"classification": "RESTRICTED", "purpose": "intelligence-only", "retention_days": 365, "third_party_rule": true, "releasable_to": releasable},
		"subjects": []map[string]any{
			{"ref": "S1", "type": "person", "given_names": "Mónica", "first_surname": "Ruiz", "second_surname": "Salgado", "dob": "1982-11-22",
				"nationality": "MX", "curp": "RUSM821122MSLZLN08", "passport": "G12345678", "passport_country": "MEX", "phone": "+52 667 555 0101"},
			{"ref": "S2", "type": "company", "name": "Comercializadora Pacífico Norte", "rfc": "ABC680524P76", "country": "MX"},
		},
		"accounts": []map[string]any{
			{"ref": "A1", "bank": "BBVA México", "clabe": "002010077777777771", "currency": "MXN", "holder": "S2"},
			{"ref": "A2", "bank": "Barclays", "iban": "GB82 WEST 1234 5698 7654 32", "currency": "GBP"},
		},
		"transactions": []map[string]any{
			{"ref": "T1", "date": "2025-10-01", "amount": "950000.00", "currency": "MXN", "from": "A1", "to": "A2", "channel": "wire"},
			{"ref": "T2", "date": "2025-10-03", "amount": "9900", "currency": "USD", "from": "S1", "to": "Casa de cambio Tijuana", "channel": "cash"},
		},
	}
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testenv.Eventually(t, 15*time.Second, what, cond)
}

func getDisclosure(c *client, id string) (int, *finintel.Disclosure, map[string]any) {
	var d finintel.Disclosure
	st, e := c.do("GET", "/api/v1/finintel/disclosures/"+id, nil, &d)
	return st, &d, e
}

// lifecycle drives every financial-intelligence lifecycle from one side
// (the originator) to the other (the recipient), through the API.
func lifecycle(t *testing.T, p *demo.Pair, orig, recip *side) {
	// 1. Draft, four-eyes release.
	var d finintel.Disclosure
	if st, e := orig.analyst.do("POST", "/api/v1/finintel/disclosures", ringDraft("Red Pacífico "+orig.code, nil), &d); st != 201 {
		t.Fatalf("draft: %d %v", st, e)
	}
	if d.Status != finintel.StatusDraft || d.Caveats.RetentionDays != 365 || d.NTransactions != 2 {
		t.Fatalf("draft is %+v", d)
	}
	// The other side's users and other agencies do not see drafts.
	if st, _, _ := getDisclosure(orig.other, d.ID); st != 404 {
		t.Fatalf("another agency saw a draft: %d", st)
	}
	if st, e := orig.analyst.do("POST", "/api/v1/finintel/disclosures/"+d.ID+"/release", nil, nil); st != 403 {
		t.Fatalf("an analyst released: %d %v", st, e)
	}
	file := []byte("cuenta,monto,origen\nA1,950000.00," + orig.code + "\n")
	var att finintel.Attachment
	if st, e := orig.analyst.do("POST", "/api/v1/finintel/disclosures/"+d.ID+"/attachments",
		map[string]string{"name": "movimientos.csv", "content_type": "text/csv", "data": base64.StdEncoding.EncodeToString(file)}, &att); st != 201 {
		t.Fatalf("attach: %d %v", st, e)
	}
	if st, e := orig.analyst.do("POST", "/api/v1/finintel/disclosures/"+d.ID+"/attachments", map[string]string{"name": "../x", "data": "eA=="}, nil); st != 422 || e["reason"] != "invalid_file_name" {
		t.Fatalf("a bad file name: %d %v", st, e)
	}
	if st, e := orig.analyst.do("POST", "/api/v1/finintel/disclosures/"+d.ID+"/submit", nil, nil); st != 200 {
		t.Fatalf("submit: %d %v", st, e)
	}
	if st, e := orig.supervisor.do("POST", "/api/v1/finintel/disclosures/"+d.ID+"/release", nil, nil); st != 200 {
		t.Fatalf("release: %d %v", st, e)
	}
	eventually(t, "the disclosure reaches "+recip.code, func() bool {
		st, rd, _ := getDisclosure(recip.analyst, d.ID)
		return st == 200 && rd.Status == finintel.StatusReceived
	})
	_, rd, _ := getDisclosure(recip.analyst, d.ID)
	if len(rd.Attachments) != 1 || rd.Attachments[0].SHA256 != att.SHA256 || rd.Attachments[0].Size != int64(len(file)) {
		t.Fatalf("received attachments %+v", rd.Attachments)
	}
	if got := download(t, recip.analyst, "/api/v1/finintel/disclosures/"+d.ID+"/attachments/"+att.SHA256); !bytes.Equal(got, file) {
		t.Fatalf("downloaded %q", got)
	}
	if rd.Content == nil || len(rd.Content.Transactions) != 2 || rd.Content.Subjects[0].CURP != "RUSM821122MSLZLN08" || rd.ReleasedBy == rd.CreatedBy {
		t.Fatalf("received %+v", rd)
	}
	// Known to us: the recipient's demo-style index holds the same CURP.
	// (Seeded below for the MX→US direction only.)

	// 2. Consent: passing on to another agency is refused without it.
	path := "/api/v1/finintel/disclosures/" + d.ID
	if st, e := recip.analyst.do("POST", path+"/pass-on", map[string]string{"agency": recip.otherAgency}, nil); st != 403 || e["reason"] != "consent_required" {
		t.Fatalf("pass-on without consent: %d %v", st, e)
	}
	if st, e := recip.analyst.do("POST", path+"/evidential", nil, nil); st != 403 || e["reason"] != "consent_required" {
		t.Fatalf("evidential without consent: %d %v", st, e)
	}
	if st, _, _ := getDisclosure(recip.other, d.ID); st != 404 {
		t.Fatalf("%s saw the disclosure before it was passed on", recip.otherAgency)
	}
	var c1 finintel.Consent
	if st, e := recip.analyst.do("POST", path+"/consents", map[string]string{"use": "disseminate", "agency": recip.otherAgency, "reason": "Open investigation into the ring."}, &c1); st != 201 {
		t.Fatalf("consent request: %d %v", st, e)
	}
	eventually(t, "the consent request reaches the originator", func() bool {
		_, od, _ := getDisclosure(orig.analyst, d.ID)
		return len(od.Consents) == 1 && od.Consents[0].Status == finintel.ConsentPending
	})
	if st, _ := orig.analyst.do("POST", "/api/v1/finintel/consents/"+c1.ID+"/decision", map[string]any{"grant": true}, nil); st != 403 {
		t.Fatalf("an analyst decided consent: %d", st)
	}
	if st, e := orig.fiu.do("POST", "/api/v1/finintel/consents/"+c1.ID+"/decision", map[string]any{"grant": false, "conditions": "Not at this stage."}, nil); st != 200 {
		t.Fatalf("deny: %d %v", st, e)
	}
	eventually(t, "the denial reaches the recipient", func() bool {
		_, x, _ := getDisclosure(recip.analyst, d.ID)
		return len(x.Consents) == 1 && x.Consents[0].Status == finintel.ConsentDenied
	})
	if st, e := recip.analyst.do("POST", path+"/pass-on", map[string]string{"agency": recip.otherAgency}, nil); st != 403 || e["reason"] != "consent_required" {
		t.Fatalf("pass-on after a denial: %d %v", st, e)
	}
	var c2 finintel.Consent
	recip.analyst.do("POST", path+"/consents", map[string]string{"use": "disseminate", "agency": recip.otherAgency, "reason": "A judge has opened the case."}, &c2)
	eventually(t, "the second request arrives", func() bool {
		_, od, _ := getDisclosure(orig.analyst, d.ID)
		return len(od.Consents) == 2
	})
	if st, e := orig.supervisor.do("POST", "/api/v1/finintel/consents/"+c2.ID+"/decision", map[string]any{"grant": true, "conditions": "Intelligence use only."}, nil); st != 200 {
		t.Fatalf("grant: %d %v", st, e)
	}
	eventually(t, "the grant reaches the recipient", func() bool {
		_, x, _ := getDisclosure(recip.analyst, d.ID)
		return len(x.Consents) == 2 && x.Consents[1].Status == finintel.ConsentGranted
	})
	if st, e := recip.analyst.do("POST", path+"/pass-on", map[string]string{"agency": recip.otherAgency}, nil); st != 200 {
		t.Fatalf("pass-on with consent: %d %v", st, e)
	}
	if st, od, _ := getDisclosure(recip.other, d.ID); st != 200 || od.Content == nil {
		t.Fatalf("%s does not see the disclosure passed on to it: %d", recip.otherAgency, st)
	}
	// Export is allowed by these caveats and logged.
	req, _ := http.NewRequest("GET", recip.analyst.base+path+"/export", nil)
	req.Header.Set("Authorization", "Bearer "+recip.analyst.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	schemas := map[string]int{}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		var e struct{ Schema string }
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("export line %q: %v", sc.Text(), err)
		}
		schemas[e.Schema]++
	}
	want := map[string]int{"Person": 1, "Company": 1, "BankAccount": 2, "Ownership": 1, "Payment": 2}
	if resp.StatusCode != 200 || !reflect.DeepEqual(schemas, want) {
		t.Fatalf("export: %d %v", resp.StatusCode, schemas)
	}
	// The originator sees refusals, the passing-on and the export.
	eventually(t, "the access report reaches the originator", func() bool {
		_, od, _ := getDisclosure(orig.analyst, d.ID)
		seen := map[string]int{}
		for _, a := range od.Access {
			seen[a.Action]++
			if a.Action == trustlog.KindDataPassedOn && a.ToAgency != recip.otherAgency {
				return false
			}
		}
		return seen[trustlog.KindDataRefused] == 3 && seen[trustlog.KindDataPassedOn] == 1 && seen[trustlog.KindDataExported] == 2 && seen[trustlog.KindDataRead] >= 1
	})

	// 3. Feedback.
	if st, e := recip.analyst.do("POST", path+"/feedback", map[string]any{"kind": "accounts_frozen", "amount": "950000.00", "currency": "MXN", "count": 1}, nil); st != 201 {
		t.Fatalf("feedback: %d %v", st, e)
	}
	if st, e := recip.analyst.do("POST", path+"/feedback", map[string]any{"kind": "accounts_frozen"}, nil); st != 422 || e["field"] != "amount" {
		t.Fatalf("feedback without an amount: %d %v", st, e)
	}
	eventually(t, "the feedback reaches the originator", func() bool {
		_, od, _ := getDisclosure(orig.analyst, d.ID)
		return len(od.Feedback) == 1 && od.Feedback[0].Amount == "950000.00"
	})

	// 4. Recall: the recipient seals and attests.
	if st, e := orig.analyst.do("POST", path+"/recall", nil, nil); st != 403 {
		t.Fatalf("an analyst recalled: %d %v", st, e)
	}
	if st, e := orig.supervisor.do("POST", path+"/recall", nil, nil); st != 200 {
		t.Fatalf("recall: %d %v", st, e)
	}
	eventually(t, "the seal is attested to the originator", func() bool {
		_, od, _ := getDisclosure(orig.analyst, d.ID)
		return !od.SealAttested.IsZero() && od.SealReason == "recall"
	})
	_, sd, _ := getDisclosure(recip.analyst, d.ID)
	if sd.Status != finintel.StatusSealed || sd.Content != nil || sd.Title != "" || sd.ContentSHA256 == "" || sd.NTransactions != 2 {
		t.Fatalf("sealed copy is %+v", sd)
	}
	if st, e := recip.analyst.do("GET", path+"/attachments/"+att.SHA256, nil, nil); st != 409 || e["reason"] != "sealed" {
		t.Fatalf("an attachment after the seal: %d %v", st, e)
	}
	var left int
	if err := p.Nodes[recip.code].DB.Read().QueryRow(context.Background(), `SELECT COUNT(*) FROM attachments WHERE sha256 = ?`, att.SHA256).Scan(&left); err != nil || left != 0 {
		t.Fatalf("the sealed file's bytes are still stored (%d, %v)", left, err)
	}
	if st, e := recip.analyst.do("POST", path+"/pass-on", map[string]string{"agency": recip.otherAgency}, nil); st != 409 || e["reason"] != "sealed" {
		t.Fatalf("pass-on after the seal: %d %v", st, e)
	}

	// 5. An RFI answered late shows as overdue on both sides.
	var rfi finintel.RFI
	if st, e := recip.analyst.do("POST", "/api/v1/finintel/rfis", map[string]any{"title": "Beneficial owners", "urgency": "urgent",
		"questions": "Who controls the company?", "subjects": []map[string]any{{"ref": "S1", "type": "company", "name": "Comercializadora Pacífico Norte"}}}, &rfi); st != 201 {
		t.Fatalf("rfi: %d %v", st, e)
	}
	days := finintel.Of(p.Nodes[orig.code]).ResponseDays(orig.code)
	if got := rfi.DeadlineAt.Sub(rfi.CreatedAt); got != time.Duration(days)*24*time.Hour {
		t.Fatalf("deadline is %s after the request, want %d days (the requested side's commitment)", got, days)
	}
	eventually(t, "the request arrives", func() bool {
		st, _ := orig.analyst.do("GET", "/api/v1/finintel/rfis/"+rfi.ID, nil, nil)
		return st == 200
	})
	// The answering node's clock runs past the deadline.
	late := time.Now().Add(time.Duration(days+2) * 24 * time.Hour)
	finintel.Of(p.Nodes[orig.code]).SetClock(func() time.Time { return late })
	if st, e := orig.analyst.do("POST", "/api/v1/finintel/rfis/"+rfi.ID+"/responses", map[string]any{"kind": "partial", "body": "Two of three owners identified."}, nil); st != 201 {
		t.Fatalf("partial answer: %d %v", st, e)
	}
	if st, e := orig.analyst.do("POST", "/api/v1/finintel/rfis/"+rfi.ID+"/responses", map[string]any{"kind": "full", "body": "The third is a nominee."}, nil); st != 201 {
		t.Fatalf("full answer: %d %v", st, e)
	}
	finintel.Of(p.Nodes[orig.code]).SetClock(time.Now)
	if st, e := orig.analyst.do("POST", "/api/v1/finintel/rfis/"+rfi.ID+"/responses", map[string]any{"kind": "full", "body": "again"}, nil); st != 409 {
		t.Fatalf("a second final answer: %d %v", st, e)
	}
	eventually(t, "the late answer reaches the requester", func() bool {
		var r finintel.RFI
		recip.analyst.do("GET", "/api/v1/finintel/rfis/"+rfi.ID, nil, &r)
		return r.Status == finintel.RFIAnswered && len(r.Responses) == 2
	})
	for _, c := range []*client{orig.analyst, recip.analyst} {
		var r finintel.RFI
		c.do("GET", "/api/v1/finintel/rfis/"+rfi.ID, nil, &r)
		if !r.Overdue || !r.Late {
			t.Fatalf("%s: the late answer is not overdue: %+v", c.base, r)
		}
	}
}

func TestFinIntelLifecycleBothWays(t *testing.T) {
	p := testenv.StartPair(t)
	cs := cast(t, p)
	// The US index knows the CURP of the MX disclosure's first subject.
	ctx := trustlog.WithActor(context.Background(), "system:test")
	if _, err := match.Of(p.Nodes["US"]).Import(ctx, match.DemoSubjects["US"][:1]); err != nil {
		t.Fatal(err)
	}
	lifecycle(t, p, cs["US"], cs["MX"])
	lifecycle(t, p, cs["MX"], cs["US"])

	// Both nodes show the same figures, from the same signed facts.
	var fmx, fus finintel.Figures
	eventually(t, "both nodes agree on the figures", func() bool {
		cs["MX"].analyst.do("GET", "/api/v1/finintel/figures", nil, &fmx)
		cs["US"].analyst.do("GET", "/api/v1/finintel/figures", nil, &fus)
		return reflect.DeepEqual(fmx.Sides, fus.Sides)
	})
	for _, s := range fmx.Sides {
		if s.DisclosuresSent != 1 || s.DisclosuresReceived != 1 || s.RFIsSent != 1 || s.RFIsAnswered != 1 || s.RFIsOverdue != 1 ||
			s.ConsentsRequested != 2 || s.ConsentsGranted != 1 || s.ConsentsDenied != 1 || s.FeedbackSent != 1 || s.Responses != 1 || s.MedianResponseDays <= float64(s.CommitmentDays) {
			t.Fatalf("figures of %s: %+v", s.Party, s)
		}
	}
	// Known to us: the MX→US disclosure's CURP is in the US index.
	var list struct{ Disclosures []*finintel.Disclosure }
	cs["US"].analyst.do("GET", "/api/v1/finintel/disclosures?direction=received", nil, &list)
	ds := list.Disclosures
	if len(ds) != 1 {
		t.Fatalf("US received %d disclosures", len(ds))
	}
	// Sealed by now, so its badges are gone with the content; check the
	// second disclosure the MX side sends.
	var d finintel.Disclosure
	cs["MX"].analyst.do("POST", "/api/v1/finintel/disclosures", ringDraft("Second", []string{"DEA"}), &d)
	cs["MX"].analyst.do("POST", "/api/v1/finintel/disclosures/"+d.ID+"/submit", nil, nil)
	cs["MX"].supervisor.do("POST", "/api/v1/finintel/disclosures/"+d.ID+"/release", nil, nil)
	var got *finintel.Disclosure
	eventually(t, "the second disclosure arrives", func() bool {
		st, x, _ := getDisclosure(cs["US"].analyst, d.ID)
		got = x
		return st == 200
	})
	var curp, earlier bool
	for _, k := range got.Known {
		curp = curp || (k.Ref == "S1" && k.Key == "curp" && k.Source == "demo")
		earlier = earlier || (k.Source == "disclosure" && k.Ref == "A1")
	}
	if !curp || !earlier {
		t.Fatalf("known-to-us badges: %+v", got.Known)
	}
	// Releasable to DEA: passing on needs no consent.
	if st, e := cs["US"].analyst.do("POST", "/api/v1/finintel/disclosures/"+d.ID+"/pass-on", map[string]string{"agency": "DEA"}, nil); st != 200 {
		t.Fatalf("pass-on within the caveats: %d %v", st, e)
	}
}

func TestFinIntelBadInput(t *testing.T) {
	p := testenv.StartPair(t)
	cs := cast(t, p)
	mx := cs["MX"].analyst
	cases := []struct {
		name   string
		mutate func(d map[string]any)
		field  string
		reason string
	}{
		{"bad CURP check digit", func(d map[string]any) { d["subjects"].([]map[string]any)[0]["curp"] = "RUSM821122MSLZLN09" }, "subjects[0].curp", "ident.check_digit"},
		{"bad CLABE", func(d map[string]any) { d["accounts"].([]map[string]any)[0]["clabe"] = "002010077777777772" }, "accounts[0].clabe", "ident.check_digit"},
		{"bad IBAN", func(d map[string]any) { d["accounts"].([]map[string]any)[1]["iban"] = "GB82WEST12345698765433" }, "accounts[1].iban", "ident.check_digit"},
		{"bad RFC", func(d map[string]any) { d["subjects"].([]map[string]any)[1]["rfc"] = "ABC681324P76" }, "subjects[1].rfc", "ident.date"},
		{"phone without country", func(d map[string]any) { d["subjects"].([]map[string]any)[0]["phone"] = "667 555" }, "subjects[0].phone", ""},
		{"bad amount", func(d map[string]any) { d["transactions"].([]map[string]any)[0]["amount"] = "1,000" }, "transactions[0].amount", "invalid_amount"},
		{"unknown holder", func(d map[string]any) { d["accounts"].([]map[string]any)[0]["holder"] = "S9" }, "accounts[0].holder", "unknown_ref"},
		{"duplicate ref", func(d map[string]any) { d["subjects"].([]map[string]any)[1]["ref"] = "S1" }, "subjects[1].ref", "duplicate_ref"},
		{"unknown releasable agency", func(d map[string]any) { d["caveats"].(map[string]any)["releasable_to"] = []string{"FGR"} }, "caveats.releasable_to", "unknown_agency"},
		{"bad purpose", func(d map[string]any) { d["caveats"].(map[string]any)["purpose"] = "anything" }, "caveats.purpose", "invalid_purpose"},
		{"no title", func(d map[string]any) { d["title"] = " " }, "title", "required"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := ringDraft("Bad", nil)
			c.mutate(d)
			st, e := mx.do("POST", "/api/v1/finintel/disclosures", d, nil)
			if st != 422 || e["field"] != c.field || (c.reason != "" && e["reason"] != c.reason) {
				t.Fatalf("got %d %v, want 422 on %s (%s)", st, e, c.field, c.reason)
			}
		})
	}
	// A bad goAML file is refused with its element path; a good one is a draft.
	post := func(body string) (int, string) {
		req, _ := http.NewRequest("POST", mx.base+"/api/v1/finintel/goaml", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+mx.token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(raw)
	}
	if st, body := post(`<!DOCTYPE report [<!ENTITY a "x">]><report>&a;</report>`); st != 422 || !strings.Contains(body, "DOCTYPE") {
		t.Fatalf("goAML with entities: %d %s", st, body)
	}
	if st, body := post(`<report><currency_code_local>MXN</currency_code_local><transaction><amount_local>ten</amount_local></transaction></report>`); st != 422 || !strings.Contains(body, "report/transaction[1]") {
		t.Fatalf("goAML with a bad amount: %d %s", st, body)
	}
	var list struct{ Disclosures []*finintel.Disclosure }
	mx.do("GET", "/api/v1/finintel/disclosures", nil, &list)
	if len(list.Disclosures) != 0 {
		t.Fatalf("bad drafts were stored: %d", len(list.Disclosures))
	}
	var sample bytes.Buffer
	finintel.WriteSampleGoAML(&sample, 50, 3)
	if st, body := post(sample.String()); st != 201 || !strings.Contains(body, `"n_transactions": 50`) {
		t.Fatalf("goAML import: %d %s", st, body[:min(len(body), 300)])
	}
	// A non-FIU agency cannot draft; an auditor cannot write.
	if st, _ := cs["MX"].other.do("POST", "/api/v1/finintel/disclosures", ringDraft("x", nil), nil); st != 403 {
		t.Fatalf("FGR drafted a disclosure: %d", st)
	}
	// A supervisor cannot release what they drafted themselves.
	var d finintel.Disclosure
	cs["MX"].supervisor.do("POST", "/api/v1/finintel/disclosures", ringDraft("Own", nil), &d)
	cs["MX"].supervisor.do("POST", "/api/v1/finintel/disclosures/"+d.ID+"/submit", nil, nil)
	if st, e := cs["MX"].supervisor.do("POST", "/api/v1/finintel/disclosures/"+d.ID+"/release", nil, nil); st != 403 || e["reason"] != "four_eyes" {
		t.Fatalf("self-release: %d %v", st, e)
	}
	// CSV import names the line and column, and changes nothing.
	var d2 finintel.Disclosure
	mx.do("POST", "/api/v1/finintel/disclosures", ringDraft("CSV", nil), &d2)
	csvPost := func(c *client, id, body string) (int, string) {
		req, _ := http.NewRequest("POST", c.base+"/api/v1/finintel/disclosures/"+id+"/import?kind=subjects", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+c.token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(raw)
	}
	if st, body := csvPost(mx, d2.ID, "ref,type,given_names,first_surname,curp\nS7,person,Ana,Soto,\nS8,person,Luis,Mora,RUSM821122MSLZLN09\n"); st != 422 || !strings.Contains(body, "line 3, column curp") {
		t.Fatalf("bad CSV: %d %s", st, body)
	}
	if _, x, _ := getDisclosure(mx, d2.ID); x.NSubjects != 2 {
		t.Fatalf("a bad CSV changed the draft: %d subjects", x.NSubjects)
	}
	if st, body := csvPost(mx, d2.ID, "ref,given_names,first_surname,dob\nS7,Ana,Soto,1990-01-02\n"); st != 200 {
		t.Fatalf("good CSV: %d %s", st, body)
	}
	if _, x, _ := getDisclosure(mx, d2.ID); x.NSubjects != 3 {
		t.Fatalf("CSV import: %d subjects", x.NSubjects)
	}
	if st, body := csvPost(cs["MX"].supervisor, d.ID, "ref,given_names,first_surname\nS9,Eva,Luna\n"); st != 409 {
		t.Fatalf("import into a submitted draft: %d %s", st, body)
	}
}

// TestFinIntelScreensIncoming: the subjects of an arriving disclosure are
// screened against the recipient's lists, and a strong match is flagged.
func TestFinIntelScreensIncoming(t *testing.T) {
	p := testenv.StartPair(t)
	cs := cast(t, p)
	lists, _ := filepath.Abs("../screen/testdata/lists")
	finintel.Of(p.Nodes["US"]).SetLists(screen.NewLists(lists))
	d := ringDraft("Screening", nil)
	d["subjects"] = append(d["subjects"].([]map[string]any),
		map[string]any{"ref": "S3", "type": "person", "given_names": "Joaquín", "first_surname": "Guzmán", "second_surname": "Loera", "dob": "1954-12-25"})
	var got finintel.Disclosure
	cs["MX"].analyst.do("POST", "/api/v1/finintel/disclosures", d, &got)
	cs["MX"].analyst.do("POST", "/api/v1/finintel/disclosures/"+got.ID+"/submit", nil, nil)
	if st, e := cs["MX"].supervisor.do("POST", "/api/v1/finintel/disclosures/"+got.ID+"/release", nil, nil); st != 200 {
		t.Fatalf("release: %d %v", st, e)
	}
	var flags []finintel.Flag
	eventually(t, "the screening flag", func() bool {
		_, x, _ := getDisclosure(cs["US"].analyst, got.ID)
		flags = x.Screening
		return len(flags) > 0
	})
	if len(flags) != 1 || flags[0].Subject != "S3" || flags[0].List != "ofac-sdn" || flags[0].ListID != "6861" {
		t.Fatalf("flags: %+v", flags)
	}
	// The originator does not screen its own disclosure.
	if _, x, _ := getDisclosure(cs["MX"].analyst, got.ID); len(x.Screening) != 0 {
		t.Fatalf("the originator flagged its own disclosure: %+v", x.Screening)
	}
}

// TestFinIntelLifecyclePostgres runs one direction of the lifecycle with
// both nodes on PostgreSQL.
func TestFinIntelLifecyclePostgres(t *testing.T) {
	server := os.Getenv(testenv.PostgresVar)
	if server == "" {
		t.Skipf("%s is not set: skipping the PostgreSQL run", testenv.PostgresVar)
	}
	testenv.FastPasswords(t)
	p, err := demo.StartPair(context.Background(), t.TempDir(), server, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatalf("%s is set but a pair on PostgreSQL does not start: %v", testenv.PostgresVar, err)
	}
	t.Cleanup(p.Close)
	cs := cast(t, p)
	lifecycle(t, p, cs["MX"], cs["US"])
	var fmx, fus finintel.Figures
	eventually(t, "both nodes agree on the figures", func() bool {
		cs["MX"].analyst.do("GET", "/api/v1/finintel/figures", nil, &fmx)
		cs["US"].analyst.do("GET", "/api/v1/finintel/figures", nil, &fus)
		return reflect.DeepEqual(fmx.Sides, fus.Sides) && fmx.Sides[0].DisclosuresSent == 1
	})
}

func download(t *testing.T, c *client, path string) []byte {
	t.Helper()
	req, _ := http.NewRequest("GET", c.base+path, nil)
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s", path, resp.Status)
	}
	b, _ := io.ReadAll(resp.Body)
	return b
}

// TestFinIntelRetentionAndReminders: a received copy past its retention is
// sealed and the seal attested to the originator; a request coming due is
// flagged on the requested side and the reminder logged.
func TestFinIntelRetentionAndReminders(t *testing.T) {
	p := testenv.StartPair(t)
	cs := cast(t, p)
	ctx := context.Background()
	d := ringDraft("Short retention", nil)
	d["caveats"].(map[string]any)["retention_days"] = 2
	var got finintel.Disclosure
	cs["US"].analyst.do("POST", "/api/v1/finintel/disclosures", d, &got)
	cs["US"].analyst.do("POST", "/api/v1/finintel/disclosures/"+got.ID+"/submit", nil, nil)
	cs["US"].supervisor.do("POST", "/api/v1/finintel/disclosures/"+got.ID+"/release", nil, nil)
	var rfi finintel.RFI
	cs["US"].analyst.do("POST", "/api/v1/finintel/rfis", map[string]any{"title": "Due soon", "questions": "Anything?"}, &rfi)
	eventually(t, "both arrive on MX", func() bool {
		st1, _, _ := getDisclosure(cs["MX"].analyst, got.ID)
		st2, _ := cs["MX"].analyst.do("GET", "/api/v1/finintel/rfis/"+rfi.ID, nil, nil)
		return st1 == 200 && st2 == 200
	})
	mx := finintel.Of(p.Nodes["MX"])
	// Nothing is due yet.
	if n, err := mx.SealExpired(ctx); err != nil || n != 0 {
		t.Fatalf("sealed %d before the retention ran out (%v)", n, err)
	}
	if n, err := mx.Remind(ctx); err != nil || n != 0 {
		t.Fatalf("reminded %d too early (%v)", n, err)
	}
	// Two days and a minute later the copy is past its retention, and the
	// 30-day request is not yet due; 28 days later it is.
	mx.SetClock(func() time.Time { return time.Now().Add(48*time.Hour + time.Minute) })
	if n, err := mx.SealExpired(ctx); err != nil || n != 1 {
		t.Fatalf("sealed %d after the retention ran out (%v)", n, err)
	}
	eventually(t, "the retention seal is attested to the US", func() bool {
		_, x, _ := getDisclosure(cs["US"].analyst, got.ID)
		return x.SealReason == "retention" && !x.SealAttested.IsZero()
	})
	if _, x, _ := getDisclosure(cs["MX"].analyst, got.ID); x.Status != finintel.StatusSealed || x.Content != nil {
		t.Fatalf("MX copy after retention: %+v", x)
	}
	mx.SetClock(func() time.Time { return time.Now().Add(28 * 24 * time.Hour) })
	if n, err := mx.Remind(ctx); err != nil || n != 1 {
		t.Fatalf("reminded %d when due (%v)", n, err)
	}
	if n, _ := mx.Remind(ctx); n != 0 {
		t.Fatalf("reminded twice")
	}
	var r finintel.RFI
	cs["MX"].analyst.do("GET", "/api/v1/finintel/rfis/"+rfi.ID, nil, &r)
	if !r.DueSoon || r.RemindedAt.IsZero() || r.Overdue {
		t.Fatalf("the request due soon: %+v", r)
	}
	var n int
	if err := p.Nodes["MX"].DB.Read().QueryRow(ctx, `SELECT COUNT(*) FROM log_entries WHERE kind = ?`, finintel.KindLogReminder).Scan(&n); err != nil || n != 1 {
		t.Fatalf("%d reminder log entries (%v)", n, err)
	}
}
