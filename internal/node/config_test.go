package node_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"puente/internal/node"
)

// TestConfigFileOnlyEnvOnRequest: the node reads its file alone; the
// environment applies only when the command line asks (ApplyEnv), so a
// configuration saved again never picks up an override.
func TestConfigFileOnlyEnvOnRequest(t *testing.T) {
	dir := t.TempDir()
	file := `{"party":"MX","http_addr":"127.0.0.1:8081","federation_addr":"127.0.0.1:8181","database":"mx.db"}`
	if err := os.WriteFile(filepath.Join(dir, node.ConfigFile), []byte(file), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"PUENTE_DATABASE": "postgres://db.example/puente", "PUENTE_STALL_AFTER": "5s", "PUENTE_MATCH_QUOTA": "7"}
	for k, v := range env {
		t.Setenv(k, v)
	}
	c, err := node.LoadConfig(dir)
	if err != nil {
		t.Fatal(err)
	}
	if c.Database != "mx.db" || c.StallAfter.Duration != 0 || c.MatchQuota != 0 {
		t.Fatalf("LoadConfig read the environment: %+v", c)
	}
	if err := c.Save(dir); err != nil {
		t.Fatal(err)
	}
	if err := c.ApplyEnv(os.Getenv); err != nil {
		t.Fatal(err)
	}
	if c.Database != env["PUENTE_DATABASE"] || c.StallAfter.Duration != 5*time.Second || c.MatchQuota != 7 {
		t.Fatalf("ApplyEnv: %+v", c)
	}
	again, err := node.LoadConfig(dir)
	if err != nil || again.Database != "mx.db" {
		t.Fatalf("the saved file took an override: %+v, %v", again, err)
	}
	for _, bad := range []struct{ k, v string }{{"PUENTE_STALL_AFTER", "soon"}, {"PUENTE_MATCH_QUOTA", "-1"}} {
		c, _ := node.LoadConfig(dir)
		if err := c.ApplyEnv(func(k string) string {
			if k == bad.k {
				return bad.v
			}
			return ""
		}); err == nil {
			t.Errorf("%s=%s was accepted", bad.k, bad.v)
		}
	}
}
