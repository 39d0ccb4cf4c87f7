// Package input holds the rules for free text and file names that users
// and the partner send: one rule for every area, applied when a user
// sends and again when the partner's envelope arrives, so nothing a store
// cannot hold (PostgreSQL refuses NUL in text) or a page or file system
// would misread ever gets in.
package input

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"puente/internal/fault"
)

// Rule says what a text field allows.
type Rule uint8

const (
	// Required: empty or only spaces is refused.
	Required Rule = 1 << iota
	// Multiline: tab, line feed and carriage return are allowed (a
	// textarea posts CRLF); a single-line field allows no control
	// character at all.
	Multiline
)

// Text checks v for field: at most max bytes of valid UTF-8 with no
// control characters but those r allows. The codes are "required",
// "too_long" and "invalid_text".
func Text(field, v string, max int, r Rule) error {
	if r&Required != 0 && strings.TrimSpace(v) == "" {
		return fault.Field(field, "required")
	}
	if len(v) > max {
		return fault.Field(field, "too_long")
	}
	if !utf8.ValidString(v) {
		return fault.Field(field, "invalid_text")
	}
	for _, c := range v {
		if isControl(c) && !(r&Multiline != 0 && (c == '\t' || c == '\n' || c == '\r')) {
			return fault.Field(field, "invalid_text")
		}
	}
	return nil
}

// isControl reports C0 and C1 controls and DEL.
func isControl(c rune) bool { return c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) }

// MaxFileName is the longest file name accepted, in bytes.
const MaxFileName = 255

// FileName checks an attachment's name: 1 to 255 bytes of UTF-8, no
// path separator, no control character, not "." or "..".
func FileName(field, name string) error {
	if name == "" || name == "." || name == ".." || len(name) > MaxFileName || !utf8.ValidString(name) || strings.ContainsAny(name, `/\`) {
		return fault.Field(field, "invalid_file_name")
	}
	for _, c := range name {
		if isControl(c) {
			return fault.Field(field, "invalid_file_name")
		}
	}
	return nil
}

// SafeFileName is name made safe to offer for download: path separators,
// control characters and quotes become "_", and an empty name "download".
// Stored names already passed FileName; this holds for rows written
// before that rule, whatever they hold.
func SafeFileName(name string) string {
	name = strings.Map(func(c rune) rune {
		if isControl(c) || c == '/' || c == '\\' || c == '"' || c == utf8.RuneError {
			return '_'
		}
		return c
	}, name)
	if strings.Trim(name, "._ ") == "" {
		return "download"
	}
	return name
}

// ServeDownload sends data as a file to save, never to render in the
// node's origin: named by SafeFileName, with an ASCII filename and the
// UTF-8 filename* of RFC 6266 (RFC 8187 encoding), a sandboxing CSP, and
// its SHA-256 when known.
func ServeDownload(w http.ResponseWriter, name, sha256 string, data []byte) {
	name = SafeFileName(name)
	ascii := strings.Map(func(c rune) rune {
		if c > 0x7e {
			return '_'
		}
		return c
	}, name)
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s"; filename*=UTF-8''%s`, ascii, extValue(name)))
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Length", strconv.Itoa(len(data)))
	if sha256 != "" {
		h.Set("X-Content-SHA256", sha256)
	}
	_, _ = w.Write(data)
}

// extValue percent-encodes s as an RFC 8187 ext-value: every byte but the
// attr-char set.
func extValue(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$&+-.^_`|~", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}
