package proctest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/proctest/proctest"
)

func TestServerPrintsItsPort(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	var dir string
	proctest.Run(t, func(p *proctest.Plan) {
		srv := p.Spawn("listen", "127.0.0.1:0")
		p.WaitStdout(srv, `^listening on (?P<addr>\S+)$`)
		get := p.Spawn("get", "http://{{addr}}/hello")
		p.Wait(get, 0)
		p.ExpectStdout(get, `^ok /hello\n$`)
		p.Kill(srv, srv.Exits(0))
	}, proctest.LogDir(root), proctest.KeepLogs(), logDirOf(&dir))
	b, _ := os.ReadFile(filepath.Join(dir, "listen.stdout"))
	if !strings.HasPrefix(string(b), "listening on 127.0.0.1:") {
		t.Errorf("the watched output did not reach the log in full: %q", b)
	}
}

// logDirOf is an option that stores the plan's log directory in dir.
func logDirOf(dir *string) proctest.Option {
	return proctest.OnEvent(func(e proctest.Event) {
		if e.Kind == proctest.EventPlanStart {
			*dir = strings.TrimPrefix(e.Detail, "logs in ")
		}
	})
}

func TestFreePortAndPolledWaits(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "flag")
	proctest.Run(t, func(p *proctest.Plan) {
		port := p.FreePort("port")
		srv := p.Spawn("listen", "127.0.0.1:"+port.String())
		p.WaitPort(srv, "127.0.0.1:{{port}}")
		p.WaitHTTP(srv, "http://127.0.0.1:{{port}}/healthz", 200)
		touch := p.Spawn("sh", "-c", "sleep 0.05; touch "+file)
		p.WaitFile(touch, file)
		p.Wait(touch, 0)
		calls := 0
		p.WaitFunc(srv, "third call", func(ctx context.Context) error {
			if calls++; calls < 3 {
				return fmt.Errorf("call %d", calls)
			}
			return nil
		})
		p.Kill(srv, srv.Exits(0))
	}, proctest.LogDir(t.TempDir()))
}

func TestDiesBeforeReady(t *testing.T) {
	t.Parallel()
	err := execute(t, func(p *proctest.Plan) {
		srv := p.Spawn("exit-after", "20", "3")
		p.WaitStdout(srv, "never printed").Timeout(time.Minute)
		p.Wait(srv, 0)
	})
	ue := asError[*proctest.UnexpectedExitError](t, err)
	if ue.Proc != "exit-after" || ue.Status.Code != 3 || !strings.Contains(ue.Awaiting, "which it never was") {
		t.Errorf("UnexpectedExitError = %+v, want exit-after exit 3 before it was ready", ue)
	}
	// The same for a polled wait.
	err = execute(t, func(p *proctest.Plan) {
		port := p.FreePort("port") // nobody listens on it
		srv := p.Spawn("exit-after", "20", "4")
		p.WaitPort(srv, "127.0.0.1:"+port.String()).Timeout(time.Minute)
		p.Wait(srv, 0)
	})
	if ue := asError[*proctest.UnexpectedExitError](t, err); ue.Status.Code != 4 {
		t.Errorf("UnexpectedExitError = %+v, want exit 4", ue)
	}
}

func TestReadyThenExitIsFine(t *testing.T) {
	t.Parallel()
	// The line and the exit come together: the match must win.
	proctest.Run(t, func(p *proctest.Plan) {
		for i := 0; i < 20; i++ {
			e := p.Spawn("echo", "done")
			p.WaitStdout(e, "^done$")
			p.Wait(e, 0)
		}
	})
}

func TestReadinessTimeoutSaysWhatItSaw(t *testing.T) {
	t.Parallel()
	err := execute(t, func(p *proctest.Plan) {
		port := p.FreePort("port")
		s := p.Spawn("sleep", "60")
		p.WaitPort(s, "127.0.0.1:"+port.String()).Timeout(200 * time.Millisecond)
		p.Kill(s)
	})
	te := asError[*proctest.TimeoutError](t, err)
	if te.Proc != "sleep" || !strings.Contains(te.Awaited, "connection refused") {
		t.Errorf("TimeoutError = %+v, want sleep and the last connection error", te)
	}
}

