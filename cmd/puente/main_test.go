package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"puente/internal/auth"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"puente": func() {
			// The test binary only: cheap argon2id for the scenarios' users.
			auth.PasswordParams = auth.Argon2Params{Time: 1, Memory: 1024, Threads: 1}
			os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
		},
	})
}

// Ports for the scenarios' nodes are taken below the kernel's ephemeral
// range (32768 and up on Linux), where no other test's ":0" listener or
// outgoing connection can be handed the port between the check here and
// the node binding it, and never twice in one run.
var (
	portsMu   sync.Mutex
	portsUsed = map[int]bool{}
	nextPort  = 20000 + os.Getpid()%5000
)

func freePort() (int, error) {
	portsMu.Lock()
	defer portsMu.Unlock()
	for tries := 0; tries < 2000; tries++ {
		nextPort++
		if nextPort >= 32000 {
			nextPort = 20000
		}
		if portsUsed[nextPort] {
			continue
		}
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", nextPort))
		if err != nil {
			continue // taken by something else
		}
		l.Close()
		portsUsed[nextPort] = true
		return nextPort, nil
	}
	return 0, fmt.Errorf("no free port between 20000 and 32000")
}

// TestScripts runs the CLI scenarios in testdata/*.txt, one per file.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata",
		Setup: func(env *testscript.Env) error {
			for _, name := range []string{"MXHTTP", "MXFED", "USHTTP", "USFED"} {
				port, err := freePort()
				if err != nil {
					return err
				}
				env.Setenv(name, fmt.Sprint(port))
			}
			// Now, and windows of operations from now: T0–T1, and a counter T2–T3.
			now := time.Now().UTC()
			// Days around today: DAYM5 five days ago … DAYP1 tomorrow.
			for name, d := range map[string]int{"DAYM5": -5, "DAYM1": -1, "DAY0": 0, "DAYP1": 1, "DAYP2": 2} {
				env.Setenv(name, now.AddDate(0, 0, d).Format(time.DateOnly))
			}
			for name, d := range map[string]time.Duration{"NOW": 0, "T0": 10 * time.Minute, "T1": 6 * time.Hour, "T2": 15 * time.Minute, "T3": 7 * time.Hour} {
				env.Setenv(name, now.Add(d).Format(time.RFC3339))
			}
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			// waitready URL WANT: poll URL until its body contains WANT.
			"waitready": func(ts *testscript.TestScript, neg bool, args []string) {
				deadline := time.Now().Add(30 * time.Second)
				var last string
				for time.Now().Before(deadline) {
					resp, err := http.Get(args[0])
					if err == nil {
						b, _ := io.ReadAll(resp.Body)
						resp.Body.Close()
						last = string(b)
						if strings.Contains(last, args[1]) {
							return
						}
					}
					time.Sleep(100 * time.Millisecond)
				}
				ts.Fatalf("%s never answered %q; last answer %q", args[0], args[1], last)
			},
			// envfrom VAR [REGEXP]: set VAR to the last command's standard
			// output, trimmed, or to REGEXP's first group in it.
			"envfrom": func(ts *testscript.TestScript, neg bool, args []string) {
				out := ts.ReadFile("stdout")
				if len(args) == 2 {
					m := regexp.MustCompile(args[1]).FindStringSubmatch(out)
					if m == nil {
						ts.Fatalf("%q not in %q", args[1], out)
					}
					out = m[1]
				}
				ts.Setenv(args[0], strings.TrimSpace(out))
			},
			// until REGEXP CMD ARGS...: run CMD until it succeeds with
			// standard output matching REGEXP (things take a moment to cross
			// the link).
			"until": func(ts *testscript.TestScript, neg bool, args []string) {
				re := regexp.MustCompile(args[0])
				deadline := time.Now().Add(20 * time.Second)
				for {
					err := ts.Exec(args[1], args[2:]...)
					if err == nil && re.MatchString(ts.ReadFile("stdout")) {
						return
					}
					if time.Now().After(deadline) {
						ts.Fatalf("%s never printed %q (last error %v): %s", strings.Join(args[1:], " "), args[0], err, ts.ReadFile("stdout"))
					}
					time.Sleep(100 * time.Millisecond)
				}
			},
			// replace FILE OLD NEW: edit a file in place.
			"replace": func(ts *testscript.TestScript, neg bool, args []string) {
				p := ts.MkAbs(args[0])
				b, err := os.ReadFile(p)
				ts.Check(err)
				if !strings.Contains(string(b), args[1]) {
					ts.Fatalf("%s does not contain %q", args[0], args[1])
				}
				ts.Check(os.WriteFile(p, []byte(strings.Replace(string(b), args[1], args[2], 1)), 0o644))
			},
		},
	})
}
