// Package input holds the rules for free text and file names that users
// and the partner send: one rule for every area, applied when a user
// sends and again when the partner's envelope arrives, so nothing a store
// cannot hold (PostgreSQL refuses NUL in text) or a page or file system
// would misread ever gets in.
package input

import (
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
