package proctest

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Text from processes (their output, a leftover's command line, a value
// captured from a line) reaches the terminal through reports, events and
// warnings. A terminal acts on some of it: ESC starts a sequence that can
// move the cursor, clear the screen or retitle the window; CR returns to
// the start of the line, so a program could paint a fake "--- PASS" over
// a real line; C1 controls are a second way to write ESC sequences; bidi
// overrides reorder what is shown. visible turns all of these, and
// invalid UTF-8, into escapes a person can read, such as \x1b, leaving
// other text as it is.

// visible returns s with every byte a terminal would act on written as an
// escape: control characters as \r, \x1b and the like, invalid UTF-8 bytes
// as \xff, C1 controls and bidi controls as \u009b and \u202e. With
// keepLines, newlines and tabs are kept, as the structure of a report;
// without, they are escaped too, for text that must stay on one line.
func visible(s string, keepLines bool) string {
	i := 0
	for i < len(s) {
		c := s[i]
		if c >= 0x20 && c < 0x7f || keepLines && (c == '\n' || c == '\t') {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if !(r == utf8.RuneError && size == 1) && !shownEscaped(r) {
				i += size
				continue
			}
		}
		break
	}
	if i == len(s) {
		return s // the common case: nothing to escape
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	b.WriteString(s[:i])
	for i < len(s) {
		c := s[i]
		switch {
		case c >= 0x20 && c < 0x7f, keepLines && (c == '\n' || c == '\t'):
			b.WriteByte(c)
			i++
		case c < utf8.RuneSelf:
			b.WriteString(escapeByte(c))
			i++
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			switch {
			case r == utf8.RuneError && size == 1:
				fmt.Fprintf(&b, `\x%02x`, c)
			case shownEscaped(r):
				fmt.Fprintf(&b, `\u%04x`, r)
			default:
				b.WriteString(s[i : i+size])
			}
			i += size
		}
	}
	return b.String()
}

// escapeByte returns the escape of an ASCII control character.
func escapeByte(c byte) string {
	switch c {
	case '\a':
		return `\a`
	case '\b':
		return `\b`
	case '\f':
		return `\f`
	case '\n':
		return `\n`
	case '\r':
		return `\r`
	case '\t':
		return `\t`
	case '\v':
		return `\v`
	}
	return fmt.Sprintf(`\x%02x`, c)
}

// shownEscaped reports whether the rune r, valid UTF-8 at or above 0x80, is
// one a terminal may act on: a C1 control (U+0080 to U+009F, of which
// U+009B is CSI), or a bidi control that reorders the text around it
// (U+061C, U+200E, U+200F, U+202A to U+202E, U+2066 to U+2069).
func shownEscaped(r rune) bool {
	switch {
	case r >= 0x80 && r <= 0x9f:
		return true
	case r == 0x061c, r == 0x200e, r == 0x200f:
		return true
	case r >= 0x202a && r <= 0x202e:
		return true
	case r >= 0x2066 && r <= 0x2069:
		return true
	}
	return false
}
