package script_test

import (
	"context"
	"strings"
	"testing"

	"github.com/proctest/proctest"
	"github.com/proctest/proctest/script"
)

// TestNewSteps runs a script with the steps users asked for: exec, retry,
// set and env variables, write-file and expand, spawn-par -name, and a
// process named through a variable.
func TestNewSteps(t *testing.T) {
	t.Parallel()
	data := `set greeting=hello
env GREETING=hi
exec -stdout '^hi hello$' sh -c 'echo "$GREETING $0"' $greeting
exec -stdout '^hi$' echo $GREETING
exec -status 3 -stderr '^oops$' -name failing sh -c 'echo oops >&2; exit 3'
exec -status SIGUSR1 sh -c 'kill -USR1 $$'

free-port port
expand app.conf
exec -stdout '^listen 127\.0\.0\.1:\d+;$' cat app.conf
expand app.conf copy.conf
write-file note.txt "port is $port"
exec -stdout '^port is \d+$' -dir $WORK cat note.txt

spawn-par -name a sleep 60 ; -name b sleep 60
exec -stdout '^(?P<victim>\w+)$' echo b
kill $victim
kill a
` + "retry -interval 1ms -stdout '^done at (?P<n>\\d+)$' sh -c '" + counter + "'\n" + `exec -stdout '^3$' echo $n
-- app.conf --
listen 127.0.0.1:{{port}};
`
	s, err := script.Parse("new.txtar", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Run(context.Background(), proctest.LogDir(t.TempDir())); err != nil {
		t.Fatal(err)
	}
}

// counter is a shell command that counts its runs in the file c of its
// directory and succeeds from its third run on.
const counter = `n=$(cat c 2>/dev/null || echo 0); n=$((n+1)); echo $n > c; [ $n -ge 3 ] || exit 1; echo "done at $n"`

func TestNewStepErrors(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ script, want string }{
		{"spawn sleep 60\nexec -stdout '(?P<x>.*)' echo sleep\nwait-stdout $x ready\nkill sleep\n",
			"t.plan:3: wait-stdout $x: $x stands for a process named by a variable"},
		{"spawn true\nwait true\nexec -stdout '(?P<x>.*)' echo true\nkill $x\n",
			"t.plan:4: kill $x: none of the processes $x may name is running here (true)"},
		{"expand nothing.conf\n", "t.plan:1: no file \"nothing.conf\" in the script's archive"},
		{"set 1x=2\n", `t.plan:1: set "1x=2": want NAME=VALUE`},
		{"exec -status nope true\n", `t.plan:1: -status "nope" is neither an exit code nor a signal`},
		{"retry -interval 0s true\n", "t.plan:1: retry true: interval must be positive"},
		{"timeout -signal NOPE 1s\n", `t.plan:1: unknown signal "NOPE"`},
		{"spawn-par -name a true ; -name\n", "t.plan:1: flag -name needs a value"},
	} {
		s, err := script.Parse("t.plan", []byte(tt.script))
		if err == nil {
			err = script.Check(s)
		}
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("script %q: error %v, want %q", tt.script, err, tt.want)
		}
	}
}

// TestKillThroughVariableAtRunTime checks the failure of a variable that
// names no process at run time: it names the variable and its value.
func TestKillThroughVariableAtRunTime(t *testing.T) {
	t.Parallel()
	s, err := script.Parse("leader.plan", []byte("spawn -name n1 sleep 60\nexec -stdout '^(?P<leader>\\S+)$' echo n7\nkill $leader\n"))
	if err != nil {
		t.Fatal(err)
	}
	err = s.Run(context.Background(), proctest.LogDir(t.TempDir()))
	want := `leader.plan:3: kill $leader: variable leader is "n7", which is not the name of a process it may name here (n1)`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Run = %v, want %q", err, want)
	}
}
