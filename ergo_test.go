package proctest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/proctest/proctest"
)

// The tests of what new users asked for first: processes named through
// variables, values in Go code, files from templates, reports that say
// why.

func TestWhichKillsAndRestartsTheLeader(t *testing.T) {
	t.Parallel()
	var events []proctest.Event
	logs := t.TempDir()
	proctest.Run(t, func(p *proctest.Plan) {
		n1 := p.SpawnNamed("n1", "sleep", "60")
		n2 := p.SpawnNamed("n2", "sleep", "60")
		// Which one leads is learned while the plan runs.
		p.Exec("echo", "leader is n2").Stdout(`^leader is (?P<leader>\S+)$`)
		leader := p.Which(p.Var("leader"), n1, n2)
		p.Kill(leader, leader.Dies(syscall.SIGTERM))
		p.Restart(leader)
		p.Signal(leader, syscall.SIGUSR1)
		p.WaitExit(leader.Dies(syscall.SIGUSR1))
		p.Kill(n1)
	}, proctest.LogDir(logs), proctest.KeepLogs(), proctest.OnEvent(func(e proctest.Event) { events = append(events, e) }))
	starts := map[string]int{}
	for _, e := range events {
		if e.Kind == proctest.EventSpawn {
			starts[e.Proc]++
		}
	}
	if starts["n1"] != 1 || starts["n2"] != 2 {
		t.Errorf("starts = %v, want n1 once and n2 (the leader) twice", starts)
	}
}

func TestWhichRunTimeErrors(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, leader, want string
	}{
		{"unknown name", "n9", `kill $leader: variable leader is "n9", which is not the name of a process it may name here (n1, n2)`},
		{"already ended", "n2", "kill $leader (n2): n2 (pid "},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := execute(t, func(p *proctest.Plan) {
				n1 := p.SpawnNamed("n1", "sleep", "60")
				n2 := p.SpawnNamed("n2", "sleep", "60")
				p.Kill(n2)
				p.SetVar("who", tt.leader)
				p.Exec("echo", "{{who}}").Stdout(`^(?P<leader>\S+)$`)
				p.Kill(p.Which(p.Var("leader"), n1, n2))
				p.Kill(n1)
			})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Execute = %v, want an error %q", err, tt.want)
			}
		})
	}
}

func TestWhichBuildErrors(t *testing.T) {
	t.Parallel()
	p := proctest.New(t.Name())
	n1 := p.SpawnNamed("n1", "sleep", "60")
	n2 := p.SpawnNamed("n2", "sleep", "60")
	p.Kill(p.Which(p.Var("nobody"), n1))
	p.Exec("echo", "n1").Stdout(`(?P<leader>\S+)`)
	lead := p.Which(p.Var("leader"), n1, n2)
	p.WaitStdout(lead, "x")
	p.Kill(lead)
	p.Restart(lead)
	p.WaitStdout(n2, "ready")
	p.Kill(n1)
	p.Kill(n2)
	p.Kill(lead)
	err := p.Validate()
	for _, want := range []string{
		"which $nobody: no earlier step sets variable nobody",
		"wait-stdout $leader: $leader stands for a process named by a variable",
		"wait-stdout n2: n2 may have been restarted by restart $leader at ergo_test.go:",
		"kill $leader: none of the processes $leader may name is running here (n1, n2)",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v, want an error %q", err, want)
		}
	}
}

func TestExpandInGoCode(t *testing.T) {
	t.Parallel()
	proctest.Run(t, func(p *proctest.Plan) {
		srv := p.Spawn("listen", "127.0.0.1:0")
		p.WaitStdout(srv, `^listening on (?P<addr>\S+)$`)
		p.WaitFunc(srv, "dial {{addr}} from Go", func(ctx context.Context) error {
			c, err := (&net.Dialer{}).DialContext(ctx, "tcp", p.Expand("{{addr}}"))
			if err != nil {
				return err
			}
			return c.Close()
		})
		p.Go("check", func(ctx context.Context) error {
			if got := p.Expand("[{{addr}}] {{.ID}} {{unknown}}"); !strings.HasPrefix(got, "[127.0.0.1:") || !strings.HasSuffix(got, "] {{.ID}} {{unknown}}") {
				return fmt.Errorf("Expand = %q", got)
			}
			return nil
		})
		p.Wait(p.Procs()[1], 0)
		p.Kill(srv, srv.Exits(0))
	})
}

func TestSetVarAndWriteFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	proctest.Run(t, func(p *proctest.Plan) {
		p.Dir = dir
		p.FreePort("port")
		srv := p.Spawn("listen", "127.0.0.1:{{port}}")
		p.WaitStdout(srv, `^listening on (?P<addr>\S+)$`)
		p.SetVar("url", "http://{{addr}}/health")
		p.SetVar("url", "{{url}}?full=1") // refers to its earlier value
		p.WriteFile("app.conf", "upstream {{url}};\nport {{port}};\n")
		p.Exec("cat", "app.conf").Stdout(`(?s)^upstream http://127\.0\.0\.1:\d+/health\?full=1;\nport \d+;\n$`)
		p.Exec("get", "{{url}}").Stdout(`^ok /health$`)
		p.Kill(srv, srv.Exits(0))
	})
	p := proctest.New(t.Name())
	p.FreePort("port")
	p.SetVar("port", "1")
	p.SetVar("bad name", "1")
	p.WriteFile("x", "{{nope}}")
	p.SetVar("s", "x")
	p.Exec("echo").Stdout("(?P<s>.*)")
	err := p.Validate()
	for _, want := range []string{
		"set port: variable port is set while the plan runs by an earlier step",
		`set bad name: "bad name" is not a variable name`,
		"write-file x: {{nope}}: no earlier step sets variable nope",
		"group s of the pattern: variable s is set by SetVar",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v, want an error %q", err, want)
		}
	}
}

func TestSpawnParNamed(t *testing.T) {
	t.Parallel()
	logs := t.TempDir()
	proctest.Run(t, func(p *proctest.Plan) {
		ps := p.SpawnParNamed([]string{"first", ""}, []string{"echo", "one"}, []string{"echo", "two"})
		if ps[0].Name() != "first" || ps[1].Name() != "echo-1" {
			t.Errorf("names = %s, %s; want first, echo-1", ps[0].Name(), ps[1].Name())
		}
		p.WaitPar(ps[0].Exits(0), ps[1].Exits(0))
		p.ExpectStdout(ps[0], "^one$")
	}, proctest.LogDir(logs))
	p := proctest.New(t.Name())
	p.SpawnParNamed([]string{"a"}, []string{"true"}, []string{"true"})
	if err := p.Validate(); err == nil || !strings.Contains(err.Error(), "1 names for 2 commands") {
		t.Errorf("Validate() = %v, want an error for 1 name for 2 commands", err)
	}
}

func TestWaitFuncPar(t *testing.T) {
	t.Parallel()
	never := func(context.Context) error { return errors.New("not yet") }
	// One of the processes ends first: the step fails at once.
	err := execute(t, func(p *proctest.Plan) {
		a := p.SpawnNamed("a", "sleep", "60")
		b := p.SpawnNamed("b", "exit-after", "20", "3")
		p.WaitFuncPar([]*proctest.Proc{a, b}, "both ready", never)
		p.Kill(a)
	})
	ue := asError[*proctest.UnexpectedExitError](t, err)
	if ue.Proc != "b" || !strings.Contains(ue.Awaiting, "wait-func a b") {
		t.Errorf("UnexpectedExitError = %+v, want b during wait-func a b", ue)
	}
	// It times out: the report shows both processes' output.
	err = execute(t, func(p *proctest.Plan) {
		a := p.SpawnNamed("a", "sh", "-c", "echo from a; exec sleep 60")
		b := p.SpawnNamed("b", "sh", "-c", "echo from b; exec sleep 60")
		p.WaitStdout(a, "from")
		p.WaitStdout(b, "from")
		p.WaitFuncPar([]*proctest.Proc{a, b}, "both ready", never).Timeout(100 * time.Millisecond)
	})
	for _, want := range []string{"last error: not yet", "| from a", "| from b"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("report lacks %q:\n%v", want, err)
		}
	}
}

