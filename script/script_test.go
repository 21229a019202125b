package script_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/proctest/proctest"
	"github.com/proctest/proctest/script"
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
	s, err := script.Parse("files.txtar", []byte(data))
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
	s, err := script.Parse("fail.plan", []byte("spawn false\nwait false 0\n"))
	if err != nil {
		t.Fatal(err)
	}
	err = s.Run(context.Background(), proctest.LogDir(t.TempDir()))
	if err == nil || !strings.Contains(err.Error(), "\nwork directory kept in ") {
		t.Fatalf("Run = %v, want a failure naming the kept work directory", err)
	}
	var pe *proctest.PlanError
	var ce *proctest.ExitCodeError
	if !errors.As(err, &pe) || !errors.As(err, &ce) {
		t.Errorf("Run = %T, want an error that unwraps to a *PlanError and its *ExitCodeError", err)
	}
	if ce != nil && ce.Where != "fail.plan:2" {
		t.Errorf("ExitCodeError.Where = %q, want %q", ce.Where, "fail.plan:2")
	}
}

func TestScriptKeepLogs(t *testing.T) {
	t.Parallel()
	s, err := script.Parse("keep.plan", []byte("spawn true\nwait true 0\n"))
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	if err := s.Run(context.Background(), proctest.LogDir(root), proctest.KeepLogs()); err != nil {
		t.Fatal(err)
	}
	var work int
	ents, _ := os.ReadDir(root)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), "proctest-work-keep.plan-") {
			work++
		}
	}
	if work != 1 {
		t.Errorf("with KeepLogs, %s holds %v, want one work directory", root, ents)
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
		{`echo a"b"'c'\d$PATH"e\$"`, []string{"abcd" + path + "e$"}},
		{"echo \t a\r", []string{"a"}},
	}
	for _, tt := range tests {
		s, err := script.Parse("t.plan", []byte("spawn "+tt.line+"\nwait echo 0\n"))
		if err != nil {
			t.Errorf("Parse(%q) = %v", tt.line, err)
			continue
		}
		p, err := s.Plan(t.TempDir())
		if err != nil {
			t.Errorf("Plan(%q) = %v", tt.line, err)
			continue
		}
		if err := p.Validate(); err != nil {
			t.Errorf("Validate(%q) = %v", tt.line, err)
		}
		// The plan's first step spawned echo with the words.
		got := p.Procs()[0].Args()[1:]
		if strings.Join(got, "\x00") != strings.Join(tt.want, "\x00") {
			t.Errorf("words of %q = %q, want %q", tt.line, got, tt.want)
		}
	}
}

// TestParseLargeWord parses words of 1 MiB, which took minutes when a
// word grew a byte at a time. Its speed is measured by
// BenchmarkParseLarge, not asserted here.
func TestParseLargeWord(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("abcdefgh", 1<<17) // 1 MiB
	for _, tt := range []struct {
		name, word, want string
	}{
		{"plain", big, big},
		{"single quoted", "'" + big + "'", big},
		{"double quoted", `"` + big + `"`, big},
		{"escapes", strings.Repeat(`a\ `, 1<<18), strings.Repeat("a ", 1<<18)},
		{"variables", strings.Repeat("$WORK-", 1<<17), strings.Repeat("/w-", 1<<17)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, err := script.Parse("big.plan", []byte("spawn echo "+tt.word+"\nwait echo 0\n"))
			if err != nil {
				t.Fatal(err)
			}
			p, err := s.Plan("/w")
			if err != nil {
				t.Fatal(err)
			}
			if got := p.Procs()[0].Args()[1]; got != tt.want {
				t.Errorf("the word of %d bytes = %d bytes, want %d", len(tt.word), len(got), len(tt.want))
			}
		})
	}
}

func TestScriptErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ script, want string }{
		{"spawn sh -c 'oops\n", "t.plan:1: unclosed single quote"},
		{"spawn sh -c \"oops\n", "t.plan:1: unclosed double quote"},
		{"spawn echo ${x\n", "t.plan:1: unclosed ${"},
		{"spawn echo ${1x}\n", `t.plan:1: bad variable name "1x"`},
		{"spawn echo a\\", "t.plan:1: backslash at the end of the line"},
		{"\n\nfrobnicate\n", `t.plan:3: unknown step "frobnicate" (see SCRIPTS.md)`},
		{"spawn true ; false\n", "t.plan:1: ';' separates the commands of spawn-par only"},
		{";\n", "t.plan:1: a line cannot start with ';'"},
		{";spawn-par 00\n", "t.plan:1: a line cannot start with ';'"},
		{"; true\n", "t.plan:1: ';' separates the commands of spawn-par only"},
		{"spawn-par true ; ; false\n", "t.plan:1: usage: spawn-par COMMAND [ARG]... [; COMMAND [ARG]...]"},
		{"spawn\n", "t.plan:1: usage: spawn [-name NAME] [-host HOST] [-env KEY=VALUE]... [-dir DIR] [-stdin FILE] COMMAND [ARG]..."},
		{"spawn -name\n", "t.plan:1: flag -name needs a value"},
		{"spawn -nom x true\n", "t.plan:1: unknown flag -nom (flags here: -name, -host, -env, -dir, -stdin)"},
		{"spawn true\nwait\n", "t.plan:2: usage: wait [-timeout D] NAME [CODE|SIGNAL]"},
		{"spawn true\nwait true 0 1\n", "t.plan:2: usage: wait [-timeout D] NAME [CODE|SIGNAL]"},
		{"spawn true\nwait -timeout soon true\n", "t.plan:2: bad -timeout"},
		{"spawn true\nkill -signal SIGNOPE true\n", `t.plan:2: unknown signal "SIGNOPE"`},
		{"spawn true\nsignal true\n", "t.plan:2: usage: signal NAME SIGNAL"},
		{"spawn true\nwait true 300\n", "t.plan:2: exit code 300 is not between 0 and 255"},
		{"spawn true\nwait true later\n", `t.plan:2: expected end "later" is neither an exit code nor a signal`},
		{"wait nobody 0\n", `t.plan:1: no process "nobody" spawned before this line`},
		{"sleep forever\n", `t.plan:1: time: invalid duration "forever"`},
		{"free-port 9x\n", `t.plan:1: bad variable name "9x"`},
		{"env NOEQUALS\n", `t.plan:1: env "NOEQUALS": want KEY=VALUE`},
		{"spawn echo $NOPE_NOT_SET_ANYWHERE\n", "t.plan:1: undefined variable $NOPE_NOT_SET_ANYWHERE"},
		{"host n1\nspawn echo ${n9.host}\n", "t.plan:2: undefined variable $n9.host: no host n9 declared before this line"},
		{"spawn echo ${n1.host}\nhost n1\n", "t.plan:1: undefined variable $n1.host: no host n1 declared before this line"},
		{"free-port port\nspawn echo ${port.host}\n", "t.plan:2: undefined variable $port.host: no host port declared before this line"},
		{"host n1\nspawn echo ${n1.name}\n", `t.plan:2: bad variable name "n1.name"`},
		{"spawn true\nwait-stdout -nth x true a\n", "t.plan:2: bad -nth"},
		{"spawn true\nwait-http true http://x nope\n", `t.plan:2: bad status "nope"`},
		{"spawn true\nexpect-stdout true\n", "t.plan:2: usage: expect-stdout NAME REGEXP"},
		{"-- ../escape --\nx\n", `t.plan:0: file "../escape" is outside the work directory`},
	}
	for _, tt := range tests {
		_, err := script.Parse("t.plan", []byte(tt.script))
		var se *script.Error
		if !errors.As(err, &se) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%q) = %v, want an *Error saying %q", tt.script, err, tt.want)
		}
	}
}

