package operations

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestCotRoundTrip: the exported document parses, carries every
// attribute the schema requires, and reads back as the same reports.
func TestCotRoundTrip(t *testing.T) {
	at := time.Date(2027, 2, 1, 12, 0, 0, 0, time.UTC)
	reports := []*Report{
		{ID: "R1", OperationID: "OPERATION0000001", Side: "MX", Unit: "GN-SON-7", Lat: 31.41, Lon: -111.56, Status: "in_position", Note: "en el arroyo <y> & más", At: at, ReceivedAt: at.Add(time.Second)},
		{ID: "R2", OperationID: "OPERATION0000001", Side: "US", Unit: "BORTAC-1", Lat: 31.62, Lon: -111.55, Status: "moving", At: at, ReceivedAt: at},
	}
	var buf bytes.Buffer
	if err := EncodeCot(&buf, reports); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Events []struct {
			Attrs []xml.Attr `xml:",any,attr"`
			Point struct {
				Attrs []xml.Attr `xml:",any,attr"`
			} `xml:"point"`
		} `xml:"event"`
	}
	if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	for i, e := range doc.Events {
		have := map[string]bool{}
		for _, a := range e.Attrs {
			have[a.Name.Local] = a.Value != ""
		}
		for _, want := range []string{"version", "uid", "type", "time", "start", "stale", "how"} {
			if !have[want] {
				t.Errorf("event %d has no %s", i, want)
			}
		}
		have = map[string]bool{}
		for _, a := range e.Point.Attrs {
			have[a.Name.Local] = true
		}
		for _, want := range []string{"lat", "lon", "hae", "ce", "le"} {
			if !have[want] {
				t.Errorf("event %d point has no %s", i, want)
			}
		}
	}
	evs, err := DecodeCot(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 {
		t.Fatalf("%d events", len(evs))
	}
	op, r := ReportOf(evs[0], "")
	if op != "OPERATION0000001" || r.Unit != "GN-SON-7" || r.Status != "in_position" || r.Lat != 31.41 || !r.At.Equal(at) || !strings.Contains(r.Note, "en el arroyo <y> & más") {
		t.Fatalf("read back %s %+v", op, r)
	}
}

// TestHostileCot: every bad feed is refused with the field named.
func TestHostileCot(t *testing.T) {
	ev := func(attrs, inner string) string {
		base := map[string]string{"version": "2.0", "uid": "u-1", "type": "a-f-G-U-C", "time": "2027-02-01T12:00:00Z", "start": "2027-02-01T12:00:00Z", "stale": "2027-02-01T12:10:00Z", "how": "m-g"}
		for _, kv := range strings.Fields(attrs) {
			k, v, _ := strings.Cut(kv, "=")
			if v == "-" {
				delete(base, k)
			} else {
				base[k] = v
			}
		}
		var b strings.Builder
		b.WriteString("<event")
		for _, k := range []string{"version", "uid", "type", "time", "start", "stale", "how"} {
			if v, ok := base[k]; ok {
				fmt.Fprintf(&b, ` %s="%s"`, k, v)
			}
		}
		if inner == "" {
			inner = `<point lat="31.4" lon="-111.5" hae="0" ce="10" le="10"/><detail/>`
		}
		return b.String() + ">" + inner + "</event>"
	}
	for _, c := range []struct {
		name, doc, want string
	}{
		{"broken XML", `<event uid="x"><point`, "malformed_xml"},
		{"a DOCTYPE", `<!DOCTYPE event [<!ENTITY a "b">]>` + ev("", ""), "doctype_refused"},
		{"an undeclared entity", ev("", `<point lat="31.4" lon="-111.5" hae="0" ce="10" le="10"/><detail><remarks>&xxe;</remarks></detail>`), "malformed_xml"},
		{"latitude out of range", ev("", `<point lat="91" lon="-111.5" hae="0" ce="10" le="10"/>`), "invalid_coordinates"},
		{"longitude out of range", ev("", `<point lat="31" lon="-181" hae="0" ce="10" le="10"/>`), "invalid_coordinates"},
		{"an unknown how", ev("how=x-z", ""), "unknown_how"},
		{"no how", ev("how=-", ""), "unknown_how"},
		{"a bad time", ev("time=yesterday", ""), "invalid_time"},
		{"no uid", ev("uid=-", ""), "invalid_uid"},
		{"a uid with spaces", ev("uid=a&#32;b", ""), "invalid_uid"},
		{"another version", ev("version=1.0", ""), "unknown_version"},
		{"not CoT", `<html><body/></html>`, "not_cot"},
		{"empty", ``, "no_events"},
		{"a processing instruction", `<?php echo 1 ?>` + ev("", ""), "malformed_xml"},
		{"too large", ev("", "<detail><remarks>"+strings.Repeat("a", MaxCot)+"</remarks></detail>"), "too_large"},
	} {
		if _, err := DecodeCot([]byte(c.doc)); code(err) != c.want {
			t.Errorf("%s: %v, want %s", c.name, err, c.want)
		}
	}
	if _, err := DecodeCot([]byte(`<?xml version="1.0"?>` + ev("", ""))); err != nil {
		t.Errorf("a good event is refused: %v", err)
	}
}
