// Package screen ranks the entries of sanctions lists (OFAC's SDN list and
// the UN consolidated list) against a name, on this node only and in the
// clear, and explains each candidate's score.
package screen

import (
	"bytes"
	"encoding/csv"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// List names.
const (
	ListOFAC = "ofac-sdn"
	ListUN   = "un"
	// ListTargets is the node's own list of priority targets (extradition).
	ListTargets = "targets"
)

// Entry is one listed person, company, vessel or aircraft.
type Entry struct {
	List  string   `json:"list"`
	ID    string   `json:"id"`   // the list's own id: OFAC ent_num, UN reference number
	Type  string   `json:"type"` // individual, entity, vessel, aircraft
	Name  string   `json:"name"` // primary name as listed
	Names []string `json:"-"`    // primary name first, then aliases
	Years []int    `json:"birth_years,omitempty"`
	Info  string   `json:"info,omitempty"` // programme or list type
	// Agencies, when set, are the only agencies on this node whose users
	// may see the entry (a node's own lists: the priority targets).
	Agencies []string `json:"-"`
}

// VisibleTo reports whether a user of agency may see the entry; all is
// set for those who read everything (auditors).
func (e *Entry) VisibleTo(agency string, all bool) bool {
	return all || len(e.Agencies) == 0 || slices.Contains(e.Agencies, agency)
}

// Load reads the lists found under dir: ofac-sdn/{sdn,alt}.csv and
// un/consolidated.xml. A list that is missing is skipped; one that is
// present but malformed is an error.
func Load(dir string) ([]Entry, error) {
	var out []Entry
	found := 0
	if _, err := os.Stat(filepath.Join(dir, "ofac-sdn", "sdn.csv")); err == nil {
		es, err := LoadOFAC(filepath.Join(dir, "ofac-sdn"))
		if err != nil {
			return nil, err
		}
		out = append(out, es...)
		found++
	}
	if f, err := os.Open(filepath.Join(dir, "un", "consolidated.xml")); err == nil {
		es, err := LoadUN(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", filepath.Join(dir, "un", "consolidated.xml"), err)
		}
		out = append(out, es...)
		found++
	}
	if found == 0 {
		return nil, fmt.Errorf("no list found under %s (want ofac-sdn/sdn.csv or un/consolidated.xml)", dir)
	}
	return out, nil
}

// ofacCSV reads OFAC's classic CSV: no header, Windows line endings, a
// trailing 0x1A, "-0-" for empty.
func ofacCSV(path string, fields int) ([][]string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	raw = bytes.TrimRight(raw, "\x1a\r\n ")
	r := csv.NewReader(bytes.NewReader(raw))
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	var out [][]string
	for line := 1; ; line++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if len(rec) < fields {
			return nil, fmt.Errorf("%s line %d: %d fields, want at least %d", path, line, len(rec), fields)
		}
		for i := range rec {
			rec[i] = strings.TrimSpace(rec[i])
			if rec[i] == "-0-" {
				rec[i] = ""
			}
		}
		out = append(out, rec)
	}
	return out, nil
}

var (
	dobRE = regexp.MustCompile(`(?i)\bDOB\s+(?:circa\s+)?(?:\d{1,2}\s+[A-Za-z]{3}\s+)?(\d{4})(?:\s+to\s+(\d{4}))?`)
	akaRE = regexp.MustCompile(`(?i)\ba\.k\.a\.,?\s+'([^']+)'`)
)