// TestParseErrorsInLineOrder checks that every mistake is reported, in
// the order of the lines, those of the files first.
func TestParseErrorsInLineOrder(t *testing.T) {
	t.Parallel()
	_, err := script.Parse("t.plan", []byte("spwan echo\nspawn sh -c 'oops\nwait nobody 0\n-- /abs --\nx\n"))
	want := `t.plan:0: file "/abs" is outside the work directory
t.plan:1: unknown step "spwan" (see SCRIPTS.md)
t.plan:2: unclosed single quote
t.plan:3: no process "nobody" spawned before this line`
	if err == nil || err.Error() != want {
		t.Errorf("Parse = %v, want\n%s", err, want)
	}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	s, err := script.Parse("c.plan", []byte("spawn no-such-program-xyz\nspawn true\nwait true 0\nwait true 0\n"))
	if err != nil {
		t.Fatal(err)
	}
	err = script.Check(s)
	var nf *proctest.CommandNotFoundError
	var be *proctest.BuildError
	if !errors.As(err, &nf) || nf.Where != "c.plan:1" {
		t.Errorf("Check = %v, want a CommandNotFoundError at c.plan:1", err)
	}
	if !errors.As(err, &be) || be.Where != "c.plan:4" || !strings.Contains(be.Error(), "true already ended: wait true at c.plan:3") {
		t.Errorf("Check = %v, want a BuildError at c.plan:4", err)
	}
	ok, err := script.Parse("ok.plan", []byte("spawn true\nwait true 0\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := script.Check(ok); err != nil {
		t.Errorf("Check(ok.plan) = %v, want nil", err)
	}
	// A verb without flags reads "-1s" as its argument: the plan refuses
	// the negative sleep.
	neg, err := script.Parse("neg.plan", []byte("sleep -1s\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := script.Check(neg); !errors.As(err, &be) || be.Where != "neg.plan:1" || !strings.Contains(be.Error(), "negative duration") {
		t.Errorf("Check(neg.plan) = %v, want a BuildError at neg.plan:1", err)
	}
}

func TestFind(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, name := range []string{"b.plan", "a.txtar", "notes.txt", "sub/c.plan", "sub/testdata/d.plan", "sub/.hidden/e.plan"} {
		path := dir + "/" + name
		if err := os.MkdirAll(path[:strings.LastIndex(path, "/")], 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		paths []string
		want  []string
	}{
		{[]string{dir}, []string{"a.txtar", "b.plan"}},
		{[]string{dir + "/..."}, []string{"a.txtar", "b.plan", "sub/c.plan"}},
		{[]string{dir + "/notes.txt", dir + "/sub"}, []string{"notes.txt", "sub/c.plan"}},
	}
	for _, tt := range tests {
		got, err := script.Find(tt.paths...)
		for i := range got {
			got[i] = strings.TrimPrefix(got[i], dir+"/")
		}
		if err != nil || strings.Join(got, " ") != strings.Join(tt.want, " ") {
			t.Errorf("Find(%q) = %q, %v, want %q", tt.paths, got, err, tt.want)
		}
	}
	if _, err := script.Find(dir + "/b.plan/..."); err == nil {
		t.Errorf("Find(FILE/...) = nil error, want one")
	}
}

func ExampleParse() {
	_, err := script.Parse("demo.plan", []byte(`spawn -name server sleep 60
wait-stdout server 'ready
wait sever 0
sleep forever
`))
	fmt.Println(err)
	// Output:
	// demo.plan:2: unclosed single quote
	// demo.plan:3: no process "sever" spawned before this line
	// demo.plan:4: time: invalid duration "forever"
}

func ExampleScript_Run() {
	s, err := script.Parse("hello.plan", []byte(`spawn echo hello
wait echo 0
expect-stdout echo '^hello$'
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(s.Run(context.Background()))
	// Output: <nil>
}

// TestScriptHosts runs a plan script with hosts: servers on the same port
// of two hosts, one reached from the other by address and by
// ${HOST.host}, a host killed and restarted.
func TestScriptHosts(t *testing.T) {
	if ok, why := proctest.Supported(proctest.FeatureHosts); !ok {
		if os.Getenv("CI") != "" {
			t.Fatalf("hosts are not supported here, in CI: %s", why)
		}
		t.Skip("hosts are not supported here:", why)
	}
	t.Parallel()
	const data = `host n1 n2
spawn -host n1 -name s1 -env SCRIPT_TEST_HELPER=serve $SCRIPT_TEST_EXE ${n1.addr}:7000
spawn -host n2 -name s2 -env SCRIPT_TEST_HELPER=serve $SCRIPT_TEST_EXE ${n2.addr}:7000
wait-port s1 ${n1.addr}:7000
wait-port s2 ${n2.addr}:7000
seed 7
partition n1 / n2
partition -shape random-halves n1 n2
shape -loss 10% -rate 10mbit n1 n2
heal
spawn -host n1 -name get -env SCRIPT_TEST_HELPER=get $SCRIPT_TEST_EXE http://${n2.addr}:7000/from-n1
wait get 0
expect-stdout get '^ok /from-n1$'
spawn -host n1 -name byhost -env SCRIPT_TEST_HELPER=get $SCRIPT_TEST_EXE http://${n2.host}:7000/by-host
wait byhost 0
expect-stdout byhost '^ok /by-host$'
spawn -host n1 -name local -env SCRIPT_TEST_HELPER=get $SCRIPT_TEST_EXE http://127.0.0.1:7000/
wait local 2
kill-host n2
restart-host n2
restart s2
wait-port s2 ${n2.addr}:7000
kill s1
kill s2
`
	s, err := script.Parse("hosts.plan", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Run(context.Background(), proctest.LogDir(t.TempDir())); err != nil {
		t.Fatal(err)
	}
}

// TestScriptRefusesUnsafeWorkRoot runs a script whose log root anyone can
// write to without the sticky bit: a neighbour could swap its work
// directory, with the files it unpacked, for theirs. It is refused before
// anything is made or run.
func TestScriptRefusesUnsafeWorkRoot(t *testing.T) {
	t.Parallel()
	root := t.TempDir() + "/shared"
	if err := os.Mkdir(root, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(root, 0o777); err != nil {
		t.Fatal(err)
	}
	s, err := script.Parse("unsafe.txtar", []byte("spawn sh $WORK/prog.sh\nwait sh 0\n-- prog.sh --\necho ran > $WORK/ran\n"))
	if err != nil {
		t.Fatal(err)
	}
	err = s.Run(context.Background(), proctest.LogDir(root))
	if err == nil || !strings.Contains(err.Error(), "work directory") || !strings.Contains(err.Error(), root) {
		t.Errorf("Run with a world-writable log root = %v, want the work directory refused, naming %s", err, root)
	}
	if ents, _ := os.ReadDir(root); len(ents) > 0 {
		t.Errorf("the refused log root holds %v", ents)
	}
}
