package web

import (
	"puente/internal/fault"
	"slices"

	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"puente/internal/api"
	"puente/internal/auth"
	"puente/internal/match"
	"puente/internal/names"
	"puente/internal/screen"
)

func init() {
	Register(match.Name, func(s *Server) Face {
		return Face{
			Nav: []NavItem{
				{Path: "/screen", ID: "nav-screen", Label: "nav.screen", Permission: auth.Screen},
				{Path: "/match", ID: "nav-match", Label: "nav.match", Permission: auth.MatchLookup},
				{Path: "/crossmatch", ID: "nav-crossmatch", Label: "nav.crossmatch", Permission: auth.CrossMatch},
			},
			LogKinds: []string{match.KindBulkEvaluated, match.KindBulkFinished, match.KindBulkStarted, match.KindEvaluated, match.KindFilter, match.KindRotated, match.KindLookup, match.KindProbe, match.KindProbed, match.KindImported},
			ErrorKey: "match.error.", FieldKey: "match.field.",
			Keys: slices.Concat(
				// The identifier fields a lookup names in its errors.
				keysOf("match.field.", "curp", "rfc", "ssn", "ein", "passport", "phone", "clabe", "iban", "account", "wallet"),
				// The screening request's refusals (api.ScreenRequest).
				keysOf("screen.error.", "name.required", "name.too_long", "name.no_letters", "dob.not_a_year", "limit.out_of_range", "no_lists", "type.invalid_type"),
			),
			Pages: []Page{
				{Pattern: "GET /screen", Permission: auth.Screen, Handle: s.screenPage},
				{Pattern: "GET /match", Permission: auth.MatchLookup, Handle: s.matchPage},
				{Pattern: "POST /match", Permission: auth.MatchLookup, Handle: s.matchPage},
				{Pattern: "GET /crossmatch", Permission: auth.CrossMatch, Handle: s.crossmatchPage},
				{Pattern: "POST /crossmatch", Permission: auth.CrossMatch, MaxBody: 32<<20 + 1<<20, Handle: s.crossmatchPage},
				{Pattern: "POST /crossmatch/{id}/cancel", Permission: auth.CrossMatch, Handle: s.cancelCrossmatch},
			},
		}
	})
}

type screenData struct {
	Candidates []screen.Candidate
	Threshold  float64
}

// screenPage screens a name against this node's lists, in the clear and
// on this node only.
func (s *Server) screenPage(w http.ResponseWriter, r *http.Request, u *auth.User) {
	v := s.newView(r, u, nil)
	v.Title = v.T("screen.title")
	v.Form = map[string]string{"name": r.URL.Query().Get("name"), "dob": r.URL.Query().Get("dob"), "type": r.URL.Query().Get("type")}
	if v.Form["name"] == "" && v.Form["dob"] == "" {
		s.render(w, r, http.StatusOK, "screen", v)
		return
	}
	q, e := api.ScreenRequest(r)
	if e != nil {
		v.Error = v.T("screen.error." + e.Field + "." + e.Reason)
		s.render(w, r, http.StatusUnprocessableEntity, "screen", v)
		return
	}
	sc, err := s.n.Lists.Screener()
	if errors.Is(err, screen.ErrNoLists) {
		v.Error = v.T("screen.error.no_lists")
		s.render(w, r, http.StatusConflict, "screen", v)
		return
	}
	if err != nil {
		s.fail(w, r, u, err)
		return
	}
	v.Data = screenData{Candidates: screen.Visible(sc.Screen(q), u.Agency, u.Can(auth.ReadAll)), Threshold: names.DefaultThreshold}
	s.render(w, r, http.StatusOK, "screen", v)
}

type matchData struct {
	Result *match.Result
	// IDHits are the result's hits on identifiers; NameToo, whether the
	// name and birth year matched as well.
	IDHits  []string
	NameToo bool
	Usage   *match.Usage
	// Request is the link to the prefilled request on a hit: built here
	// from url.Values, so the template must not escape it again.
	Request template.URL
	// RFI is set when the user may send a request for information: the
	// hit's step 2 is then a prefilled RFI rather than a liaison message.
	RFI bool
}

