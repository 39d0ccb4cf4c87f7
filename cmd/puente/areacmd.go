package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// areaCmd is what every work area's subcommand shares ("puente traces
// submit ID"): its flag set with --url and --token, the check that only
// the flags the subcommand takes were given, the API client, and a few
// helpers. An area's command builds one with newAreaCmd, defines its own
// flags on fs, then calls parse.
type areaCmd struct {
	area, cmd, usage string
	allowed          []string
	fs               *flag.FlagSet
	base, token      string
	pos              []string
	c                *apiClient
	out              io.Writer
}

// newAreaCmd starts the subcommand args[0] of area, among those of
// allowed (each with the flags it takes).
func newAreaCmd(area, usage string, allowed map[string][]string, args []string, out io.Writer) (*areaCmd, error) {
	if len(args) == 0 {
		return nil, usageErr(usage)
	}
	flagsOf, known := allowed[args[0]]
	if !known {
		return nil, fmt.Errorf("unknown %s command %q\n%s", area, args[0], strings.TrimRight(usage, "\n"))
	}
	a := &areaCmd{area: area, cmd: args[0], usage: usage, allowed: flagsOf, fs: flags(area + " " + args[0]), out: out}
	clientFlags(a.fs, &a.base, &a.token)
	return a, nil
}

// parse reads the flags and the positional arguments, refuses flags the
// subcommand does not take, and makes the client (unless offline).
func (a *areaCmd) parse(args []string, offline bool) error {
	pos, err := parse(a.fs, args[1:])
	if err != nil {
		return err
	}
	a.pos = pos
	if err := onlyFlags(a.fs, a.area+" "+a.cmd, a.allowed); err != nil {
		return err
	}
	if offline {
		return nil
	}
	a.c, err = newClient(a.base, a.token)
	return err
}

// want checks that n positional arguments were given.
func (a *areaCmd) want(n int, what string) error {
	if len(a.pos) != n {
		return fmt.Errorf("%s %s takes %s", a.area, a.cmd, what)
	}
	return nil
}

// printJSON writes v indented.
func (a *areaCmd) printJSON(v any) error {
	enc := json.NewEncoder(a.out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// readJSON reads a JSON file to send as is.
func readJSON(file string) (json.RawMessage, error) {
	raw, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var m json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return m, nil
}
