package proctest_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/proctest/proctest"
)

// The reference framework's own self-tests, ported.

func TestTransientProcess(t *testing.T) {
	t.Parallel()
	proctest.Run(t, func(p *proctest.Plan) {
		echo := p.Spawn("echo", "hello world")
		p.Wait(echo, 0)
	})
}

func TestFalseExitsOne(t *testing.T) {
	t.Parallel()
	proctest.Run(t, func(p *proctest.Plan) {
		f := p.Spawn("false")
		p.Wait(f, 1)
	})
}

func TestTimeout(t *testing.T) {
	t.Parallel()
	var sleep *proctest.Proc
	err := execute(t, func(p *proctest.Plan) {
		sleep = p.Spawn("sleep", "60")
		p.Wait(sleep, 0).Timeout(100 * time.Millisecond)
	})
	te := asError[*proctest.TimeoutError](t, err)
	if te.Proc != "sleep" || te.Awaited != "exit 0" || te.Timeout != 100*time.Millisecond || te.Deadline {
		t.Errorf("TimeoutError = %+v, want sleep, exit 0, 100ms, not the deadline", te)
	}
	if alive(sleep.Pid()) {
		t.Errorf("timed-out process %d still alive", sleep.Pid())
	}
}

func TestKillImmediatelyAfterStart(t *testing.T) {
	t.Parallel()
	proctest.Run(t, func(p *proctest.Plan) {
		for i := 0; i < 50; i++ {
			s := p.Spawn("sleep", "60")
			p.Kill(s)
		}
	})
}

func TestKillDefaultStatus(t *testing.T) {
	t.Parallel()
	var events []proctest.Event
	proctest.Run(t, func(p *proctest.Plan) {
		s := p.Spawn("sleep", "60")
		p.Kill(s)
	}, proctest.OnEvent(func(e proctest.Event) { events = append(events, e) }))
	var got []string
	for _, e := range events {
		if e.Kind == proctest.EventExit {
			got = append(got, e.Status.String())
		}
	}
	if len(got) != 1 || got[0] != "signal SIGTERM" {
		t.Errorf("exits = %v, want [signal SIGTERM]", got)
	}
}

func TestUnexpectedExit(t *testing.T) {
	t.Parallel()
	err := execute(t, func(p *proctest.Plan) {
		p.Spawn("echo", "bye")
		s := p.Spawn("sleep", "60")
		p.Wait(s, 0)
	})
	ue := asError[*proctest.UnexpectedExitError](t, err)
	if ue.Proc != "echo" || ue.Status != (proctest.Status{}) {
		t.Errorf("UnexpectedExitError = %+v, want echo with exit 0", ue)
	}
}

func TestUnexpectedExitCode(t *testing.T) {
	t.Parallel()
	err := execute(t, func(p *proctest.Plan) {
		f := p.Spawn("false")
		p.Wait(f, 0)
	})
	ec := asError[*proctest.ExitCodeError](t, err)
	if ec.Proc != "false" || ec.Want != (proctest.Status{Code: 0}) || ec.Got != (proctest.Status{Code: 1}) || ec.Pid == 0 {
		t.Errorf("ExitCodeError = %+v, want false, want exit 0, got exit 1, with a pid", ec)
	}
}

func TestProcessesStillRunning(t *testing.T) {
	t.Parallel()
	var sleep *proctest.Proc
	err := execute(t, func(p *proctest.Plan) {
		tr := p.Spawn("true")
		p.Wait(tr, 0)
		sleep = p.Spawn("sleep", "60")
	})
	sr := asError[*proctest.StillRunningError](t, err)
	if len(sr.Procs) != 1 || sr.Procs[0].Name != "sleep" || sr.Procs[0].Pid != sleep.Pid() || sr.Procs[0].Stopped != "SIGTERM" ||
		sr.Procs[0].Command != "sleep 60" {
		t.Errorf("StillRunningError.Procs = %+v, want only sleep 60, stopped by SIGTERM", sr.Procs)
	}
	if alive(sleep.Pid()) {
		t.Errorf("sleep (pid %d) survived the plan", sleep.Pid())
	}
}

func TestParallelSpawnAndWait(t *testing.T) {
	t.Parallel()
	proctest.Run(t, func(p *proctest.Plan) {
		ps := p.SpawnPar([]string{"true"}, []string{"false"}, []string{"sh", "-c", "exit 7"})
		p.WaitPar(ps[0].Exits(0), ps[1].Exits(1), ps[2].Exits(7))
	})
}

