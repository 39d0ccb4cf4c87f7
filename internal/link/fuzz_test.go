package link

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzDecodeEnvelope feeds the envelope decoder arbitrary bytes: it must
// never panic, and whatever it accepts must survive a round trip with the
// same signing input.
func FuzzDecodeEnvelope(f *testing.F) {
	valid := &Envelope{ID: "ABCDEFGHIJKLMNOPQRSTUVWXYZ", Kind: "liaison.message", Version: 1, Stream: "liaison:T", Seq: 1,
		From: "MX", To: "US", Created: "2026-01-02T03:04:05.123Z", Agreement: string(bytes.Repeat([]byte("a"), 64)),
		Caveats: []byte(`{}`), Body: []byte(`{"x":1}`), Sig: make([]byte, 64)}
	raw, _ := json.Marshal(valid)
	f.Add(raw)
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"id":"x","seq":-1}`))
	f.Add([]byte("\x00\xff garbage"))
	f.Add([]byte(`{"body":"!!notbase64"}`))
	f.Add([]byte(`[1,2,3]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := DecodeEnvelope(data, 1<<20)
		if err != nil {
			return
		}
		again, err := json.Marshal(e)
		if err != nil {
			t.Fatalf("accepted envelope does not encode: %v", err)
		}
		e2, err := DecodeEnvelope(again, 1<<20)
		if err != nil {
			t.Fatalf("accepted envelope fails after a round trip: %v", err)
		}
		if !bytes.Equal(e.SigningInput(), e2.SigningInput()) {
			t.Fatal("signing input changed in a round trip")
		}
	})
}

func TestSigningInputSeparatesFields(t *testing.T) {
	// Length prefixes keep "ab"+"c" and "a"+"bc" apart.
	a := &Envelope{ID: "ab", Kind: "c"}
	b := &Envelope{ID: "a", Kind: "bc"}
	if bytes.Equal(a.SigningInput(), b.SigningInput()) {
		t.Fatal("different envelopes share a signing input")
	}
}

// TestSigningInputsFollowTheSpec rebuilds both signing inputs from
// docs/protocol.md §3 and §5 byte by byte, so that a change to how the
// code assembles them cannot change what is signed.
func TestSigningInputsFollowTheSpec(t *testing.T) {
	f := func(parts ...string) []byte {
		var b []byte
		for _, p := range parts {
			b = append(b, byte(len(p)>>24), byte(len(p)>>16), byte(len(p)>>8), byte(len(p)))
			b = append(b, p...)
		}
		return b
	}
	e := &Envelope{ID: "ABCDEFGHIJKLMNOPQRSTUVWXYZ", Kind: "liaison.message", Version: 12, Stream: "liaison:T", Seq: 1234567890123,
		From: "MX", To: "US", Created: "2026-01-02T03:04:05.123Z", Agreement: string(bytes.Repeat([]byte("a"), 64)),
		Caveats: []byte(`{"classification":"restricted"}`), Body: bytes.Repeat([]byte{0, 0xff}, 300)}
	want := f("puente/envelope/v1", e.ID, e.Kind, "12", e.Stream, "1234567890123", "MX", "US", e.Created, e.Agreement,
		string(e.Caveats), string(e.Body))
	if got := e.SigningInput(); !bytes.Equal(got, want) {
		t.Errorf("envelope signing input:\n got %x\nwant %x", got, want)
	}
	empty := &Envelope{}
	if got, want := empty.SigningInput(), f("puente/envelope/v1", "", "", "0", "", "0", "", "", "", "", "", ""); !bytes.Equal(got, want) {
		t.Errorf("empty envelope signing input:\n got %x\nwant %x", got, want)
	}
	r := &Receipt{EnvelopeID: e.ID, EnvelopeHash: e.Hash(), Status: StatusRejected, Code: CodeInvalidContent, Reason: "ünïcode reason",
		From: "US", To: "MX", At: "2026-01-02T03:04:06Z", InboxPos: 42, Agreement: e.Agreement}
	want = f("puente/receipt/v1", r.EnvelopeID, r.EnvelopeHash, "rejected", "invalid_content", "ünïcode reason", "US", "MX",
		r.At, "42", r.Agreement)
	if got := r.SigningInput(); !bytes.Equal(got, want) {
		t.Errorf("receipt signing input:\n got %x\nwant %x", got, want)
	}
}