func TestNthMatch(t *testing.T) {
	t.Parallel()
	proctest.Run(t, func(p *proctest.Plan) {
		c := p.Spawn("sh", "-c", "for i in 1 2 3 4 5; do echo tick $i; done; sleep 60")
		p.WaitStdout(c, `^tick (?P<n>\d)$`).Nth(4)
		check := p.Go("check", func(ctx context.Context) error {
			if v := p.Var("n").Value(); v != "4" {
				return fmt.Errorf("n = %q, want 4", v)
			}
			return nil
		})
		p.Wait(check, 0)
		p.Kill(c)
	})
}

func TestWatchedFloodLosesNothing(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	var dir string
	const size = 64 << 20
	proctest.Run(t, func(p *proctest.Plan) {
		c := p.Spawn("sh", "-c", fmt.Sprintf("head -c %d /dev/zero | tr '\\0' 'x'; echo; echo marker", size))
		p.WaitStdout(c, "^marker$")
		p.Wait(c, 0)
	}, proctest.LogDir(root), proctest.KeepLogs(), logDirOf(&dir))
	st, err := os.Stat(filepath.Join(dir, "sh.stdout"))
	if err != nil || st.Size() != int64(size+len("\nmarker\n")) {
		t.Errorf("log size = %v, %v, want %d", st.Size(), err, size+len("\nmarker\n"))
	}
}

func TestPausedAtEndIsResumedAndStopped(t *testing.T) {
	t.Parallel()
	var s *proctest.Proc
	err := execute(t, func(p *proctest.Plan) {
		s = p.Spawn("sleep", "60")
		p.Pause(s)
	})
	sr := asError[*proctest.StillRunningError](t, err)
	if len(sr.Procs) != 1 || sr.Procs[0].Stopped != "SIGTERM" {
		t.Errorf("StillRunningError.Procs = %+v, want sleep stopped by SIGTERM", sr.Procs)
	}
	if alive(s.Pid()) {
		t.Errorf("paused sleep %d survived", s.Pid())
	}
}

func TestPauseResumeKill(t *testing.T) {
	t.Parallel()
	proctest.Run(t, func(p *proctest.Plan) {
		s := p.Spawn("sleep", "60")
		p.Pause(s)
		p.Resume(s)
		p.Pause(s)
		p.Kill(s) // resumed so that SIGTERM acts
	})
}

func TestRestart(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	var dir string
	var pids []int
	proctest.Run(t, func(p *proctest.Plan) {
		srv := p.Spawn("listen", "127.0.0.1:0")
		p.WaitStdout(srv, "listening")
		p.Kill(srv, srv.Exits(0))
		p.Restart(srv)
		p.WaitStdout(srv, "listening") // of the new run
		p.Kill(srv, proctest.Using(syscall.SIGKILL))
		p.Restart(srv)
		p.WaitStdout(srv, "listening")
		p.Kill(srv, srv.Exits(0))
	}, proctest.LogDir(root), proctest.KeepLogs(), logDirOf(&dir), proctest.OnEvent(func(e proctest.Event) {
		if e.Kind == proctest.EventSpawn {
			pids = append(pids, e.Pid)
		}
	}))
	if len(pids) != 3 || pids[0] == pids[1] || pids[1] == pids[2] {
		t.Errorf("spawn pids = %v, want three different", pids)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "listen.stdout"))
	if n := strings.Count(string(b), "listening on"); n != 3 {
		t.Errorf("log has %d listening lines, want 3:\n%s", n, b)
	}
	if n := strings.Count(string(b), "--- proctest: restart"); n != 2 {
		t.Errorf("log has %d restart markers, want 2:\n%s", n, b)
	}
}

func TestRestartValidation(t *testing.T) {
	t.Parallel()
	err := execute(t, func(p *proctest.Plan) {
		s := p.Spawn("sleep", "60")
		p.Restart(s)
		p.Kill(s)
	})
	be := asError[*proctest.BuildError](t, err)
	if !strings.Contains(be.Error(), "only an ended process can be restarted") {
		t.Errorf("BuildError = %v", be)
	}
}

func TestExpectOutput(t *testing.T) {
	t.Parallel()
	golden := filepath.Join(t.TempDir(), "golden.txt")
	os.WriteFile(golden, []byte("one\ntwo\nthree\n"), 0o644)
	proctest.Run(t, func(p *proctest.Plan) {
		c := p.Spawn("printf", `one\ntwo\nthree\n`)
		p.Wait(c, 0)
		p.ExpectStdout(c, `(?m)^two$`)
		p.ExpectStderr(c, `^$`)
		p.ExpectStdoutFile(c, golden)
	})
	err := execute(t, func(p *proctest.Plan) {
		c := p.Spawn("printf", `one\n2\nthree\n`)
		p.Wait(c, 0)
		p.ExpectStdoutFile(c, golden)
	})
	oe := asError[*proctest.OutputError](t, err)
	if want := " one\n-two\n+2\n three\n"; oe.Diff != want {
		t.Errorf("diff = %q, want %q", oe.Diff, want)
	}
	var pe *proctest.PlanError
	if !errors.As(err, &pe) || !strings.Contains(pe.Error(), "-two") {
		t.Errorf("report lacks the diff:\n%v", err)
	}
}

