package input_test

import (
	"testing"

	"puente/internal/fault"
	"puente/internal/input"
)

func TestText(t *testing.T) {
	for _, c := range []struct {
		v    string
		r    input.Rule
		code string
	}{
		{"Hola", input.Required, ""},
		{"", input.Required, "required"},
		{"   ", input.Required, "required"},
		{"", 0, ""},
		{"a\u0000b", input.Multiline, "invalid_text"},
		{"a\u0000b", 0, "invalid_text"},
		{"línea 1\r\nlínea 2\tfin", input.Multiline, ""},
		{"línea 1\nlínea 2", 0, "invalid_text"},
		{"a\u001bb", input.Multiline, "invalid_text"},
		{"a\u0085b", input.Multiline, "invalid_text"},
		{"\xff", 0, "invalid_text"},
		{"123456", 0, "too_long"},
	} {
		max := 100
		if c.code == "too_long" {
			max = 5
		}
		err := input.Text("f", c.v, max, c.r)
		got := fault.ReasonOf(err)
		if got != c.code {
			t.Errorf("Text(%q, %d) = %v, want %q", c.v, c.r, err, c.code)
		}
	}
}

func TestFileName(t *testing.T) {
	for name, ok := range map[string]bool{
		"informe.pdf": true, "Informe de la UIF (2025).xlsx": true,
		"": false, ".": false, "..": false, "a/b.pdf": false, `a\b.pdf`: false, "a\x00.pdf": false, "a\n.pdf": false,
		string(make([]byte, 256)): false,
	} {
		if err := input.FileName("name", name); (err == nil) != ok {
			t.Errorf("FileName(%q) = %v", name, err)
		}
	}
}
