package api_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"puente/internal/api"
	"puente/internal/auth"
	"puente/internal/demo"
	"puente/internal/liaison"
	"puente/internal/names"
	"puente/internal/node"
	"puente/internal/testenv"
)

type client struct {
	t     *testing.T
	base  string
	token string
}

func (c *client) do(method, path string, in, out any) (int, map[string]any) {
	c.t.Helper()
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.base+path, body)
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var errBody map[string]any
	if resp.StatusCode >= 400 {
		_ = json.Unmarshal(raw, &errBody)
		if e, ok := errBody["error"].(map[string]any); !ok || e["code"] == "" || e["message"] == "" {
			c.t.Fatalf("%s %s: error without code and message: %s", method, path, raw)
		}
		return resp.StatusCode, errBody["error"].(map[string]any)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			c.t.Fatalf("%s %s: %v: %s", method, path, err, raw)
		}
	}
	return resp.StatusCode, nil
}

func userClient(t *testing.T, p *demo.Pair, party, username string, role auth.Role, agency string) *client {
	n := p.Nodes[party]
	ctx := context.Background()
	u, err := n.Auth.Create(ctx, auth.NewUser{Username: username, DisplayName: username, Role: role, Agency: agency, Password: "a-long-test-password"})
	if err != nil {
		t.Fatal(err)
	}
	_, tok, err := n.Auth.NewToken(ctx, u.ID, "test")
	if err != nil {
		t.Fatal(err)
	}
	return &client{t: t, base: p.URL(party), token: tok}
}

