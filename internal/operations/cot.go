package operations

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"

	"puente/internal/fault"
)

// Cursor-on-Target (MITRE's CoT event schema, version 2.0), written and
// read with encoding/xml from the public schema.

// CotEvent is one CoT event.
type CotEvent struct {
	XMLName xml.Name  `xml:"event"`
	Version string    `xml:"version,attr"`
	UID     string    `xml:"uid,attr"`
	Type    string    `xml:"type,attr"`
	Time    string    `xml:"time,attr"`
	Start   string    `xml:"start,attr"`
	Stale   string    `xml:"stale,attr"`
	How     string    `xml:"how,attr"`
	Point   CotPoint  `xml:"point"`
	Detail  CotDetail `xml:"detail"`
}

// CotPoint is where: WGS 84 degrees, height above ellipsoid and the
// circular and linear errors in metres (9999999: unknown).
type CotPoint struct {
	Lat float64 `xml:"lat,attr"`
	Lon float64 `xml:"lon,attr"`
	HAE float64 `xml:"hae,attr"`
	CE  float64 `xml:"ce,attr"`
	LE  float64 `xml:"le,attr"`
}

// CotDetail carries the unit's callsign, the remarks and puente's own
// status element.
type CotDetail struct {
	Contact *CotContact `xml:"contact,omitempty"`
	Remarks string      `xml:"remarks,omitempty"`
	Puente  *CotPuente  `xml:"puente,omitempty"`
}

// CotContact is the unit's callsign.
type CotContact struct {
	Callsign string `xml:"callsign,attr"`
}

// CotPuente says which operation, side and status a unit's event is.
type CotPuente struct {
	Operation string `xml:"operation,attr,omitempty"`
	Side      string `xml:"side,attr,omitempty"`
	Status    string `xml:"status,attr,omitempty"`
}

// CotEvents is the document of GET /api/v1/operations/cot.
type CotEvents struct {
	XMLName xml.Name   `xml:"events"`
	Events  []CotEvent `xml:"event"`
}

// Unknown is CoT's value for an unknown height or error.
const Unknown = 9999999.0

// StaleAfter is how long a unit's position is good for.
const StaleAfter = 10 * time.Minute

// Hows are the "how" values CoT defines that a feed may send.
var Hows = []string{"h-e", "h-c", "h-t", "h-p", "h-g-i-g-o", "m-g", "m-i", "m-r", "m-f", "m-p", "m-s", "m-a", "m-c", "m-l", "m-n", "m-g-n"}

const cotTime = "2006-01-02T15:04:05.000Z"

// UnitUID is a unit's CoT uid: "puente.<side>.<operation>.<callsign>".
func UnitUID(side, opID, callsign string) string {
	return "puente." + side + "." + opID + "." + callsign
}

// CotOf is a report as a CoT event.
func CotOf(r *Report) CotEvent {
	how := "h-e"
	if strings.HasPrefix(r.Note, "cot:") {
		how = "m-g"
	}
	return CotEvent{Version: "2.0", UID: UnitUID(r.Side, r.OperationID, r.Unit), Type: "a-f-G-U-C",
		Time: r.ReceivedAt.UTC().Format(cotTime), Start: r.At.UTC().Format(cotTime), Stale: r.At.Add(StaleAfter).UTC().Format(cotTime), How: how,
		Point:  CotPoint{Lat: r.Lat, Lon: r.Lon, HAE: Unknown, CE: Unknown, LE: Unknown},
		Detail: CotDetail{Contact: &CotContact{Callsign: r.Unit}, Remarks: r.Note, Puente: &CotPuente{Operation: r.OperationID, Side: r.Side, Status: r.Status}}}
}

