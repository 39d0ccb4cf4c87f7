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