func TestLiaisonAcrossTheLink(t *testing.T) {
	p := testenv.StartPair(t)
	mx := &client{t: t, base: p.URL("MX"), token: p.Tokens["MX"]}
	us := &client{t: t, base: p.URL("US"), token: p.Tokens["US"]}
	cbp := userClient(t, p, "US", "cbp", auth.Analyst, "CBP")
	dea := userClient(t, p, "US", "dea", auth.Analyst, "DEA")
	auditor := userClient(t, p, "US", "aud", auth.Auditor, "STATE")
	admin := userClient(t, p, "US", "adm", auth.Admin, "STATE")

	file := bytes.Repeat([]byte("evidence "), 1000)
	sum := sha256.Sum256(file)
	var th liaison.Thread
	status, e := mx.do("POST", "/api/v1/threads", map[string]any{
		"subject": "Transferencias sospechosas", "priority": "urgent", "to_agency": "FinCEN", "releasable_to": []string{"DEA"},
		"body": "Texto con la palabra clave zanahoria", "attachments": []map[string]string{{"name": "informe.txt", "data": base64.StdEncoding.EncodeToString(file)}},
	}, &th)
	if status != http.StatusCreated {
		t.Fatalf("starting a thread: %d %v", status, e)
	}

	// It crosses the link and lands in FinCEN's inbox.
	var got liaison.Thread
	testenv.Eventually(t, 5*time.Second, "the thread reaching the US", func() bool {
		s, _ := us.do("GET", "/api/v1/threads/"+th.ID, nil, &got)
		return s == http.StatusOK
	})
	if got.Subject != th.Subject || len(got.Messages) != 1 || got.Messages[0].Attachments[0].SHA256 != hex.EncodeToString(sum[:]) {
		t.Fatalf("the US copy differs: %+v", got)
	}
	// The attachment arrives byte for byte.
	req, _ := http.NewRequest("GET", us.base+"/api/v1/attachments/"+hex.EncodeToString(sum[:]), nil)
	req.Header.Set("Authorization", "Bearer "+us.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Equal(data, file) {
		t.Fatal("the attachment changed on the way")
	}

	// Search finds it by body text and by file name; not by nonsense.
	for q, want := range map[string]int{"zanahoria": 1, "informe": 1, "nothing-like-this": 0, "100%": 0} {
		var list struct{ Threads []liaison.Thread }
		us.do("GET", "/api/v1/threads?q="+url.QueryEscape(q), nil, &list)
		if len(list.Threads) != want {
			t.Errorf("search %q found %d threads, want %d", q, len(list.Threads), want)
		}
	}

	// Agency and role rules.
	if s, _ := cbp.do("GET", "/api/v1/threads/"+th.ID, nil, nil); s != http.StatusNotFound {
		t.Errorf("CBP, not the addressee, got %d", s)
	}
	if s, _ := dea.do("GET", "/api/v1/threads/"+th.ID, nil, nil); s != http.StatusOK {
		t.Errorf("DEA, named in releasable_to, got %d", s)
	}
	if s, _ := auditor.do("GET", "/api/v1/threads/"+th.ID, nil, nil); s != http.StatusOK {
		t.Errorf("the auditor got %d", s)
	}
	if s, e := auditor.do("POST", "/api/v1/threads/"+th.ID+"/messages", map[string]any{"body": "x"}, nil); s != http.StatusForbidden {
		t.Errorf("the auditor replied: %d %v", s, e)
	}
	if s, _ := admin.do("GET", "/api/v1/threads/"+th.ID, nil, nil); s == http.StatusOK {
		t.Errorf("the administrator read operational traffic")
	}

	// Read receipt and reply travel back.
	if s, e := us.do("POST", "/api/v1/threads/"+th.ID+"/read", nil, nil); s != http.StatusOK {
		t.Fatalf("marking read: %d %v", s, e)
	}
	if s, e := us.do("POST", "/api/v1/threads/"+th.ID+"/messages", map[string]any{"body": "Recibido."}, nil); s != http.StatusCreated {
		t.Fatalf("replying: %d %v", s, e)
	}
	var back liaison.Thread
	testenv.Eventually(t, 5*time.Second, "the read receipt and reply reaching MX", func() bool {
		mx.do("GET", "/api/v1/threads/"+th.ID, nil, &back)
		return len(back.Messages) == 2 && !back.Messages[0].ReadAt.IsZero() && back.Messages[0].Delivery == "delivered"
	})
	if back.Messages[0].ReadBy != "FinCEN" {
		t.Errorf("read by %q, want FinCEN", back.Messages[0].ReadBy)
	}
}

func TestBadInputGetsClearErrors(t *testing.T) {
	p := testenv.StartPair(t)
	mx := &client{t: t, base: p.URL("MX"), token: p.Tokens["MX"]}
	before, _ := p.Nodes["MX"].Link.Counts(context.Background())
	cases := []struct {
		name   string
		method string
		path   string
		body   any
		code   string
		field  string
	}{
		{"no subject", "POST", "/api/v1/threads", map[string]any{"to_agency": "FinCEN", "body": "x"}, api.CodeInvalid, "subject"},
		{"agency of our own side", "POST", "/api/v1/threads", map[string]any{"subject": "s", "to_agency": "UIF", "body": "x"}, api.CodeInvalid, "to_agency"},
		{"bad priority", "POST", "/api/v1/threads", map[string]any{"subject": "s", "to_agency": "FinCEN", "body": "x", "priority": "asap"}, api.CodeInvalid, "priority"},
		{"attachment not base64", "POST", "/api/v1/threads", map[string]any{"subject": "s", "to_agency": "FinCEN", "body": "x", "attachments": []map[string]string{{"name": "a", "data": "%%%"}}}, api.CodeInvalid, "attachments[0].data"},
		{"file name with a slash", "POST", "/api/v1/threads", map[string]any{"subject": "s", "to_agency": "FinCEN", "body": "x", "attachments": []map[string]string{{"name": "../etc/passwd", "data": ""}}}, api.CodeInvalid, "attachments"},
		{"unknown field", "POST", "/api/v1/threads", map[string]any{"subject": "s", "to_agency": "FinCEN", "body": "x", "sneaky": 1}, api.CodeBadRequest, ""},
		{"unknown thread", "POST", "/api/v1/threads/NOSUCHTHREADNOSUCHTHREAD/messages", map[string]any{"body": "x"}, api.CodeNotFound, ""},
		{"analyst manages users", "GET", "/api/v1/users", nil, api.CodeForbidden, ""},
		{"no route", "GET", "/api/v1/nothing", nil, api.CodeNotFound, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, e := mx.do(c.method, c.path, c.body, nil)
			if e == nil || e["code"] != c.code || (c.field != "" && e["field"] != c.field) {
				t.Fatalf("got %v, want code %s field %s", e, c.code, c.field)
			}
		})
	}
	after, _ := p.Nodes["MX"].Link.Counts(context.Background())
	if after.Sent != before.Sent {
		t.Fatalf("bad input sent %d envelopes", after.Sent-before.Sent)
	}
	anon := &client{t: t, base: p.URL("MX")}
	if _, e := anon.do("GET", "/api/v1/me", nil, nil); e["code"] != api.CodeUnauthorized {
		t.Fatalf("no token: %v", e)
	}
	bad := &client{t: t, base: p.URL("MX"), token: auth.TokenPrefix + "forged"}
	if _, e := bad.do("GET", "/api/v1/me", nil, nil); e["code"] != api.CodeUnauthorized {
		t.Fatalf("forged token: %v", e)
	}
}