func TestExpectOutputBeforeEndIsAnError(t *testing.T) {
	t.Parallel()
	err := execute(t, func(p *proctest.Plan) {
		s := p.Spawn("sleep", "60")
		p.ExpectStdout(s, "x")
		p.Kill(s)
	})
	be := asError[*proctest.BuildError](t, err)
	if !strings.Contains(be.Error(), "still running") {
		t.Errorf("BuildError = %v", be)
	}
}

func TestUnknownVariable(t *testing.T) {
	t.Parallel()
	err := execute(t, func(p *proctest.Plan) {
		e := p.Spawn("echo", "{{nope}}", "{{.Left}}")
		p.Wait(e, 0)
	})
	be := asError[*proctest.BuildError](t, err)
	if !strings.Contains(be.Error(), "{{nope}}: no earlier step sets variable nope") {
		t.Errorf("BuildError = %v", be)
	}
}

func TestSetupHookAndJSONEvents(t *testing.T) {
	t.Parallel()
	var events strings.Builder
	proctest.Run(t, func(p *proctest.Plan) {
		sh := p.Spawn("sh", "-c", "exit $CODE")
		sh.Setup = func(cmd *exec.Cmd) { cmd.Env = append(cmd.Env, "CODE=5") }
		p.Wait(sh, 5)
	}, proctest.JSONEvents(&events))
	lines := strings.Split(strings.TrimSpace(events.String()), "\n")
	var exit map[string]any
	for _, l := range lines {
		var e map[string]any
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("event %q is not JSON: %v", l, err)
		}
		if e["event"] == "exit" {
			exit = e
		}
	}
	if exit == nil || exit["proc"] != "sh" || fmt.Sprint(exit["status"]) != "map[code:5]" {
		t.Errorf("exit event = %v, want sh with code 5; all:\n%s", exit, events.String())
	}
}

// TestGoldenUpdate rewrites a golden file with PROCTEST_UPDATE=1. It sets
// an environment variable, so it does not run in parallel.
func TestGoldenUpdate(t *testing.T) {
	golden := filepath.Join(t.TempDir(), "out.golden")
	os.WriteFile(golden, []byte("old\n"), 0o644)
	t.Setenv("PROCTEST_UPDATE", "1")
	proctest.Run(t, func(p *proctest.Plan) {
		e := p.Spawn("echo", "new")
		p.Wait(e, 0)
		p.ExpectStdoutFile(e, golden)
	})
	if b, _ := os.ReadFile(golden); string(b) != "new\n" {
		t.Errorf("golden file = %q after an update, want %q", b, "new\n")
	}
}

// TestFreePortNotEphemeral: a free port is below the kernel's ephemeral
// range, so that a server of the plan that binds port 0 (the kv
// example's leader does) can never be handed it. 1,000 binds of port 0
// held at once, in each of 5 plans of 3 free ports, never get one.
func TestFreePortNotEphemeral(t *testing.T) {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		t.Skip("no ephemeral range to read:", err)
	}
	var lo int
	fmt.Sscan(string(b), &lo)
	for range 5 {
		p := proctest.New("free-ports", proctest.LogDir(t.TempDir()))
		vars := []*proctest.Var{p.FreePort("a"), p.FreePort("b"), p.FreePort("c")}
		p.Wait(p.Go("bind-zero", func(ctx context.Context) error {
			free := map[string]bool{}
			for _, v := range vars {
				port := v.Value()
				free[port] = true
				if n, _ := strconv.Atoi(port); n >= lo || n < 1024 {
					return fmt.Errorf("free port %s: in the ephemeral range from %d, or privileged", port, lo)
				}
			}
			for range 1000 {
				l, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					return err
				}
				defer l.Close()
				if _, port, _ := net.SplitHostPort(l.Addr().String()); free[port] {
					return fmt.Errorf("a bind of port 0 got free port %s", port)
				}
			}
			return nil
		}), 0)
		if err := p.Execute(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}