// TestPollerReportShowsRunningProcesses checks that a polled wait about no
// process, which fails, shows the output of the processes running then.
func TestPollerReportShowsRunningProcesses(t *testing.T) {
	t.Parallel()
	err := execute(t, func(p *proctest.Plan) {
		srv := p.SpawnNamed("server", "sh", "-c", "echo bound to port 1; echo warning: config ignored >&2; exec sleep 60")
		p.WaitStdout(srv, "bound")
		p.WaitPort(nil, "127.0.0.1:1").Timeout(100 * time.Millisecond)
	})
	te := asError[*proctest.TimeoutError](t, err)
	if len(te.Related) != 1 || te.Related[0] != "server" {
		t.Errorf("TimeoutError.Related = %q, want [server]", te.Related)
	}
	for _, want := range []string{"| bound to port 1", "| warning: config ignored"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("report lacks %q:\n%v", want, err)
		}
	}
}

func TestBufferingHint(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name   string
		script string
		hint   bool
	}{
		{"silent", "exec sleep 60", true},
		{"talking", "echo something else; exec sleep 60", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := execute(t, func(p *proctest.Plan) {
				p.WaitStdout(p.Spawn("sh", "-c", tt.script), "^ready$").Timeout(100 * time.Millisecond)
			})
			te := asError[*proctest.TimeoutError](t, err)
			got := strings.Contains(err.Error(), "its stdout is still empty") && strings.Contains(err.Error(), "PYTHONUNBUFFERED=1") &&
				strings.Contains(err.Error(), "stdbuf -oL")
			if got != tt.hint || (te.Hint != "") != tt.hint {
				t.Errorf("report hints at buffering: %v, want %v:\n%v", got, tt.hint, err)
			}
		})
	}
}

func TestTimedOutWaitFollowsTheStopLadder(t *testing.T) {
	t.Parallel()
	logs := t.TempDir()
	err := execute(t, func(p *proctest.Plan) {
		g := p.Spawn("graceful")
		p.WaitStdout(g, "^ready$")
		p.Wait(g, 0).Timeout(100 * time.Millisecond)
	}, proctest.LogDir(logs))
	asError[*proctest.TimeoutError](t, err)
	var pe *proctest.PlanError
	errors.As(err, &pe)
	out, _ := os.ReadFile(filepath.Join(pe.LogDir, "graceful.stdout"))
	if !strings.Contains(string(out), "bye") || !strings.Contains(err.Error(), "stopped by SIGTERM") {
		t.Errorf("the timed-out process was not stopped by SIGTERM first; stdout %q, report:\n%v", out, err)
	}
}

func TestTimeoutSignalDumpsGoroutines(t *testing.T) {
	t.Parallel()
	err := execute(t, func(p *proctest.Plan) {
		p.SetTimeoutSignal(syscall.SIGQUIT)
		h := p.Spawn("ignore-term") // a Go program: SIGQUIT dumps its goroutines
		p.WaitStdout(h, "^ready$")
		p.Wait(h, 0).Timeout(100 * time.Millisecond)
	})
	asError[*proctest.TimeoutError](t, err)
	var pe *proctest.PlanError
	errors.As(err, &pe)
	stderr, _ := os.ReadFile(filepath.Join(pe.LogDir, "ignore-term.stderr"))
	if !strings.Contains(string(stderr), "SIGQUIT") || !strings.Contains(string(stderr), "goroutine ") ||
		!strings.Contains(err.Error(), "stopped by SIGQUIT") {
		t.Errorf("SIGQUIT did not come first; stderr:\n%s\nreport:\n%v", stderr, err)
	}
}

// logTB is a proctest.TB that keeps what is logged.
type logTB struct {
	name string
	logs []string
	err  string
}

func (t *logTB) Helper()           {}
func (t *logTB) Name() string      { return t.name }
func (t *logTB) Fatal(args ...any) { t.err = fmt.Sprint(args...) }
func (t *logTB) Logf(format string, args ...any) {
	t.logs = append(t.logs, fmt.Sprintf(format, args...))
}
func (t *logTB) logged(s string) bool              { return strings.Contains(strings.Join(t.logs, "\n"), s) }
func (t *logTB) Deadline() (dl time.Time, ok bool) { return dl, false }

