package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"
)

// apiClient calls a running node's JSON API with a user's token, for the
// subcommands that act as that user (match, finintel).
type apiClient struct {
	base, token string
}

// clientFlags adds --url and --token to fs.
func clientFlags(fs *flag.FlagSet, base *string, token *string) {
	fs.StringVar(base, "url", "http://127.0.0.1:8081", "the node's web address")
	fs.StringVar(token, "token", os.Getenv("PUENTE_TOKEN"), "an API token (default $PUENTE_TOKEN)")
}

// onlyFlags refuses the flags set on fs that subcommand (of area, such as
// "ops release") does not take, besides --url and --token.
func onlyFlags(fs *flag.FlagSet, subcommand string, allowed []string) error {
	var stray []string
	fs.Visit(func(f *flag.Flag) {
		if f.Name != "url" && f.Name != "token" && !slices.Contains(allowed, f.Name) {
			stray = append(stray, "--"+f.Name)
		}
	})
	if len(stray) > 0 {
		return fmt.Errorf("%s does not take %s", subcommand, strings.Join(stray, ", "))
	}
	return nil
}

func newClient(base, token string) (*apiClient, error) {
	if token == "" {
		return nil, errors.New("give an API token with --token or $PUENTE_TOKEN")
	}
	return &apiClient{base: strings.TrimRight(base, "/"), token: token}, nil
}

// call sends in as JSON (if not nil) and decodes the answer into out (if
// not nil). An error answer becomes an error with the node's message.
func (c *apiClient) call(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	raw, err := c.send(ctx, method, path, "application/json", body)
	if err != nil {
		return err
	}
	if out != nil {
		return json.Unmarshal(raw, out)
	}
	return nil
}

// send sends a raw body of contentType and returns the raw answer.
func (c *apiClient) send(ctx context.Context, method, path, contentType string, body io.Reader) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != nil {
		req.Header.Set("Content-Type", contentType)
	}
	// Every create carries a key, so a retry after a lost reply creates
	// nothing twice; a body that can be read again is retried twice.
	retries := 0
	if method == http.MethodPost {
		req.Header.Set("Idempotency-Key", rand.Text())
		if req.GetBody != nil {
			retries = 2
		}
	}
	resp, err := http.DefaultClient.Do(req)
	for ; err != nil && retries > 0 && ctx.Err() == nil; retries-- {
		if req.Body, err = req.GetBody(); err != nil {
			break
		}
		time.Sleep(time.Second)
		resp, err = http.DefaultClient.Do(req)
	}
	if err != nil {
		return nil, fmt.Errorf("reaching the node: %w", err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 512<<20))
	if resp.StatusCode >= 300 {
		var e struct {
			Error struct{ Message string } `json:"error"`
		}
		_ = json.Unmarshal(raw, &e)
		return nil, fmt.Errorf("the node answered %s: %s", resp.Status, e.Error.Message)
	}
	return raw, nil
}
