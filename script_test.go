package proctest_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/proctest/proctest"
)

func TestScriptWithFiles(t *testing.T) {
	t.Parallel()
	data := `# the files are unpacked into the work directory
spawn cat config/app.json
wait cat 0
expect-stdout cat '"debug": true'
spawn sh -c 'pwd; echo "$0"' $WORK
wait sh 0
-- config/app.json --
{"debug": true}
`
	s, err := proctest.ParseScript("files.txtar", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	if err := s.Run(context.Background(), proctest.LogDir(root)); err != nil {
		t.Fatal(err)
	}
	if ents, _ := os.ReadDir(root); len(ents) != 0 {
		t.Errorf("a passing script left %d entries in %s", len(ents), root)
	}
}

func TestScriptFailureKeepsWorkDir(t *testing.T) {
	t.Parallel()
	s, err := proctest.ParseScript("fail.plan", []byte("spawn false\nwait false 0\n"))
	if err != nil {
		t.Fatal(err)
	}
	err = s.Run(context.Background(), proctest.LogDir(t.TempDir()))
	if err == nil || !strings.Contains(err.Error(), "work directory kept in ") {
		t.Fatalf("Run = %v, want a failure naming the kept work directory", err)
	}
}

func TestSplitWords(t *testing.T) {
	t.Parallel()
	path := os.Getenv("PATH")
	tests := []struct {
		line string
		want []string // the expanded arguments of a spawn, as echo prints them
	}{
		{`echo a b  c`, []string{"a", "b", "c"}},
		{`echo 'a b' "c d"`, []string{"a b", "c d"}},
		{`echo 'it''s'`, []string{"its"}},
		{`echo "say \"hi\"" a\ b`, []string{`say "hi"`, "a b"}},
		{`echo '$PATH' "$PATH/x" ${PATH}y`, []string{"$PATH", path + "/x", path + "y"}},
		{`echo a#b # comment`, []string{"a#b"}},
		{`echo "" ''`, []string{"", ""}},
		{`echo "a;b" 'c;d' e\;f`, []string{"a;b", "c;d", "e;f"}},
		{`echo $ x$`, []string{"$", "x$"}},
	}
	for _, tt := range tests {
		s, err := proctest.ParseScript("t.plan", []byte("spawn "+tt.line+"\nwait echo 0\n"))
		if err != nil {
			t.Errorf("ParseScript(%q) = %v", tt.line, err)
			continue
		}
		p, err := s.Plan(t.TempDir())
		if err != nil {
			t.Errorf("Plan(%q) = %v", tt.line, err)
			continue
		}
		// The plan's first step spawned echo with the words.
		if err := p.Validate(); err != nil {
			t.Errorf("Validate(%q) = %v", tt.line, err)
		}
		got := firstArgs(p)
		if strings.Join(got, "\x00") != strings.Join(tt.want, "\x00") {
			t.Errorf("words of %q = %q, want %q", tt.line, got, tt.want)
		}
	}
}

// firstArgs returns the arguments of the first process of p, without the
// command.
func firstArgs(p *proctest.Plan) []string {
	return p.Procs()[0].Args()[1:]
}

func TestScriptErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ script, want string }{
		{"spawn sh -c 'oops\n", "t.plan:1: unclosed single quote"},
		{"spawn sh -c \"oops\n", "t.plan:1: unclosed double quote"},
		{"spawn echo ${x\n", "t.plan:1: unclosed ${"},
		{"spawn echo ${1x}\n", `t.plan:1: bad variable name "1x"`},
		{"spawn echo a\\", "t.plan:1: backslash at the end of the line"},
		{"\n\nfrobnicate\n", `t.plan:3: unknown step "frobnicate"`},
		{"spawn true ; false\n", "t.plan:1: ';' separates the commands of spawn-par only"},
		{"spawn-par true ; ; false\n", "usage: spawn-par"},
		{"spawn\n", "usage: spawn"},
		{"spawn -name\n", "flag -name needs a value"},
		{"spawn true\nkill -signal SIGNOPE true\n", `t.plan:2: unknown signal "SIGNOPE"`},
		{"spawn true\nwait true 300\n", "exit code 300 is not between 0 and 255"},
		{"sleep forever\n", `t.plan:1: time: invalid duration "forever"`},
		{"free-port 9x\n", `bad variable name "9x"`},
		{"env NOEQUALS\n", `env "NOEQUALS": want KEY=VALUE`},
		{"spawn true\nwait-stdout -nth x true a\n", "bad -nth"},
		{"spawn true\nwait-http true http://x nope\n", `bad status "nope"`},
		{"-- ../escape --\nx\n", `file "../escape" is outside the work directory`},
	}
	for _, tt := range tests {
		s, err := proctest.ParseScript("t.plan", []byte(tt.script))
		if err == nil {
			_, err = s.Plan(t.TempDir())
		}
		var se *proctest.ScriptError
		if err == nil || !errors.As(err, &se) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("script %q: error %v, want a ScriptError saying %q", tt.script, err, tt.want)
		}
	}
}

// TestScriptsDocExamples reads every example of SCRIPTS.md: each must
// parse and build into a plan, so the reference cannot drift from the
// parser.
func TestScriptsDocExamples(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("SCRIPTS.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := strings.Split(string(doc), "```")
	n := 0
	for i := 1; i < len(blocks); i += 2 {
		block := blocks[i]
		if strings.HasPrefix(block, "sh\n") || strings.Contains(block, "proctest run") {
			continue
		}
		n++
		s, err := proctest.ParseScript("SCRIPTS.md", []byte(block))
		if err == nil {
			_, err = s.Plan(t.TempDir())
		}
		if err != nil {
			t.Errorf("example %d of SCRIPTS.md:\n%s\n%v", n, block, err)
		}
	}
	if n < 3 {
		t.Errorf("found %d examples in SCRIPTS.md, want at least 3", n)
	}
}
