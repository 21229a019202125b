package proctest

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"
)

// maxNameLen bounds a process name, so that "<name>.stdout" stays a valid
// file name.
const maxNameLen = 64

// safeName turns s into a file name of letters, digits, '.', '_', '+' and
// '-' that cannot leave a directory: other bytes become '_', a leading dot
// becomes '_', and an empty result becomes "proc".
func safeName(s string) string {
	var b strings.Builder
	for i := 0; i < len(s) && b.Len() < maxNameLen; i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '_', c == '+', c == '-':
			b.WriteByte(c)
		case c == '.' && b.Len() > 0:
			b.WriteByte(c)
		default:
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 {
		return "proc"
	}
	return b.String()
}

// names hands out unique process names within a plan.
type names struct {
	used map[string]bool
	next map[string]int // the next suffix to try for a base name
}

// unique returns base, or base-1, base-2, ... whichever is free first.
func (n *names) unique(base string) string {
	if n.used == nil {
		n.used = map[string]bool{}
		n.next = map[string]int{}
	}
	name := base
	for n.used[name] {
		n.next[base]++
		name = fmt.Sprintf("%s-%d", base, n.next[base])
	}
	n.used[name] = true
	return name
}

// openLog opens the log file name.stream in the plan's log directory for
// the process to write to: a new file, or the existing one when a process
// restarts. Every write appends, so that what an earlier run of the
// process (or a descendant of it) still writes never overwrites a later
// one's.
func openLog(logs *planLogs, name, stream string, restart bool) (*os.File, error) {
	if restart {
		return logs.appendTo(name + "." + stream)
	}
	return logs.create(name + "." + stream)
}

const (
	// tailBytes is how much of the end of a log the report reads.
	tailBytes = 16 << 10
	// tailLineBytes is how much of a line the report shows at most: its
	// end.
	tailLineBytes = 1 << 10
	// cutMark starts a line of the report that shows only the end of a
	// line: the first one read, when the bytes read start within it, or
	// one longer than tailLineBytes.
	cutMark = "[...] "
)

// tail returns the last n lines of the log f, and whether anything came
// before them. A line shown only in part starts with cutMark; a log with
// no newline in its last bytes (one endless line) is such a line.
func tail(f *os.File, n int) (lines []string, cut bool, err error) {
	st, err := f.Stat()
	if err != nil {
		return nil, false, err
	}
	off := max(st.Size()-tailBytes, 0)
	buf := make([]byte, st.Size()-off)
	if _, err := f.ReadAt(buf, off); err != nil && err != io.EOF {
		return nil, false, err
	}
	partial := false
	if off > 0 {
		cut = true
		var prev [1]byte
		if _, err := f.ReadAt(prev[:], off-1); err == nil && prev[0] != '\n' {
			partial = true
		}
	}
	buf = bytes.TrimSuffix(buf, []byte("\n"))
	if len(buf) == 0 {
		return nil, cut, nil
	}
	all := strings.Split(string(buf), "\n")
	if len(all) > n {
		all = all[len(all)-n:]
		cut, partial = true, false
	}
	for i, l := range all {
		part := i == 0 && partial
		if len(l) > tailLineBytes {
			l, part = l[len(l)-tailLineBytes:], true
		}
		if part {
			l = cutMark + trimRuneStart(l)
		}
		all[i] = l
	}
	return all, cut, nil
}

// trimRuneStart removes from s the end of a UTF-8 character that a cut
// left at its start.
func trimRuneStart(s string) string {
	for i := 0; i < utf8.UTFMax-1 && i < len(s); i++ {
		if utf8.RuneStart(s[i]) {
			return s[i:]
		}
	}
	return s
}
