package liaison_test

import (
	"context"
	"testing"

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