var matchFields = []string{"name", "dob", "curp", "rfc", "passport", "passport_country", "phone", "clabe", "iban", "ssn", "ein"}

// matchPage runs a blind hit/no-hit lookup in the partner's index.
func (s *Server) matchPage(w http.ResponseWriter, r *http.Request, u *auth.User) {
	ctx := r.Context()
	v := s.newView(r, u, nil)
	v.Title = v.T("match.title")
	usage, err := match.Of(s.n).TodayUsage(ctx)
	if err != nil {
		s.fail(w, r, u, err)
		return
	}
	d := matchData{Usage: usage}
	v.Form = map[string]string{}
	status := http.StatusOK
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
		for _, f := range matchFields {
			v.Form[f] = strings.TrimSpace(r.PostFormValue(f))
		}
		sub := match.Subject{Name: v.Form["name"], DOB: v.Form["dob"], CURP: v.Form["curp"], RFC: v.Form["rfc"], Passport: v.Form["passport"],
			PassportCountry: v.Form["passport_country"], Phone: v.Form["phone"], PhoneCountry: s.n.Config.Party, CLABE: v.Form["clabe"],
			IBAN: v.Form["iban"], SSN: v.Form["ssn"], EIN: v.Form["ein"]}
		res, err := match.Of(s.n).LookupAs(ctx, u, sub)
		if e, ok := fault.Describe(err); ok {
			if e.Field != "" {
				v.Error = v.T("match.error.field", "Field", v.T("match.field."+e.Field), "Reason", matchReason(v, e.Reason))
			} else {
				v.Error = v.T("match.error." + e.Reason)
			}
			status = http.StatusUnprocessableEntity
		} else if err != nil {
			s.fail(w, r, u, err)
			return
		} else {
			d.Result = res
			for _, h := range res.Hits {
				if h == "name_year" {
					d.NameToo = true
				} else {
					d.IDHits = append(d.IDHits, h)
				}
			}
			if res.Hit {
				q := url.Values{}
				q.Set("subject", v.T("match.request_subject"))
				q.Set("body", v.T("match.request_body", "Types", strings.Join(res.Hits, ", "), "Index", res.LogIndex))
				d.RFI = u.Can(auth.FinIntelWrite) && u.Agency == auth.FIU[s.n.Config.Party]
				if d.RFI {
					// The RFI form reads title and questions; the subject's
					// fields go along so the partner knows whom we mean.
					q.Set("title", q.Get("subject"))
					q.Set("questions", q.Get("body"))
					for _, f := range []string{"curp", "rfc", "passport", "passport_country", "ssn", "ein", "dob"} {
						if v.Form[f] != "" {
							q.Set(f, v.Form[f])
						}
					}
					// "Given First Second": the analyst can correct it.
					if w := strings.Fields(v.Form["name"]); len(w) >= 2 {
						q.Set("given_names", w[0])
						q.Set("first_surname", w[1])
						q.Set("second_surname", strings.Join(w[2:], " "))
					}
				}
				if d.RFI {
					d.Request = template.URL("/finintel/rfis?" + q.Encode() + "#rfi-form")
				} else {
					d.Request = template.URL("/threads/new?" + q.Encode())
				}
			}
			if d.Usage, err = match.Of(s.n).TodayUsage(ctx); err != nil {
				s.fail(w, r, u, err)
				return
			}
		}
	}
	v.Data = d
	s.render(w, r, status, "match", v)
}

type crossmatchData struct {
	Jobs  []match.Job
	Shown int64
	// Hits are the discoveries; Sent, hits on subjects this side itself
	// sent to the partner (its released targets), shown apart.
	Hits, Sent []xmHit
}

// xmHit is a cross-match hit with the action it leads to: a prefilled
// request about our subject.
type xmHit struct {
	match.JobHit
	Request template.URL
	// Link is our subject's page, when it has one (a priority target).
	Link string
}