func TestKeptLogsOfPassingPlanAreNamed(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	tb := &logTB{name: "keep"}
	proctest.Run(tb, func(p *proctest.Plan) {
		p.Wait(p.Spawn("echo", "hi"), 0)
	}, proctest.LogDir(root), proctest.KeepLogs())
	if tb.err != "" || !tb.logged("proctest: logs kept in "+root) || !tb.logged("timeline page "+root) {
		t.Fatalf("Run logged %q (failure %q), want where the logs and timeline page are", tb.logs, tb.err)
	}
	pages, _ := filepath.Glob(filepath.Join(root, "*", "timeline.html"))
	if len(pages) != 1 {
		t.Errorf("timeline pages in %s: %q, want one", root, pages)
	}
}

// addFailingClient is a helper of the test's own: the steps it builds are
// reported at the line that calls it.
func addFailingClient(p *proctest.Plan) {
	p.Helper()
	addFailingWait(p, p.Spawn("false"))
}

func addFailingWait(p *proctest.Plan, c *proctest.Proc) {
	p.Helper()
	p.Wait(c, 0)
}

func TestHelperReportsTheCaller(t *testing.T) {
	t.Parallel()
	_, _, line, _ := runtime.Caller(0)
	err := execute(t, func(p *proctest.Plan) {
		addFailingClient(p) // line+2
	})
	ce := asError[*proctest.ExitCodeError](t, err)
	if want := fmt.Sprintf("ergo_test.go:%d", line+2); ce.Where != want {
		t.Errorf("ExitCodeError.Where = %q, want %q", ce.Where, want)
	}
}

func TestReportShowsCommandsAndVariables(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var js bytes.Buffer
	err := execute(t, func(p *proctest.Plan) {
		p.Env = []string{"PLANWIDE=1"}
		p.FreePort("port")
		c := p.SpawnNamed("client", "sh", "-c", "echo dialing $0; exit 1", "127.0.0.1:{{port}}")
		c.Dir = dir
		c.Env = []string{"CLIENT_MODE=fast"}
		p.Wait(c, 0)
	}, proctest.JSONEvents(&js))
	for _, want := range []string{
		"processes (command lines as last started):\n\tclient (pid ",
		": sh -c 'echo dialing $0; exit 1' 127.0.0.1:",
		"; in " + dir + "; env PLANWIDE=1 CLIENT_MODE=fast\n",
		"variables:\n\tport=",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("report lacks %q:\n%v", want, err)
		}
	}
	var spawn, set bool
	for _, line := range strings.Split(strings.TrimSpace(js.String()), "\n") {
		var e proctest.Event
		if jerr := json.Unmarshal([]byte(line), &e); jerr != nil {
			t.Fatalf("bad JSON event %q: %v", line, jerr)
		}
		if e.Kind == proctest.EventSpawn && e.Proc == "client" {
			spawn = len(e.Args) == 4 && strings.HasPrefix(e.Args[3], "127.0.0.1:") && e.Dir == dir &&
				strings.Join(e.Env, " ") == "PLANWIDE=1 CLIENT_MODE=fast"
		}
	}
	for _, e := range asError[*proctest.PlanError](t, err).Events {
		set = set || e.Kind == proctest.EventVar && e.Var == "port" && e.Value != ""
	}
	if !spawn || !set {
		t.Errorf("events: spawn with args, dir and env %v; var event for port %v; want both:\n%s", spawn, set, js.String())
	}
	var pe *proctest.PlanError
	errors.As(err, &pe)
	page, _ := os.ReadFile(filepath.Join(pe.LogDir, "timeline.html"))
	if !bytes.Contains(page, []byte("; in "+dir+"; env PLANWIDE=1 CLIENT_MODE=fast")) {
		t.Errorf("the timeline page does not show the client's directory and environment")
	}
}

func TestCanceledPlanSaysWhy(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancelCause(context.Background())
	p := proctest.New(t.Name(), proctest.LogDir(t.TempDir()))
	s := p.Spawn("sleep", "60")
	stop := p.Go("stop", func(context.Context) error {
		cancel(errors.New("the build was abandoned"))
		return nil
	})
	p.WaitPar(stop.Exits(0), s.Exits(0))
	err := p.Execute(ctx)
	if err == nil || !strings.Contains(err.Error(), "wait-par stop sleep: interrupted: the build was abandoned") || !errors.Is(err, context.Canceled) {
		t.Errorf("Execute = %v, want the cause in words and errors.Is context.Canceled", err)
	}
}
