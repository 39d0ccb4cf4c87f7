package api_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"puente/internal/auth"
	"puente/internal/testenv"
)

// TestAuditorsDoNotExport: one rule for taking the partner's data out of
// puente. An auditor reads in place but neither downloads the partner's
// files nor exports its disclosures; an analyst of the agency may.
func TestAuditorsDoNotExport(t *testing.T) {
	p := testenv.StartPair(t)
	us := &client{t: t, base: p.URL("US"), token: p.Tokens["US"]}
	mx := &client{t: t, base: p.URL("MX"), token: p.Tokens["MX"]}
	auditor := userClient(t, p, "MX", "auditora", auth.Auditor, "SRE")
	file := []byte("partner file contents")
	sum := sha256.Sum256(file)
	sha := hex.EncodeToString(sum[:])
	var th struct {
		ID string `json:"id"`
	}
	if st, e := us.do("POST", "/api/v1/threads", map[string]any{"subject": "Archivo", "to_agency": "UIF", "body": "see attached",
		"attachments": []map[string]string{{"name": "informe.txt", "data": base64.StdEncoding.EncodeToString(file)}}}, &th); st != http.StatusCreated {
		t.Fatalf("sending: %d %v", st, e)
	}
	testenv.Eventually(t, 15e9, "the thread to reach MX", func() bool {
		st, _ := mx.do("GET", "/api/v1/threads/"+th.ID, nil, nil)
		return st == http.StatusOK
	})
	if st, _ := auditor.do("GET", "/api/v1/threads/"+th.ID, nil, nil); st != http.StatusOK {
		t.Fatalf("the auditor reads the thread in place: %d", st)
	}
	if st, e := auditor.do("GET", "/api/v1/attachments/"+sha, nil, nil); st != http.StatusForbidden {
		t.Errorf("the auditor downloads the partner's file: %d %v", st, e)
	}
	if st, _ := mx.do("GET", "/api/v1/attachments/"+sha, nil, nil); st != http.StatusOK {
		t.Errorf("the addressee's analyst downloads it: %d", st)
	}

	// The page offers the auditor no download, and says why.
	jar, _ := cookiejar.New(nil)
	web := &http.Client{Jar: jar}
	resp, err := web.PostForm(p.URL("MX")+"/login", url.Values{"username": {"auditora"}, "password": {"a-long-test-password"}, "next": {"/threads/" + th.ID}})
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || strings.Contains(string(page), `href="/attachments/`+sha) || !strings.Contains(string(page), "informe.txt") {
		t.Errorf("the auditor's thread page: %d, download link offered: %v", resp.StatusCode, strings.Contains(string(page), `href="/attachments/`+sha))
	}
}
