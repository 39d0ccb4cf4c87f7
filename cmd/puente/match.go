package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"time"

	"puente/internal/match"
)

// cmdMatch drives a running node's blind cross-matches through its API.
func cmdMatch(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "crossmatch" && args[0] != "cancel" && args[0] != "lookup") {
		return errors.New("usage: puente match lookup --url URL SUBJECT.json | puente match crossmatch --url URL (--index | --file subjects.csv) [--detach] | puente match cancel --url URL ID (token in $PUENTE_TOKEN or --token)")
	}
	fs := flags("match " + args[0])
	var base, token string
	clientFlags(fs, &base, &token)
	index := fs.Bool("index", false, "cross-match this node's whole subject index")
	file := fs.String("file", "", "cross-match the subjects of this CSV file")
	detach := fs.Bool("detach", false, "start and return without waiting")
	pos, err := parse(fs, args[1:])
	if err != nil {
		return err
	}
	c, err := newClient(base, token)
	if err != nil {
		return err
	}
	call := func(method, path string, in, out any) error { return c.call(ctx, method, path, in, out) }
	if args[0] == "lookup" {
		// A blind lookup of one person in the partner's index: the answer
		// is whether the partner knows it, and by what kind of key.
		if len(pos) != 1 {
			return errors.New("usage: puente match lookup --url URL SUBJECT.json")
		}
		raw, err := os.ReadFile(pos[0])
		if err != nil {
			return fmt.Errorf("reading the subject: %w", err)
		}
		var sub match.Subject
		if err := json.Unmarshal(raw, &sub); err != nil {
			return fmt.Errorf("%s: %w", pos[0], err)
		}
		var res match.Result
		if err := call(http.MethodPost, "/api/v1/match/lookup", sub, &res); err != nil {
			return err
		}
		if !res.Hit {
			fmt.Fprintf(stdout, "no hit (asked: %s)\n", strings.Join(res.Asked, ","))
			return nil
		}
		fmt.Fprintf(stdout, "hit %s: %s\n", res.Strength, strings.Join(res.Hits, ","))
		return nil
	}
	if args[0] == "cancel" {
		if len(pos) != 1 {
			return errors.New("usage: puente match cancel --url URL ID")
		}
		if err := call(http.MethodDelete, "/api/v1/match/jobs/"+pos[0], nil, nil); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "cross-match %s cancelled\n", pos[0])
		return nil
	}
	var in struct {
		Index    bool            `json:"index,omitempty"`
		Subjects []match.Subject `json:"subjects,omitempty"`
	}
	switch {
	case *index == (*file != ""):
		return errors.New("say --index or --file subjects.csv")
	case *index:
		in.Index = true
	default:
		f, err := os.Open(*file)
		if err != nil {
			return fmt.Errorf("reading subjects: %w", err)
		}
		in.Subjects, err = match.ReadCSV(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", *file, err)
		}
	}
	var job match.Job
	if err := call(http.MethodPost, "/api/v1/match/jobs", in, &job); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "cross-match %d started: %d keys\n", job.ID, job.Total)
	if *detach {
		return nil
	}
	// Ctrl-C leaves the job running on the node; cancel it explicitly.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt)
	defer signal.Stop(sig)
	tick := time.NewTicker(300 * time.Millisecond)
	defer tick.Stop()
	for {
		var got struct {
			Job  match.Job      `json:"job"`
			Hits []match.JobHit `json:"hits"`
		}
		if err := call(http.MethodGet, fmt.Sprintf("/api/v1/match/jobs/%d", job.ID), nil, &got); err != nil {
			return err
		}
		j := got.Job
		const width = 30
		filled := width * j.Percent() / 100
		fmt.Fprintf(stderr, "\r[%s%s] %3d%%  %d/%d keys  %d hits  %s", strings.Repeat("#", filled), strings.Repeat(" ", width-filled), j.Percent(), j.Done, j.Total, j.Hits, j.Error)
		if j.State != match.JobRunning {
			fmt.Fprintln(stderr)
			fmt.Fprintf(stdout, "cross-match %d %s: %d of our subjects are known to the partner\n", j.ID, j.State, len(got.Hits))
			for _, h := range got.Hits {
				fmt.Fprintf(stdout, "%s\t%s\n", h.Ref, strings.Join(h.Types, ","))
			}
			return nil
		}
		select {
		case <-ctx.Done():
			fmt.Fprintf(stderr, "\nstopped waiting; cross-match %d goes on (puente match cancel --url %s %d)\n", j.ID, base, j.ID)
			return nil
		case <-sig:
			fmt.Fprintf(stderr, "\nstopped waiting; cross-match %d goes on (puente match cancel --url %s %d)\n", j.ID, base, j.ID)
			return nil
		case <-tick.C:
		}
	}
}
