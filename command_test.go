package proctest_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/proctest/proctest"
)

// counter is a shell command that counts its runs in the file c of its
// directory and succeeds, printing "done at N", from its third run on.
const counter = `n=$(cat c 2>/dev/null || echo 0); n=$((n+1)); echo $n > c; echo "run $n"; ` +
	`[ $n -ge 3 ] || { echo "not yet" >&2; exit 1; }; echo "done at $n"`

func TestRetryUntilSuccess(t *testing.T) {
	t.Parallel()
	var events []proctest.Event
	dir := t.TempDir()
	proctest.Run(t, func(p *proctest.Plan) {
		p.Dir = dir
		p.Retry("sh", "-c", counter).Named("count").Stdout(`^done at (?P<n>\d+)$`).Interval(time.Millisecond)
		p.Exec("echo", "n is {{n}}").Stdout(`^n is 3$`)
	}, proctest.OnEvent(func(e proctest.Event) { events = append(events, e) }))
	var spawns, exits, sets int
	for _, e := range events {
		switch {
		case e.Kind == proctest.EventSpawn && e.Proc == "count":
			spawns++
			if len(e.Args) != 3 || e.Args[0] != "sh" || e.Dir != dir {
				t.Errorf("spawn event %v: Args %q, Dir %q, want the command line and %s", e, e.Args, e.Dir, dir)
			}
		case e.Kind == proctest.EventExit && e.Proc == "count":
			exits++
		case e.Kind == proctest.EventVar && e.Var == "n":
			sets++
			if e.Value != "3" {
				t.Errorf("var event %v: want n=3", e)
			}
		}
	}
	if spawns != 3 || exits != 3 || sets != 1 {
		t.Errorf("events: %d spawns and %d exits of count, %d sets of n; want 3, 3, 1", spawns, exits, sets)
	}
}

func TestRetryTimeoutReport(t *testing.T) {
	t.Parallel()
	err := execute(t, func(p *proctest.Plan) {
		srv := p.SpawnNamed("server", "sh", "-c", "echo server says hi; exec sleep 60")
		p.WaitStdout(srv, "hi")
		p.Retry("sh", "-c", "echo trying $0; echo no luck >&2; exit 1", "x").Named("probe").
			Interval(time.Hour).Timeout(300 * time.Millisecond)
		p.Kill(srv)
	})
	ce := asError[*proctest.CommandError](t, err)
	if ce.Name != "probe" || ce.Attempts != 1 || ce.Got.Code != 1 || !ce.Ended || ce.Timeout != 300*time.Millisecond {
		t.Errorf("CommandError = %+v, want probe, one attempt, exit 1, timed out after 300ms", ce)
	}
	if !errors.As(err, new(*proctest.TimeoutError)) {
		t.Errorf("a retry's timeout is not a *TimeoutError too")
	}
	for _, want := range []string{
		"retry probe: timed out after 300ms waiting for exit 0\n",
		"command: sh -c echo trying $0; echo no luck >&2; exit 1 x\n",
		"ended with exit 1: want exit 0, got exit 1",
		"stdout, all of it:\n\t\t| trying x",
		"stderr, all of it:\n\t\t| no luck",
		// The server was running: its output is in the report too.
		"server (pid ", "| server says hi",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("report lacks %q:\n%v", want, err)
		}
	}
}

func TestRetryHangingAttemptIsStopped(t *testing.T) {
	t.Parallel()
	err := execute(t, func(p *proctest.Plan) {
		p.Retry("sleep", "60").Timeout(200 * time.Millisecond)
	}, proctest.StopGrace(5*time.Second))
	ce := asError[*proctest.CommandError](t, err)
	if ce.Ended || ce.Stopped != "SIGTERM" || ce.Got.Signal != syscall.SIGTERM || ce.Attempts != 1 {
		t.Errorf("CommandError = %+v, want one attempt stopped by SIGTERM", ce)
	}
	if !strings.Contains(err.Error(), "still running at the timeout; stopped by SIGTERM") {
		t.Errorf("report does not say the attempt was stopped:\n%v", err)
	}
}

func TestExec(t *testing.T) {
	t.Parallel()
	proctest.Run(t, func(p *proctest.Plan) {
		p.Exec("sh", "-c", "echo hello; echo oops >&2; exit 3").Exits(3).
			Stdout(`^(?P<word>h\w+)$`).Stderr(`^oops$`)
		p.Exec("sh", "-c", `echo "$GREETING {{word}} in $PWD"`).Env("GREETING=say").Dir("/").
			Stdout(`^say hello in /$`)
		p.Exec("sh", "-c", "kill -USR1 $$").Dies(syscall.SIGUSR1)
	})
}

func TestExecFailures(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name   string
		build  func(p *proctest.Plan)
		reason string
	}{
		{"status", func(p *proctest.Plan) { p.Exec("sh", "-c", "echo out; exit 2") },
			"exec sh: want exit 0, got exit 2\n\tcommand: sh -c echo out; exit 2\n\tended with exit 2\n\tstdout, all of it:\n\t\t| out\n\tstderr: empty"},
		{"stdout", func(p *proctest.Plan) { p.Exec("echo", "error: no such key").Stdout("^ok") },
			`exec echo: stdout does not match "^ok"`},
		{"stderr", func(p *proctest.Plan) { p.Exec("true").Named("quiet").Stderr(".") },
			`exec quiet: stderr does not match "."`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := execute(t, tt.build)
			ce := asError[*proctest.CommandError](t, err)
			if !strings.Contains(ce.Error(), tt.reason) || ce.Timeout != 0 || ce.Attempts != 1 {
				t.Errorf("CommandError = %q, want %q, no timeout, one attempt", ce.Error(), tt.reason)
			}
		})
	}
}

func TestExecLogsAndUnexpectedExit(t *testing.T) {
	t.Parallel()
	logs := t.TempDir()
	err := execute(t, func(p *proctest.Plan) {
		p.Spawn("exit-after", "0", "4")
		p.Exec("sh", "-c", "echo started; exec sleep 60").Named("slow")
	}, proctest.LogDir(logs))
	ue := asError[*proctest.UnexpectedExitError](t, err)
	if ue.Proc != "exit-after" || !strings.Contains(ue.Awaiting, "exec slow") {
		t.Errorf("UnexpectedExitError = %+v, want exit-after during exec slow", ue)
	}
	var pe *proctest.PlanError
	errors.As(err, &pe)
	out, _ := os.ReadFile(filepath.Join(pe.LogDir, "slow.stdout"))
	if string(out) != "started\n" {
		t.Errorf("slow.stdout = %q, want %q", out, "started\n")
	}
}

func TestExecBuildErrors(t *testing.T) {
	t.Parallel()
	p := proctest.New(t.Name())
	p.Exec("no-such-program-anywhere")
	p.Exec("echo", "{{nope}}")
	p.Retry("true").Exits(1)
	p.Exec("true").Interval(time.Second)
	p.Wait(p.Spawn("true"), 0).Stdout("x")
	p.Exec("true").Named("true")
	err := p.Validate()
	for _, want := range []string{
		"spawn no-such-program-anywhere: command not found",
		"exec echo: {{nope}}: no earlier step sets variable nope",
		"retry true: a retry succeeds on exit 0 only",
		"exec true-1: Interval applies to Retry steps only",
		"wait true-2: Stdout applies to Exec and Retry steps only",
		`exec true-3: name "true" is already used in the plan`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v, want an error %q", err, want)
		}
	}
	if !errors.Is(err, exec.ErrNotFound) {
		t.Errorf("Validate() = %v, want errors.Is exec.ErrNotFound", err)
	}
}