func TestParallelStartAndKill(t *testing.T) {
	t.Parallel()
	proctest.Run(t, func(p *proctest.Plan) {
		ps := p.SpawnPar([]string{"sleep", "60"}, []string{"sleep", "61"}, []string{"sleep", "62"})
		for _, s := range ps {
			p.Kill(s)
		}
	})
}

// Semantics beyond the reference.

func TestWaitParOneTimeout(t *testing.T) {
	t.Parallel()
	var ps []*proctest.Proc
	err := execute(t, func(p *proctest.Plan) {
		ps = p.SpawnPar([]string{"sleep", "60"}, []string{"sleep", "61"}, []string{"sleep", "62"})
		p.WaitPar(ps[0].Exits(0), ps[1].Exits(0), ps[2].Exits(0)).Timeout(200 * time.Millisecond)
	})
	var pe *proctest.PlanError
	if !errors.As(err, &pe) {
		t.Fatalf("Execute = %v, want a PlanError", err)
	}
	n := 0
	for _, e := range pe.Errors {
		var te *proctest.TimeoutError
		if errors.As(e, &te) {
			n++
			if te.Timeout != 200*time.Millisecond {
				t.Errorf("timeout of %s = %v, want the step's one 200ms", te.Proc, te.Timeout)
			}
		}
	}
	if n != 3 {
		t.Errorf("%d timeouts, want 3:\n%v", n, err)
	}
	for _, s := range ps {
		if alive(s.Pid()) {
			t.Errorf("%s (pid %d) survived", s.Name(), s.Pid())
		}
	}
}

func TestUnexpectedExitDuringLongWait(t *testing.T) {
	t.Parallel()
	// The crash must fail the plan at once, not when the 20 s wait on
	// the server times out: the error says which, and what was awaited.
	err := execute(t, func(p *proctest.Plan) {
		server := p.Spawn("sleep", "60")
		p.Spawn("exit-after", "50", "3")
		p.Wait(server, 0).Timeout(20 * time.Second)
	})
	ue := asError[*proctest.UnexpectedExitError](t, err)
	if ue.Proc != "exit-after" || ue.Status != (proctest.Status{Code: 3}) || !strings.Contains(ue.Awaiting, "wait sleep") {
		t.Errorf("UnexpectedExitError = %+v, want exit-after, exit 3, while awaiting wait sleep", ue)
	}
	if !strings.Contains(err.Error(), "exiting with 3") {
		t.Errorf("report lacks the crashed process's stderr:\n%v", err)
	}
}

func TestExitBeforeItsWaitIsExpected(t *testing.T) {
	t.Parallel()
	// echo may well end before its wait starts, while sleep is spawned:
	// it is awaited by the next blocking step, so that is fine.
	proctest.Run(t, func(p *proctest.Plan) {
		for i := 0; i < 20; i++ {
			e := p.Spawn("echo", strconv.Itoa(i))
			s := p.Spawn("sleep", "60")
			p.Wait(e, 0)
			p.Kill(s)
		}
	})
}

func TestSleepStepSeesExits(t *testing.T) {
	t.Parallel()
	// An exit during a sleep is fine when a wait for it comes next, and
	// fails the plan at once, mid-sleep, when none does.
	proctest.Run(t, func(p *proctest.Plan) {
		e := p.Spawn("true")
		p.Sleep(50 * time.Millisecond)
		p.Wait(e, 0)
	})
	err := execute(t, func(p *proctest.Plan) {
		e := p.Spawn("exit-after", "30", "0")
		s := p.Spawn("sleep", "60")
		p.Sleep(time.Hour)
		p.Wait(s, 0) // comes before the wait for true: its exit is unexpected
		p.Wait(e, 0)
	})
	ue := asError[*proctest.UnexpectedExitError](t, err)
	if ue.Proc != "exit-after" || !strings.Contains(ue.Awaiting, "sleep 1h") {
		t.Errorf("UnexpectedExitError = %+v, want exit-after during sleep 1h", ue)
	}
}

