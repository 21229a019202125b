package proctest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSafeName(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"echo", "echo"},
		{"/bin/echo", "_bin_echo"},
		{"..", "_."},
		{".hidden", "_hidden"},
		{"a b\tc\n", "a_b_c_"},
		{"", "proc"},
		{"ünï", "__n__"},
		{strings.Repeat("x", 100), strings.Repeat("x", maxNameLen)},
	}
	for _, tt := range tests {
		if got := safeName(tt.in); got != tt.want {
			t.Errorf("safeName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestUniqueNames(t *testing.T) {
	t.Parallel()
	var n names
	var got []string
	for _, base := range []string{"echo", "echo", "echo-1", "echo", "sh"} {
		got = append(got, n.unique(base))
	}
	want := "echo echo-1 echo-1-1 echo-2 sh"
	if strings.Join(got, " ") != want {
		t.Errorf("unique names = %q, want %q", strings.Join(got, " "), want)
	}
}

// FuzzSafeName checks that no name makes a log file outside its directory.
func FuzzSafeName(f *testing.F) {
	for _, seed := range []string{"echo", "../../etc/passwd", "..", ".", "/", "a/b", "\x00", "ünï\n"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		name := safeName(s)
		if name == "" || len(name) > maxNameLen || name[0] == '.' {
			t.Fatalf("safeName(%q) = %q: empty, too long or hidden", s, name)
		}
		for _, c := range []byte(name) {
			ok := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("._+-", c) >= 0
			if !ok {
				t.Fatalf("safeName(%q) = %q holds %q", s, name, c)
			}
		}
		dir := "/logs/plan"
		if p := filepath.Join(dir, name+".stdout"); filepath.Dir(p) != dir {
			t.Fatalf("log of %q would be %s, outside %s", s, p, dir)
		}
	})
}

func TestTail(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", tailLineBytes+10)
	tests := []struct {
		name, log string
		want      []string
		cut       bool
	}{
		{name: "empty", log: "", want: nil},
		{name: "a few lines", log: "a\nb\n", want: []string{"a", "b"}},
		{name: "no final newline", log: "a\nb", want: []string{"a", "b"}},
		{name: "more lines than shown", log: strings.Repeat("l\n", tailLines+5), want: strings.Split(strings.Repeat("l ", tailLines)[:2*tailLines-1], " "), cut: true},
		{name: "a long line", log: "start\n" + long + "\n", want: []string{"start", cutMark + long[10:]}},
		{name: "one endless line", log: strings.Repeat("y", 3*tailBytes) + "END", want: []string{cutMark + strings.Repeat("y", tailLineBytes-3) + "END"}, cut: true},
		{name: "the bytes read start within a line", log: strings.Repeat("z", 100) + "\n" + strings.Repeat("w", tailBytes-10) + "\nlast\n",
			want: []string{cutMark + "zzz", cutMark + strings.Repeat("w", tailLineBytes), "last"}, cut: true},
		{name: "a character cut in two", log: strings.Repeat("é", tailBytes), want: []string{cutMark + strings.Repeat("é", tailLineBytes/2)}, cut: true},
	}
	for _, tt := range tests {
		f, err := os.CreateTemp(t.TempDir(), "log")
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString(tt.log)
		lines, cut, err := tail(f, tailLines)
		f.Close()
		if err != nil || cut != tt.cut || strings.Join(lines, "|") != strings.Join(tt.want, "|") || len(lines) != len(tt.want) {
			t.Errorf("%s: tail = %.60q (%d lines), %v, %v; want %.60q (%d lines), %v", tt.name, lines, len(lines), cut, err, tt.want, len(tt.want), tt.cut)
		}
	}
}
