package input_test

import (
	"net/http/httptest"
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

func TestServeDownload(t *testing.T) {
	for _, c := range []struct{ name, disp string }{
		{"informe.pdf", `attachment; filename="informe.pdf"; filename*=UTF-8''informe.pdf`},
		{"año 2025.xlsx", `attachment; filename="a_o 2025.xlsx"; filename*=UTF-8''a%C3%B1o%202025.xlsx`},
		{"../../etc/passwd", `attachment; filename=".._.._etc_passwd"; filename*=UTF-8''.._.._etc_passwd`},
		{"a\"b\x00\n.txt", `attachment; filename="a_b__.txt"; filename*=UTF-8''a_b__.txt`},
		{"", `attachment; filename="download"; filename*=UTF-8''download`},
		{"it's (final);v2.pdf", `attachment; filename="it's (final);v2.pdf"; filename*=UTF-8''it%27s%20%28final%29%3Bv2.pdf`},
	} {
		w := httptest.NewRecorder()
		input.ServeDownload(w, c.name, "abc", []byte("x"))
		if got := w.Header().Get("Content-Disposition"); got != c.disp {
			t.Errorf("%q: Content-Disposition %s, want %s", c.name, got, c.disp)
		}
		if w.Header().Get("Content-Security-Policy") == "" || w.Header().Get("Content-Type") != "application/octet-stream" {
			t.Errorf("%q: headers %v", c.name, w.Header())
		}
	}
}
