package link

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// DecodeBody decodes the body of env into v, strictly: a field v does not
// have, trailing data after the JSON value, or a value of the wrong shape
// is a permanent refusal (a *RejectError), so the sender gets a signed
// rejection and the envelope is quarantined. Every kind's handler decodes
// its body and caveats through DecodeBody and DecodeCaveats: docs/protocol.md
// states the rule once for all kinds.
func DecodeBody(env *Envelope, v any) error {
	if err := Strict(env.Body, v); err != nil {
		return Reject("the body is not a %s: %v", env.Kind, err)
	}
	return nil
}

// DecodeCaveats decodes the caveats of env into v under the same rule.
func DecodeCaveats(env *Envelope, v any) error {
	if err := Strict(env.Caveats, v); err != nil {
		return Reject("the caveats of a %s are not valid: %v", env.Kind, err)
	}
	return nil
}

// Strict decodes one JSON value from b into v, refusing unknown fields and
// anything after the value.
func Strict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return fmt.Errorf("data after the JSON value")
	}
	return nil
}
