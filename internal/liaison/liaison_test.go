package liaison_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"puente/internal/auth"
	"puente/internal/liaison"
	"puente/internal/link"
	"puente/internal/testenv"
)

// TestThreadOfEnvelope: an access report names one of our envelopes, and
// live pages find the thread to refresh from it.
func TestThreadOfEnvelope(t *testing.T) {
	p := testenv.StartPair(t)
	ctx := context.Background()
	mx := p.Nodes["MX"]
	u, err := mx.Auth.Create(ctx, auth.NewUser{Username: "ana", DisplayName: "Ana", Role: auth.Analyst, Agency: "UIF", Password: "liaison-password-1"})
	if err != nil {
		t.Fatal(err)
	}
	th, err := liaison.Of(mx).Start(ctx, u, liaison.NewThread{Subject: "Envío", Priority: "routine", ToAgency: "FinCEN", Body: "cuerpo",
		Attachments: []liaison.NewAttachment{{Name: "a.txt", Data: []byte("adjunto")}}})
	if err != nil {
		t.Fatal(err)
	}
	full, err := liaison.Of(mx).Get(ctx, u, th.ID)
	if err != nil {
		t.Fatal(err)
	}
	msg := full.Messages[0]
	cases := []struct {
		name, envelope, thread string
		ok                     bool
	}{
		{"the message's envelope", msg.EnvelopeID, th.ID, true},
		{"an envelope never sent", link.NewID(), "", false},
		{"empty", "", "", false},
	}
	for _, c := range cases {
		got, ok := liaison.Of(mx).ThreadOfEnvelope(ctx, c.envelope)
		if got != c.thread || ok != c.ok {
			t.Errorf("%s: ThreadOfEnvelope = %q, %v; want %q, %v", c.name, got, ok, c.thread, c.ok)
		}
	}
}

// TestReplyFollowsWhoMaySee: a reply checks who may see its thread from
// what the node remembers of the thread, not the store's query; for
// every role and agency, and for a thread of ours and one of the
// partner's, it must allow exactly those the thread page allows.
func TestReplyFollowsWhoMaySee(t *testing.T) {
	p := testenv.StartPair(t)
	ctx := context.Background()
	mx, us := liaison.Of(p.Nodes["MX"]), liaison.Of(p.Nodes["US"])
	mk := func(node, name string, role auth.Role, agency string) *auth.User {
		t.Helper()
		u, err := p.Nodes[node].Auth.Create(ctx, auth.NewUser{Username: name, DisplayName: name, Role: role, Agency: agency, Password: "liaison-password-1"})
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	ours, err := mx.Start(ctx, mk("MX", "ana", auth.Analyst, "UIF"), liaison.NewThread{Subject: "Nuestro", Priority: "routine", ToAgency: "FinCEN", Body: "b"})
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := us.Start(ctx, mk("US", "bob", auth.Analyst, "DEA"), liaison.NewThread{Subject: "Theirs", Priority: "routine", ToAgency: "FGR", ReleasableTo: []string{"SEMAR"}, Body: "b"})
	if err != nil {
		t.Fatal(err)
	}
	fgr := mk("MX", "fgr", auth.Analyst, "FGR")
	testenv.Eventually(t, 30*time.Second, "the partner's thread arrives", func() bool {
		_, err := mx.Get(ctx, fgr, theirs.ID)
		return err == nil
	})
	n := 0
	for _, role := range auth.Roles {
		for _, agency := range auth.Agencies["MX"] {
			n++
			u := mk("MX", fmt.Sprintf("u%d", n), role, agency)
			for _, th := range []*liaison.Thread{ours, theirs} {
				_, getErr := mx.Get(ctx, u, th.ID)
				_, replyErr := mx.Reply(ctx, u, th.ID, "respuesta", nil)
				switch {
				case !u.Can(auth.LiaisonWrite):
					if !errors.Is(replyErr, liaison.ErrForbidden) {
						t.Errorf("%s of %s replied to %q without the right: %v", role, agency, th.Subject, replyErr)
					}
				case (getErr == nil) != (replyErr == nil):
					t.Errorf("%s of %s on %q: the page says %v, a reply %v", role, agency, th.Subject, getErr, replyErr)
				case replyErr != nil && !errors.Is(replyErr, liaison.ErrNotFound):
					t.Errorf("%s of %s on %q: a refused reply says %v, want not found", role, agency, th.Subject, replyErr)
				}
			}
		}
	}
}
