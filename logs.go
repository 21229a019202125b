package proctest

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
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

// openLog opens the log file dir/name.stream for the process to write to:
// a new file, or the existing one when a process restarts. Every write
// appends, so that what an earlier run of the process (or a descendant of
// it) still writes never overwrites a later one's.
func openLog(dir, name, stream string, restart bool) (*os.File, error) {
	flag := os.O_WRONLY | os.O_APPEND
	if !restart {
		flag |= os.O_CREATE | os.O_EXCL
	}
	return os.OpenFile(filepath.Join(dir, name+"."+stream), flag, 0o600)
}

// tailBytes is how much of the end of a log the report reads.
const tailBytes = 16 << 10

// tail returns the last n lines of the file at path, and whether lines were
// left out before them.
func tail(path string, n int) (lines []string, cut bool, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, false, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, false, err
	}
	off := st.Size() - tailBytes
	if off < 0 {
		off = 0
	}
	buf := make([]byte, st.Size()-off)
	if _, err := f.ReadAt(buf, off); err != nil && err != io.EOF {
		return nil, false, err
	}
	buf = bytes.TrimSuffix(buf, []byte("\n"))
	if len(buf) == 0 {
		return nil, off > 0, nil
	}
	all := strings.Split(string(buf), "\n")
	if off > 0 {
		all = all[1:] // the first line may be cut
		cut = true
	}
	if len(all) > n {
		all = all[len(all)-n:]
		cut = true
	}
	return all, cut, nil
}