func TestTokensAndUsers(t *testing.T) {
	p := testenv.StartPair(t)
	admin := userClient(t, p, "MX", "jefa", auth.Admin, "SRE")
	var created auth.User
	if s, e := admin.do("POST", "/api/v1/users", map[string]any{"username": "nuevo", "display_name": "Nuevo", "role": "analyst", "agency": "UIF", "password": "another-long-password"}, &created); s != http.StatusCreated {
		t.Fatalf("%d %v", s, e)
	}
	if _, e := admin.do("POST", "/api/v1/users", map[string]any{"username": "nuevo", "display_name": "Nuevo", "role": "analyst", "agency": "UIF", "password": "another-long-password"}, nil); e["code"] != api.CodeConflict {
		t.Fatalf("duplicate username: %v", e)
	}
	if _, e := admin.do("POST", "/api/v1/users", map[string]any{"username": "x2", "display_name": "X", "role": "analyst", "agency": "FBI", "password": "another-long-password"}, nil); e["field"] != "agency" {
		t.Fatalf("agency of the other side: %v", e)
	}
	if _, e := admin.do("PATCH", "/api/v1/users/"+jsonNum(created.ID), map[string]any{"role": "supervisor"}, nil); e != nil {
		t.Fatalf("changing role: %v", e)
	}
	// A token works until it is revoked; its secret is stored hashed.
	var tok struct {
		Token  auth.Token
		Secret string
	}
	admin.do("POST", "/api/v1/tokens", map[string]any{"name": "script"}, &tok)
	scripted := &client{t: t, base: admin.base, token: tok.Secret}
	if s, _ := scripted.do("GET", "/api/v1/me", nil, nil); s != http.StatusOK {
		t.Fatalf("new token: %d", s)
	}
	var n int
	if err := p.Nodes["MX"].DB.Read().QueryRow(context.Background(), `SELECT COUNT(*) FROM api_tokens WHERE token_hash = ?`, tok.Secret).Scan(&n); err != nil || n != 0 {
		t.Fatalf("a token secret is stored in the clear (%d, %v)", n, err)
	}
	admin.do("DELETE", "/api/v1/tokens/"+jsonNum(tok.Token.ID), nil, nil)
	if s, _ := scripted.do("GET", "/api/v1/me", nil, nil); s != http.StatusUnauthorized {
		t.Fatalf("revoked token still works: %d", s)
	}
	if _, e := admin.do("PATCH", "/api/v1/users/"+jsonNum(meID(t, admin)), map[string]any{"disabled": true}, nil); e["reason"] != "self_lockout" {
		t.Fatalf("an admin disabled themself: %v", e)
	}
}

func meID(t *testing.T, c *client) int64 {
	var u auth.User
	c.do("GET", "/api/v1/me", nil, &u)
	return u.ID
}

func jsonNum(n int64) string { b, _ := json.Marshal(n); return string(b) }

// TestOpenAPICoversEveryRoute keeps the published document and the routes
// in step.
// TestOpenAPIMatchesServedRoutes: every route the API serves is in
// openapi.json and every documented operation is served; each has the
// operationId derived from its route, a summary, and its error answers in
// the shared error schema.
func TestOpenAPIMatchesServedRoutes(t *testing.T) {
	p := testenv.StartPair(t)
	var doc struct {
		Paths      map[string]map[string]map[string]any `json:"paths"`
		Components struct {
			Responses map[string]map[string]any `json:"responses"`
		} `json:"components"`
	}
	if err := json.Unmarshal(api.OpenAPI(), &doc); err != nil {
		t.Fatal(err)
	}
	served := map[string]bool{}
	for _, r := range api.Routes(p.Nodes["MX"]) {
		if served[r.Pattern] {
			t.Errorf("route %s is served twice", r.Pattern)
		}
		served[r.Pattern] = true
		method, path, _ := strings.Cut(r.Pattern, " ")
		op, ok := doc.Paths[path][strings.ToLower(method)]
		if !ok {
			t.Errorf("route %s is served but not in openapi.json", r.Pattern)
			continue
		}
		if id := api.OperationID(r.Pattern); op["operationId"] != id {
			t.Errorf("%s: operationId %v, want %s", r.Pattern, op["operationId"], id)
		}
		if s, _ := op["summary"].(string); s == "" {
			t.Errorf("%s has no summary", r.Pattern)
		}
		resps, _ := op["responses"].(map[string]any)
		var has4xx bool
		for code, v := range resps {
			if !strings.HasPrefix(code, "4") {
				continue
			}
			has4xx = true
			ref, _ := v.(map[string]any)["$ref"].(string)
			name, ok := strings.CutPrefix(ref, "#/components/responses/")
			if !ok || doc.Components.Responses[name] == nil || !strings.Contains(testenv.Sprint(doc.Components.Responses[name]), "#/components/schemas/ErrorBody") {
				t.Errorf("%s: response %s is not a shared error response (%v)", r.Pattern, code, v)
			}
		}
		if !has4xx && r.Pattern != api.PathOpenAPI {
			t.Errorf("%s documents no 4xx response", r.Pattern)
		}
	}
	for path, ops := range doc.Paths {
		for method := range ops {
			if pat := strings.ToUpper(method) + " " + path; !served[pat] {
				t.Errorf("openapi.json documents %s, which is not served", pat)
			}
		}
	}
	// And the mux really serves them: an unknown path is the API's 404,
	// a documented one is not.
	c := &client{t: t, base: p.URL("MX"), token: p.Tokens["MX"]}
	if st, e := c.do("GET", "/api/v1/no-such-route", nil, nil); st != http.StatusNotFound || e["code"] != "not_found" {
		t.Errorf("unknown route: %d %v", st, e)
	}
	if st, _ := c.do("GET", "/api/v1/finintel/figures", nil, nil); st != http.StatusOK {
		t.Errorf("a registered area route: %d", st)
	}
}

