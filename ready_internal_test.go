package proctest

import (
	"regexp"
	"strings"
	"testing"
)

func TestRequiredLiteral(t *testing.T) {
	t.Parallel()
	tests := []struct{ pattern, want string }{
		{`^marker$`, "marker"},
		{`listening on (?P<addr>\S+)`, "listening on "},
		{`^(\S+) caught up at version (\d+)$`, " caught up at version "},
		{`(?i)ready`, ""},
		{`a|b`, ""},
		{`\d+`, ""},
	}
	for _, tt := range tests {
		if got := string(requiredLiteral(regexp.MustCompile(tt.pattern))); got != tt.want {
			t.Errorf("requiredLiteral(%q) = %q, want %q", tt.pattern, got, tt.want)
		}
	}
}

// TestScanSkipsNoMatch checks that skipping chunks without the literal
// still finds a match split across chunks at any point.
func TestScanAcrossChunks(t *testing.T) {
	t.Parallel()
	text := strings.Repeat("noise line\n", 50) + "the server is ready now\n" + strings.Repeat("more\n", 10)
	for size := 1; size <= 40; size++ {
		w := &outWait{re: regexp.MustCompile(`^the server is (?P<state>\w+) now$`), nth: 1, done: make(chan struct{})}
		w.lit = requiredLiteral(w.re)
		var carry []byte
		for i := 0; i < len(text); i += size {
			carry = scan([]*outWait{w}, carry, []byte(text[i:min(i+size, len(text))]))
		}
		if !w.met() || w.groups[1] != "ready" {
			t.Errorf("chunks of %d: met %v, groups %q", size, w.met(), w.groups)
		}
	}
}