// LoadOFAC reads sdn.csv and, if present, alt.csv from dir.
func LoadOFAC(dir string) ([]Entry, error) {
	rows, err := ofacCSV(filepath.Join(dir, "sdn.csv"), 12)
	if err != nil {
		return nil, err
	}
	var out []Entry
	index := map[string]int{}
	for _, r := range rows {
		typ := r[2]
		if typ == "" {
			typ = "entity"
		}
		e := Entry{List: ListOFAC, ID: r[0], Type: typ, Name: r[1], Names: []string{r[1]}, Info: r[3]}
		for _, m := range dobRE.FindAllStringSubmatch(r[11], -1) {
			from, _ := strconv.Atoi(m[1])
			to := from
			if m[2] != "" {
				to, _ = strconv.Atoi(m[2])
			}
			for y := from; y <= to && y-from < 20; y++ {
				e.Years = append(e.Years, y)
			}
		}
		for _, m := range akaRE.FindAllStringSubmatch(r[11], -1) {
			e.Names = append(e.Names, m[1])
		}
		index[e.ID] = len(out)
		out = append(out, e)
	}
	alts, err := ofacCSV(filepath.Join(dir, "alt.csv"), 4)
	if errors.Is(err, os.ErrNotExist) {
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	for _, a := range alts {
		if i, ok := index[a[0]]; ok && a[3] != "" {
			out[i].Names = append(out[i].Names, a[3])
		}
	}
	return out, nil
}

type unList struct {
	Individuals []unIndividual `xml:"INDIVIDUALS>INDIVIDUAL"`
	Entities    []unEntity     `xml:"ENTITIES>ENTITY"`
}

type unIndividual struct {
	Ref    string `xml:"REFERENCE_NUMBER"`
	First  string `xml:"FIRST_NAME"`
	Second string `xml:"SECOND_NAME"`
	Third  string `xml:"THIRD_NAME"`
	Fourth string `xml:"FOURTH_NAME"`
	ListT  string `xml:"UN_LIST_TYPE"`
	// Original is the name in its own script (Arabic, Cyrillic…), which
	// screening transliterates (names.Parse).
	Original string    `xml:"NAME_ORIGINAL_SCRIPT"`
	Aliases  []unAlias `xml:"INDIVIDUAL_ALIAS"`
	DOBs     []struct {
		Year string `xml:"YEAR"`
		Date string `xml:"DATE"`
		From string `xml:"FROM_YEAR"`
		To   string `xml:"TO_YEAR"`
	} `xml:"INDIVIDUAL_DATE_OF_BIRTH"`
}

type unEntity struct {
	Ref      string    `xml:"REFERENCE_NUMBER"`
	First    string    `xml:"FIRST_NAME"`
	ListT    string    `xml:"UN_LIST_TYPE"`
	Original string    `xml:"NAME_ORIGINAL_SCRIPT"`
	Aliases  []unAlias `xml:"ENTITY_ALIAS"`
}

type unAlias struct {
	Quality string `xml:"QUALITY"`
	Name    string `xml:"ALIAS_NAME"`
}

// LoadUN reads the UN Security Council consolidated list (XML).
func LoadUN(r io.Reader) ([]Entry, error) {
	dec := xml.NewDecoder(io.LimitReader(r, 256<<20))
	dec.Strict = true
	var l unList
	if err := dec.Decode(&l); err != nil {
		return nil, fmt.Errorf("not the UN consolidated list: %w", err)
	}
	var out []Entry
	for _, in := range l.Individuals {
		name := strings.Join(strings.Fields(strings.Join([]string{in.First, in.Second, in.Third, in.Fourth}, " ")), " ")
		if name == "" || in.Ref == "" {
			continue
		}
		e := Entry{List: ListUN, ID: in.Ref, Type: "individual", Name: name, Names: []string{name}, Info: in.ListT}
		for _, a := range in.Aliases {
			if n := strings.TrimSpace(a.Name); n != "" {
				e.Names = append(e.Names, n)
			}
		}
		if n := strings.TrimSpace(in.Original); n != "" {
			e.Names = append(e.Names, n)
		}
		for _, d := range in.DOBs {
			for _, s := range []string{d.Year, d.From, d.To} {
				if y, err := strconv.Atoi(strings.TrimSpace(s)); err == nil {
					e.Years = append(e.Years, y)
				}
			}
			if len(d.Date) >= 4 {
				if y, err := strconv.Atoi(d.Date[:4]); err == nil {
					e.Years = append(e.Years, y)
				}
			}
		}
		out = append(out, e)
	}
	for _, en := range l.Entities {
		name := strings.TrimSpace(en.First)
		if name == "" || en.Ref == "" {
			continue
		}
		e := Entry{List: ListUN, ID: en.Ref, Type: "entity", Name: name, Names: []string{name}, Info: en.ListT}
		for _, a := range en.Aliases {
			if n := strings.TrimSpace(a.Name); n != "" {
				e.Names = append(e.Names, n)
			}
		}
		if n := strings.TrimSpace(en.Original); n != "" {
			e.Names = append(e.Names, n)
		}
		out = append(out, e)
	}
	return out, nil
}
