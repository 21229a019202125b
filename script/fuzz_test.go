package script_test

import (
	"testing"

	"github.com/proctest/proctest/script"
)

// FuzzParseScript checks that no script, however broken, makes the parser
// or the plan builder panic or hang, and that a script either parses or
// says why.
func FuzzParseScript(f *testing.F) {
	for _, seed := range []string{
		"spawn echo hello\nwait echo 0\n",
		"spawn -name a sh -c 'exit 3'\nwait a 3\n",
		"free-port p\nspawn -env X=$p true\nwait-port - 127.0.0.1:$p\n",
		"spawn-par true ; false\nwait-par true=0 false=1\n",
		"spawn s sleep 1\nwait-stdout -nth 2 s '(?P<x>a)'\nkill -signal INT s SIGINT\n",
		"spawn \"unclosed\n${\n'\n\\",
		"# comment\n-- file.txt --\ncontent\n",
		"spawn echo {{x}} {{.Y}}\nexpect-stdout-file echo ../x\n",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, text string) {
		s, err := script.Parse("fuzz.plan", []byte(text))
		if s == nil {
			t.Fatalf("Parse returned no script (err %v)", err)
		}
		p, err := s.Plan(t.TempDir())
		if p == nil {
			t.Fatalf("Plan returned no plan (err %v)", err)
		}
		_ = p.Validate()
	})
}