func TestKillVariants(t *testing.T) {
	t.Parallel()
	proctest.Run(t, func(p *proctest.Plan) {
		g := p.Spawn("graceful")
		p.WaitStdout(g, "^ready$") // its handler is installed
		p.Kill(g, g.Exits(0))
		s := p.Spawn("sleep", "60")
		p.Kill(s, proctest.Using(syscall.SIGINT))
		st := p.Spawn("ignore-term")
		p.WaitStdout(st, "^ready$")
		p.Kill(st, proctest.Using(syscall.SIGKILL))
		s2 := p.Spawn("sleep", "60")
		p.Kill(s2, proctest.Using(syscall.SIGUSR1), s2.Dies(syscall.SIGUSR1))
	})
}

func TestKillExpectationMismatch(t *testing.T) {
	t.Parallel()
	err := execute(t, func(p *proctest.Plan) {
		s := p.Spawn("sleep", "60")
		p.Kill(s, s.Exits(0))
	})
	ec := asError[*proctest.ExitCodeError](t, err)
	if ec.Want != (proctest.Status{}) || ec.Got != (proctest.Status{Signal: syscall.SIGTERM}) {
		t.Errorf("ExitCodeError = %+v, want exit 0, got signal SIGTERM", ec)
	}
}

func TestKillIgnoredTimesOut(t *testing.T) {
	t.Parallel()
	var st *proctest.Proc
	err := execute(t, func(p *proctest.Plan) {
		st = p.Spawn("ignore-term")
		p.WaitStdout(st, "^ready$")
		p.Kill(st).Timeout(300 * time.Millisecond)
	})
	te := asError[*proctest.TimeoutError](t, err)
	if te.Proc != "ignore-term" || te.Awaited != "signal SIGTERM" {
		t.Errorf("TimeoutError = %+v, want ignore-term awaiting signal SIGTERM", te)
	}
	if alive(st.Pid()) {
		t.Errorf("ignore-term (pid %d) survived", st.Pid())
	}
	if !strings.Contains(err.Error(), "stopped by SIGKILL") {
		t.Errorf("report does not say SIGKILL ended it:\n%v", err)
	}
}

func TestGoStep(t *testing.T) {
	t.Parallel()
	proctest.Run(t, func(p *proctest.Plan) {
		ok := p.Go("ok", func(ctx context.Context) error { return nil })
		p.Wait(ok, 0)
		bad := p.Go("bad", func(ctx context.Context) error { return errors.New("broken") })
		p.Wait(bad, 1)
		boom := p.Go("boom", func(ctx context.Context) error { panic("kaboom") })
		p.Wait(boom, 2)
		loop := p.Go("loop", func(ctx context.Context) error {
			<-ctx.Done()
			return ctx.Err()
		})
		p.Kill(loop)
	})
}

func TestGoStepFailureReport(t *testing.T) {
	t.Parallel()
	err := execute(t, func(p *proctest.Plan) {
		bad := p.Go("checker", func(ctx context.Context) error {
			fmt.Fprintln(proctest.Stdout(ctx), "checked 3 keys")
			return errors.New("key k2: got v1, want v2")
		})
		boom := p.Go("boom", func(ctx context.Context) error { panic("kaboom") })
		p.WaitPar(bad.Exits(0), boom.Exits(2))
	})
	ec := asError[*proctest.ExitCodeError](t, err)
	if ec.Proc != "checker" || ec.Got.Code != 1 {
		t.Errorf("ExitCodeError = %+v, want checker exit 1", ec)
	}
	for _, want := range []string{"key k2: got v1, want v2", "checked 3 keys"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("report lacks %q:\n%v", want, err)
		}
	}
}

func TestGoStepPanicReport(t *testing.T) {
	t.Parallel()
	err := execute(t, func(p *proctest.Plan) {
		boom := p.Go("boom", func(ctx context.Context) error { panic("kaboom") })
		p.Wait(boom, 0)
	})
	asError[*proctest.ExitCodeError](t, err)
	if !strings.Contains(err.Error(), "panic: kaboom") {
		t.Errorf("report lacks the panic:\n%v", err)
	}
}

