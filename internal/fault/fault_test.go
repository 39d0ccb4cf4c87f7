package fault_test

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"puente/internal/fault"
)

func TestStatusAndDescribe(t *testing.T) {
	quota := fault.New(fault.ErrUnavailable, "quota", "the quota is used up")
	for _, c := range []struct {
		name              string
		err               error
		status            int
		code, reason, fld string
	}{
		{"wrapped not found", fmt.Errorf("no such thread: %w", fault.ErrNotFound), http.StatusNotFound, "not_found", "", ""},
		{"forbidden", fmt.Errorf("area: %w", fault.ErrForbidden), http.StatusForbidden, "forbidden", "", ""},
		{"reason", fmt.Errorf("looking up: %w", quota), http.StatusTooManyRequests, "unavailable", "quota", ""},
		{"field", fault.Field("subjects[0].curp", "ident.check_digit"), http.StatusUnprocessableEntity, "invalid", "ident.check_digit", "subjects[0].curp"},
		{"field conflict", &fault.FieldError{Field: "username", Code: "username_taken", Err: fault.ErrConflict}, http.StatusConflict, "conflict", "username_taken", "username"},
		{"unexpected", errors.New("disk full"), http.StatusInternalServerError, "internal", "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := fault.Status(c.err); got != c.status {
				t.Errorf("status %d, want %d", got, c.status)
			}
			d, ok := fault.Describe(c.err)
			if ok != (c.status != http.StatusInternalServerError) {
				t.Fatalf("Describe ok=%v for %v", ok, c.err)
			}
			if !ok {
				return
			}
			if d.Code != c.code || d.Reason != c.reason || d.Field != c.fld || d.Message == "" {
				t.Errorf("Describe = %+v", d)
			}
		})
	}
}