func TestScreening(t *testing.T) {
	lists, _ := filepath.Abs("../screen/testdata/lists")
	p := testenv.StartPair(t, func(_ string, c *node.Config) { c.ListsDir = lists })
	analyst := &client{t: t, base: p.URL("MX"), token: p.Tokens["MX"]}
	admin := userClient(t, p, "MX", "adm", auth.Admin, "SRE")

	var res struct {
		Threshold  float64
		Candidates []struct {
			List, ID, Name string
			Score          float64
			Match          bool
			Explanation    []map[string]any
		}
	}
	status, e := analyst.do("GET", "/api/v1/screen?name="+url.QueryEscape("Ismael Sambada")+"&dob=1948", nil, &res)
	if status != http.StatusOK || len(res.Candidates) == 0 {
		t.Fatalf("screening: %d %v %+v", status, e, res)
	}
	if c := res.Candidates[0]; c.List != "ofac-sdn" || c.ID != "7226" || !c.Match || len(c.Explanation) == 0 {
		t.Fatalf("first candidate: %+v", c)
	}
	for _, c := range []struct {
		query, field string
	}{{"", "name"}, {"name=" + strings.Repeat("a", 301), "name"}, {"name=Ismael&dob=48", "dob"}, {"name=Ismael&limit=0", "limit"}, {"name=%21%21", "name"}} {
		status, e := analyst.do("GET", "/api/v1/screen?"+c.query, nil, nil)
		if status != http.StatusUnprocessableEntity || e["field"] != c.field {
			t.Errorf("screen?%s: %d %v, want 422 naming %s", c.query, status, e, c.field)
		}
	}
	if status, _ := admin.do("GET", "/api/v1/screen?name=Ismael", nil, nil); status != http.StatusForbidden {
		t.Errorf("an admin screened names: %d", status)
	}

	var cmp struct {
		Score float64
		Match bool
	}
	status, e = analyst.do("POST", "/api/v1/names/compare", map[string]string{"name1": "Mónica Zambada Niebla", "name2": "Modesta Zambada Niebla"}, &cmp)
	if status != http.StatusOK || cmp.Match {
		t.Fatalf("compare: %d %v %+v", status, e, cmp)
	}
	if status, e := analyst.do("POST", "/api/v1/names/compare", map[string]string{"name1": "x"}, nil); status != http.StatusUnprocessableEntity || e["field"] != "name2" {
		t.Errorf("compare without name2: %d %v", status, e)
	}
	// Entity types: a person is not a vessel on one shared word; an
	// unknown type is refused, naming the field.
	status, e = analyst.do("POST", "/api/v1/names/compare", map[string]string{"name1": "Rosa Mariana", "type1": "person", "name2": "MARIANA", "type2": "vessel"}, &cmp)
	if status != http.StatusOK || cmp.Match {
		t.Errorf("a person against a vessel: %d %v %+v", status, e, cmp)
	}
	if status, e := analyst.do("POST", "/api/v1/names/compare", map[string]string{"name1": "a", "name2": "b", "type2": "submarine"}, nil); status != http.StatusUnprocessableEntity || e["field"] != "type2" {
		t.Errorf("an unknown type: %d %v", status, e)
	}
}

// TestOpenAPIScoreExplanations: the published explanation values are the
// ones names gives.
func TestOpenAPIScoreExplanations(t *testing.T) {
	var doc struct {
		Components struct {
			Schemas struct {
				ScorePart struct {
					Properties struct {
						How struct {
							Enum []string `json:"enum"`
						} `json:"how"`
					} `json:"properties"`
				} `json:"ScorePart"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(api.OpenAPI(), &doc); err != nil {
		t.Fatal(err)
	}
	got := slices.Sorted(slices.Values(doc.Components.Schemas.ScorePart.Properties.How.Enum))
	want := slices.Sorted(slices.Values(names.Hows))
	if !slices.Equal(got, want) {
		t.Errorf("openapi.json ScorePart.how %q, names.Hows %q", got, want)
	}
}
