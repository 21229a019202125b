package proctest

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestVisible(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in        string
		keepLines bool
		want      string
	}{
		{in: "plain text, ünïcode ✓", want: "plain text, ünïcode ✓"},
		{in: "a\tb\nc", keepLines: true, want: "a\tb\nc"},
		{in: "a\tb\nc", want: `a\tb\nc`},
		{in: "\x1b[2J--- PASS\r", keepLines: true, want: `\x1b[2J--- PASS\r`},
		{in: "bell\a nul\x00 del\x7f", want: `bell\a nul\x00 del\x7f`},
		{in: "bad \xff\xfe utf-8 \xe2\x82", want: `bad \xff\xfe utf-8 \xe2\x82`},
		{in: "c1 \u009b31m", want: `c1 \u009b31m`},
		{in: "bidi \u202eevil\u202c", want: `bidi \u202eevil\u202c`},
		{in: `a\x1b as text`, want: `a\x1b as text`},
	}
	for _, tt := range tests {
		if got := visible(tt.in, tt.keepLines); got != tt.want {
			t.Errorf("visible(%q, %v) = %q, want %q", tt.in, tt.keepLines, got, tt.want)
		}
	}
}

// FuzzVisible checks that nothing a terminal acts on gets through.
func FuzzVisible(f *testing.F) {
	for _, seed := range []string{"", "x", "\x1b[31m", "\r\n\t", "\xff", "\u009b", "\u202e", "é"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := visible(s, true)
		if !utf8.ValidString(got) {
			t.Fatalf("visible(%q) = %q: invalid UTF-8", s, got)
		}
		for _, r := range got {
			if r < 0x20 && r != '\n' && r != '\t' || r == 0x7f || shownEscaped(r) {
				t.Fatalf("visible(%q) = %q holds %U", s, got, r)
			}
		}
		if one := visible(s, false); strings.ContainsAny(one, "\n\t") {
			t.Fatalf("visible(%q, false) = %q holds a newline or tab", s, one)
		}
	})
}