// crossmatchPage lists cross-matches with their progress, starts them
// (the whole index, or a CSV list) and cancels them.
func (s *Server) crossmatchPage(w http.ResponseWriter, r *http.Request, u *auth.User) {
	ctx := r.Context()
	v := s.newView(r, u, nil)
	v.Title = v.T("xm.title")
	status := http.StatusOK
	if r.Method == http.MethodPost {
		var err error
		if r.FormValue("source") == "index" {
			_, err = match.Of(s.n).StartJobAs(ctx, u, nil)
		} else {
			r.Body = http.MaxBytesReader(w, r.Body, 32<<20)
			f, _, ferr := r.FormFile("file")
			if ferr != nil {
				v.Error = v.T("xm.error.file")
				s.renderCrossmatch(w, r, u, v, http.StatusBadRequest, 0)
				return
			}
			subs, rerr := match.ReadCSV(f)
			f.Close()
			if rerr != nil {
				v.Error = v.T("xm.error.csv", "Detail", rerr.Error())
				s.renderCrossmatch(w, r, u, v, http.StatusUnprocessableEntity, 0)
				return
			}
			_, err = match.Of(s.n).StartJobAs(ctx, u, subs)
		}
		if e, ok := fault.Describe(err); ok {
			v.Error = v.T("match.error." + e.Reason)
			if e.Field != "" {
				v.Error = v.T("match.error.field", "Field", e.Field, "Reason", matchReason(v, e.Reason))
			}
			status = http.StatusUnprocessableEntity
		} else if err != nil {
			s.fail(w, r, u, err)
			return
		} else {
			http.Redirect(w, r, "/crossmatch", http.StatusSeeOther)
			return
		}
	}
	shown, _ := strconv.ParseInt(r.URL.Query().Get("show"), 10, 64)
	s.renderCrossmatch(w, r, u, v, status, shown)
}

func (s *Server) renderCrossmatch(w http.ResponseWriter, r *http.Request, u *auth.User, v *view, status int, shown int64) {
	jobs, err := match.Of(s.n).JobsAs(r.Context(), u, 50)
	if err != nil {
		s.fail(w, r, u, err)
		return
	}
	d := crossmatchData{Jobs: jobs, Shown: shown}
	if shown > 0 {
		hits, err := match.Of(s.n).JobHitsAs(r.Context(), u, shown)
		if err != nil {
			s.fail(w, r, u, err)
			return
		}
		for _, h := range hits {
			types := make([]string, len(h.Types))
			for i, t := range h.Types {
				types[i] = v.T("match.field." + t)
			}
			q := url.Values{}
			q.Set("subject", v.T("xm.request_subject"))
			q.Set("body", v.T("xm.request_body", "Job", shown, "Ref", h.Ref, "Types", strings.Join(types, ", ")))
			x := xmHit{JobHit: h, Request: template.URL("/threads/new?" + q.Encode())}
			if id, ok := strings.CutPrefix(h.Ref, "target:"); ok {
				x.Link = "/extradition/targets/t/" + url.PathEscape(id)
			}
			if h.Sent() {
				d.Sent = append(d.Sent, x)
			} else {
				d.Hits = append(d.Hits, x)
			}
		}
	}
	v.Data = d
	s.render(w, r, status, "crossmatch", v)
}

func (s *Server) cancelCrossmatch(w http.ResponseWriter, r *http.Request, u *auth.User) {
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err := match.Of(s.n).CancelJobAs(r.Context(), u, id); err != nil && !errors.Is(err, match.ErrNoJob) {
		s.fail(w, r, u, err)
		return
	}
	http.Redirect(w, r, "/crossmatch", http.StatusSeeOther)
}

// matchReason translates the reason of a matching field error: an
// identifier check's own text, else the area's ("invalid_ref").
func matchReason(v *view, code string) string {
	if k := "ident." + code; v.T(k) != k {
		return v.T(k)
	}
	return v.T("match.error." + code)
}