func TestLogs(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	var dir string
	proctest.Run(t, func(p *proctest.Plan) {
		a := p.Spawn("echo", "hello world")
		b := p.Spawn("/bin/echo", "second")
		c := p.Go("echo", func(ctx context.Context) error {
			fmt.Fprintln(proctest.Stdout(ctx), "from go")
			return nil
		})
		d := p.Spawn("sh", "-c", "echo to stderr >&2")
		p.WaitPar(a.Exits(0), b.Exits(0), c.Exits(0), d.Exits(0))
		if a.Name() != "echo" || b.Name() != "echo-1" || c.Name() != "echo-2" || d.Name() != "sh" {
			t.Errorf("names = %s %s %s %s, want echo echo-1 echo-2 sh", a.Name(), b.Name(), c.Name(), d.Name())
		}
	}, proctest.LogDir(root), proctest.KeepLogs(), logDirOf(&dir))
	if filepath.Dir(dir) != root {
		t.Fatalf("log directory %s is not under %s", dir, root)
	}
	st, err := os.Stat(dir)
	if err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("log directory mode = %v, %v, want 0700", st.Mode().Perm(), err)
	}
	want := map[string]string{
		"echo.stdout": "hello world\n", "echo-1.stdout": "second\n", "echo-2.stdout": "from go\n",
		"sh.stderr": "to stderr\n", "sh.stdout": "", "echo.stderr": "",
	}
	for name, content := range want {
		path := filepath.Join(dir, name)
		b, err := os.ReadFile(path)
		if err != nil || string(b) != content {
			t.Errorf("ReadFile(%s) = %q, %v, want %q", name, b, err, content)
		}
		if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("mode of %s = %v, want 0600", name, st.Mode().Perm())
		}
	}
	if _, err := os.Stat("/bin/echo.stdout"); err == nil {
		t.Errorf("a log was written next to /bin/echo")
	}
}

func TestLogsDeletedOnSuccessKeptOnFailure(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	proctest.Run(t, func(p *proctest.Plan) { p.Wait(p.Spawn("true"), 0) }, proctest.LogDir(root))
	if ents, _ := os.ReadDir(root); len(ents) != 0 {
		t.Errorf("log root holds %d entries after a successful plan, want 0", len(ents))
	}
	p := proctest.New("failing", proctest.LogDir(root))
	p.Wait(p.Spawn("false"), 0)
	err := p.Execute(context.Background())
	var pe *proctest.PlanError
	if !errors.As(err, &pe) || pe.LogDir == "" {
		t.Fatalf("Execute = %v, want a PlanError with a log directory", err)
	}
	if _, err := os.Stat(filepath.Join(pe.LogDir, "false.stderr")); err != nil {
		t.Errorf("log not kept: %v", err)
	}
	if !strings.Contains(err.Error(), "logs kept in "+pe.LogDir) {
		t.Errorf("report does not name the kept logs:\n%v", err)
	}
}

func TestLogsWrittenAsProduced(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	var dir string
	proctest.Run(t, func(p *proctest.Plan) {
		sh := p.Spawn("sh", "-c", "echo early; exec sleep 60")
		reader := p.Go("reader", func(ctx context.Context) error {
			for {
				b, _ := os.ReadFile(filepath.Join(dir, "sh.stdout"))
				if string(b) == "early\n" {
					return nil
				}
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-time.After(time.Millisecond):
				}
			}
		})
		p.Wait(reader, 0)
		p.Kill(sh)
	}, proctest.LogDir(root), logDirOf(&dir))
}

func TestChildSettings(t *testing.T) {
	t.Parallel()
	work := t.TempDir()
	root := t.TempDir()
	var dir string
	proctest.Run(t, func(p *proctest.Plan) {
		p.Env = []string{"A=plan", "B=plan"}
		env := p.Spawn("sh", "-c", `echo "$A $B"`)
		env.Env = []string{"B=proc"}
		pwd := p.Spawn("pwd")
		pwd.Dir = work
		cat := p.Spawn("cat") // reads the null device: ends at once
		in := p.Spawn("cat")
		in.Stdin = strings.NewReader("given input\n")
		p.WaitPar(env.Exits(0), pwd.Exits(0), cat.Exits(0), in.Exits(0))
	}, proctest.LogDir(root), proctest.KeepLogs(), logDirOf(&dir))
	for name, want := range map[string]string{
		"sh.stdout": "plan proc\n", "pwd.stdout": work + "\n", "cat.stdout": "", "cat-1.stdout": "given input\n",
	} {
		if b, err := os.ReadFile(filepath.Join(dir, name)); err != nil || string(b) != want {
			t.Errorf("ReadFile(%s) = %q, %v, want %q", name, b, err, want)
		}
	}
}