// EncodeCot writes reports as one CoT document.
func EncodeCot(w io.Writer, reports []*Report) error {
	doc := CotEvents{Events: make([]CotEvent, 0, len(reports))}
	for _, r := range reports {
		doc.Events = append(doc.Events, CotOf(r))
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	return xml.NewEncoder(w).Encode(doc)
}

// MaxCot bounds a CoT document a feed posts.
const MaxCot = 1 << 20

var uidRE = regexp.MustCompile(`^[A-Za-z0-9._:\-]{1,200}$`)

var typeRE = regexp.MustCompile(`^[a-zA-Z0-9.-]+$`)

// DecodeCot reads the events of a CoT feed (one event, or several inside
// <events>), refusing DOCTYPE declarations, entities other than XML's
// five, and anything the schema does not allow.
func DecodeCot(data []byte) ([]CotEvent, error) {
	if len(data) > MaxCot {
		return nil, fault.Field("cot", "too_large")
	}
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	dec.Entity = nil
	var out []CotEvent
	depth := 0
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, &fault.FieldError{Field: "cot", Code: "malformed_xml", Err: err}
		}
		switch t := tok.(type) {
		case xml.Directive:
			return nil, fault.Field("cot", "doctype_refused")
		case xml.ProcInst:
			if t.Target != "xml" {
				return nil, fault.Field("cot", "malformed_xml")
			}
		case xml.StartElement:
			switch {
			case t.Name.Local == "events" && depth == 0:
				depth++
			case t.Name.Local == "event" && depth <= 1:
				var e CotEvent
				if err := dec.DecodeElement(&e, &t); err != nil {
					return nil, &fault.FieldError{Field: "cot", Code: "malformed_xml", Err: err}
				}
				if err := checkCot(&e, len(out)); err != nil {
					return nil, err
				}
				out = append(out, e)
				if len(out) > 1000 {
					return nil, fault.Field("cot", "too_many_events")
				}
			default:
				return nil, &fault.FieldError{Field: "cot", Code: "not_cot", Err: fmt.Errorf("unexpected element <%s>", t.Name.Local)}
			}
		case xml.EndElement:
			depth--
		}
	}
	if len(out) == 0 {
		return nil, fault.Field("cot", "no_events")
	}
	return out, nil
}

func checkCot(e *CotEvent, i int) error {
	f := fmt.Sprintf("cot.event[%d]", i)
	bad := func(field, code string) error { return fault.Field(f+"."+field, code) }
	if e.Version != "" && e.Version != "2.0" {
		return bad("version", "unknown_version")
	}
	if !uidRE.MatchString(e.UID) {
		return bad("uid", "invalid_uid")
	}
	if e.Type == "" || len(e.Type) > 60 || !typeRE.MatchString(e.Type) {
		return bad("type", "invalid_type")
	}
	if !slices.Contains(Hows, e.How) {
		return bad("how", "unknown_how")
	}
	for name, v := range map[string]string{"time": e.Time, "start": e.Start, "stale": e.Stale} {
		if _, err := time.Parse(time.RFC3339Nano, v); err != nil {
			return bad(name, "invalid_time")
		}
	}
	p := e.Point
	if math.IsNaN(p.Lat) || math.IsNaN(p.Lon) || p.Lat < -90 || p.Lat > 90 || p.Lon < -180 || p.Lon > 180 {
		return bad("point", "invalid_coordinates")
	}
	if len(e.Detail.Remarks) > 500 {
		return bad("detail.remarks", "too_long")
	}
	return nil
}

// ReportOf turns a received CoT event into a unit report: the unit is
// the contact's callsign (or the uid's last part), the operation the
// event's puente element (or the uid's), the status puente's or "moving".
func ReportOf(e CotEvent, defaultOp string) (opID string, r NewReport) {
	opID = defaultOp
	callsign := ""
	if parts := strings.SplitN(e.UID, ".", 4); len(parts) == 4 && parts[0] == "puente" {
		opID, callsign = parts[2], parts[3]
	}
	if e.Detail.Contact != nil && e.Detail.Contact.Callsign != "" {
		callsign = e.Detail.Contact.Callsign
	}
	status := "moving"
	if p := e.Detail.Puente; p != nil {
		if p.Operation != "" {
			opID = p.Operation
		}
		if p.Status != "" {
			status = p.Status
		}
	}
	at, _ := time.Parse(time.RFC3339Nano, e.Start)
	note := strings.TrimSpace(e.Detail.Remarks)
	if !strings.HasPrefix(note, "cot:") {
		note = strings.TrimSpace("cot: " + note)
	}
	return opID, NewReport{Unit: callsign, Lat: e.Point.Lat, Lon: e.Point.Lon, Status: status, Note: note, At: at}
}