func TestValidation(t *testing.T) {
	t.Parallel()
	notExec := filepath.Join(t.TempDir(), "script")
	os.WriteFile(notExec, []byte("#!/bin/sh\n"), 0o644)
	marker := filepath.Join(t.TempDir(), "marker")
	other := proctest.New("other")
	foreign := other.Spawn("true")

	tests := []struct {
		name  string
		build func(p *proctest.Plan) int // returns the line of the bad step
		check func(t *testing.T, err error)
	}{
		{"unknown command", func(p *proctest.Plan) int {
			p.Wait(p.Spawn("no-such-command-xyz"), 0)
			_, _, line, _ := runtime.Caller(0)
			return line - 1
		}, func(t *testing.T, err error) {
			e := asError[*proctest.CommandNotFoundError](t, err)
			if !errors.Is(err, exec.ErrNotFound) || e.Command != "no-such-command-xyz" {
				t.Errorf("CommandNotFoundError = %+v, errors.Is ErrNotFound = %v", e, errors.Is(err, exec.ErrNotFound))
			}
		}},
		{"directory", func(p *proctest.Plan) int {
			p.Wait(p.Spawn(os.TempDir()), 0)
			_, _, line, _ := runtime.Caller(0)
			return line - 1
		}, func(t *testing.T, err error) { asError[*proctest.CommandNotFoundError](t, err) }},
		{"not executable", func(p *proctest.Plan) int {
			p.Wait(p.Spawn(notExec), 0)
			_, _, line, _ := runtime.Caller(0)
			return line - 1
		}, func(t *testing.T, err error) {
			asError[*proctest.CommandNotFoundError](t, err)
			if !strings.Contains(err.Error(), "not an executable file") {
				t.Errorf("error does not say why: %v", err)
			}
		}},
		{"foreign process", func(p *proctest.Plan) int {
			p.Wait(foreign, 0)
			_, _, line, _ := runtime.Caller(0)
			return line - 1
		}, wantBuildError(`true belongs to plan "other"`)},
		{"second wait", func(p *proctest.Plan) int {
			e := p.Spawn("true")
			p.Wait(e, 0)
			p.Wait(e, 0)
			_, _, line, _ := runtime.Caller(0)
			return line - 1
		}, wantBuildError("true already ended: wait true at plan_test.go:")},
		{"kill after wait", func(p *proctest.Plan) int {
			e := p.Spawn("true")
			p.Wait(e, 0)
			p.Kill(e)
			_, _, line, _ := runtime.Caller(0)
			return line - 1
		}, wantBuildError("true already ended")},
		{"nil process", func(p *proctest.Plan) int {
			p.Wait(nil, 0)
			_, _, line, _ := runtime.Caller(0)
			return line - 1
		}, wantBuildError("nil process")},
		{"twice in one wait", func(p *proctest.Plan) int {
			e := p.Spawn("true")
			p.WaitPar(e.Exits(0), e.Exits(0))
			_, _, line, _ := runtime.Caller(0)
			return line - 1
		}, wantBuildError("waited for twice in one step")},
		{"bad timeout", func(p *proctest.Plan) int {
			p.Wait(p.Spawn("true"), 0).Timeout(-time.Second)
			_, _, line, _ := runtime.Caller(0)
			return line - 1
		}, wantBuildError("timeout must be positive")},
		{"empty command", func(p *proctest.Plan) int {
			p.SpawnPar([]string{})
			_, _, line, _ := runtime.Caller(0)
			return line - 1
		}, wantBuildError("empty command")},
		{"NUL in argument", func(p *proctest.Plan) int {
			p.Wait(p.Spawn("echo", "a\x00b"), 0)
			_, _, line, _ := runtime.Caller(0)
			return line - 1
		}, wantBuildError("contains a NUL byte")},
		{"invalid signal", func(p *proctest.Plan) int {
			s := p.Spawn("sleep", "1")
			p.Signal(s, syscall.Signal(99))
			_, _, line, _ := runtime.Caller(0)
			p.Wait(s, 0)
			return line - 1
		}, wantBuildError("invalid signal 99")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			p := proctest.New(tt.name, proctest.LogDir(root))
			p.Spawn("touch", marker) // must never run
			line := tt.build(p)
			err := p.Execute(context.Background())
			tt.check(t, err)
			if where := fmt.Sprintf("plan_test.go:%d", line); !strings.Contains(err.Error(), where) {
				t.Errorf("error does not name %s:\n%v", where, err)
			}
			if _, err := os.Stat(marker); err == nil {
				t.Errorf("an invalid plan ran a process")
			}
			if ents, _ := os.ReadDir(root); len(ents) != 0 {
				t.Errorf("an invalid plan left %d entries in its log root", len(ents))
			}
		})
	}
}

// wantBuildError checks for a BuildError whose text holds want.
func wantBuildError(want string) func(t *testing.T, err error) {
	return func(t *testing.T, err error) {
		t.Helper()
		be := asError[*proctest.BuildError](t, err)
		if !strings.Contains(be.Error(), want) {
			t.Errorf("BuildError = %q, want it to say %q", be, want)
		}
	}
}

func TestExecuteTwice(t *testing.T) {
	t.Parallel()
	p := proctest.New("twice", proctest.LogDir(t.TempDir()))
	p.Wait(p.Spawn("true"), 0)
	if err := p.Execute(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := p.Execute(context.Background()); err == nil || !strings.Contains(err.Error(), "executed twice") {
		t.Errorf("second Execute = %v, want an error saying so", err)
	}
}

// fakeT is a TB with a deadline, to see how Run meets it.
type fakeT struct {
	deadline time.Time
	failed   string
}

func (f *fakeT) Helper()                           {}
func (f *fakeT) Name() string                      { return "fake" }
func (f *fakeT) Fatal(args ...any)                 { f.failed = fmt.Sprint(args...) }
func (f *fakeT) Logf(format string, args ...any)   {}
func (f *fakeT) Deadline() (time.Time, bool)       { return f.deadline, true }
func (f *fakeT) Errorf(format string, args ...any) {}

func TestDeadline(t *testing.T) {
	t.Parallel()
	ft := &fakeT{deadline: time.Now().Add(3 * time.Second)}
	var sleep *proctest.Proc
	proctest.Run(ft, func(p *proctest.Plan) {
		sleep = p.Spawn("sleep", "60")
		p.Wait(sleep, 0) // the default 20s would outlive the deadline
	}, proctest.LogDir(t.TempDir()))
	if !strings.Contains(ft.failed, "the test's deadline came") {
		t.Fatalf("Run reported %q, want a timeout at the deadline", ft.failed)
	}
	if time.Now().After(ft.deadline) {
		t.Errorf("Run returned after the test's deadline")
	}
	if alive(sleep.Pid()) {
		t.Errorf("sleep (pid %d) survived", sleep.Pid())
	}
}

func TestFailureReport(t *testing.T) {
	t.Parallel()
	var line int
	err := execute(t, func(p *proctest.Plan) {
		server := p.Spawn("sleep", "60")
		client := p.Spawn("chatty", "30", "4")
		p.Wait(client, 0)
		_, _, line, _ = runtime.Caller(0)
		p.Kill(server)
	})
	report := err.Error()
	for _, want := range []string{
		"proctest: plan TestFailureReport failed",
		fmt.Sprintf("plan_test.go:%d: wait chatty: chatty (pid ", line-1),
		"want exit 0, got exit 4",
		"chatty (pid", "stderr, last 20 lines:", "| err line 30", "| out line 11",
		"logs kept in ",
		"timeline:", "spawn sleep pid", "exit chatty pid", "exit 4",
		"stop sleep", "stopped by SIGTERM",
	} {
		if !strings.Contains(report, want) {
			t.Errorf("report lacks %q:\n%s", want, report)
		}
	}
	if strings.Contains(report, "| out line 10\n") {
		t.Errorf("report shows more than the last 20 lines:\n%s", report)
	}
}

func TestManyPlansInParallel(t *testing.T) {
	t.Parallel()
	for i := 0; i < 8; i++ {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			proctest.Run(t, func(p *proctest.Plan) {
				srv := p.Spawn("sleep", "60")
				for j := 0; j < 10; j++ {
					c := p.Spawn("sh", "-c", fmt.Sprintf("exit %d", j))
					p.Wait(c, j)
				}
				p.Kill(srv)
			}, proctest.LogDir(t.TempDir()))
		})
	}
}
