package proctest_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/proctest/proctest"
)

func TestDescendantInGroupLeftBehind(t *testing.T) {
	t.Parallel()
	var sh *proctest.Proc
	err := execute(t, func(p *proctest.Plan) {
		sh = p.Spawn("sh", "-c", "sleep 60 & echo $!")
		p.Wait(sh, 0)
	})
	sr := asError[*proctest.StillRunningError](t, err)
	if len(sr.Procs) != 1 || !sr.Procs[0].Descendant || sr.Procs[0].Name != "sh" || !strings.Contains(sr.Procs[0].Command, "sleep 60") {
		t.Fatalf("StillRunningError.Procs = %+v, want the sleep left behind by sh", sr.Procs)
	}
	if alive(sr.Procs[0].Pid) {
		t.Errorf("descendant %d survived the plan", sr.Procs[0].Pid)
	}
}

func TestSetsidDaemonLeftBehind(t *testing.T) {
	t.Parallel()
	err := execute(t, func(p *proctest.Plan) {
		d := p.Spawn("daemon")
		p.Wait(d, 0)
	})
	sr := asError[*proctest.StillRunningError](t, err)
	if len(sr.Procs) != 1 || !sr.Procs[0].Descendant || sr.Procs[0].Name != "daemon" {
		t.Fatalf("StillRunningError.Procs = %+v, want the daemon's sleep", sr.Procs)
	}
	if alive(sr.Procs[0].Pid) {
		t.Errorf("daemon %d survived the plan", sr.Procs[0].Pid)
	}
}

func TestAllowDaemons(t *testing.T) {
	t.Parallel()
	var pid int
	proctest.Run(t, func(p *proctest.Plan) {
		d := p.Spawn("daemon")
		p.WaitStdout(d, `^(?P<pid>\d+)$`)
		p.Wait(d, 0)
		check := p.Go("check", func(ctx context.Context) error {
			pid, _ = strconv.Atoi(p.Var("pid").Value())
			if !alive(pid) {
				return fmt.Errorf("daemon %d is not running", pid)
			}
			return nil
		})
		p.Wait(check, 0)
	}, proctest.AllowDaemons(), proctest.LogDir(t.TempDir()))
	if pid == 0 || alive(pid) {
		t.Errorf("daemon pid %d: not seen, or survived the plan", pid)
	}
}

// TestNothingSurvivesTheRunner kills a program in the middle of a plan and
// checks that none of the plan's processes outlive it: not a child, not one
// that ignores SIGTERM, not a setsid'd daemon. With SIGKILL the program has
// no say; with SIGINT and SIGTERM it stops its plans cleanly, says where
// their logs are, and dies of the signal.
func TestNothingSurvivesTheRunner(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGKILL, syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			t.Parallel()
			logs := t.TempDir()
			cmd := exec.Command("run-plan")
			cmd.Env = append(os.Environ(), "PROCTEST_LOGDIR="+logs)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			line, err := bufio.NewReader(out).ReadString('\n')
			if err != nil {
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatalf("run-plan printed %q, %v", line, err)
			}
			var pids []int
			for _, f := range strings.Fields(line)[1:] {
				pid, _ := strconv.Atoi(f)
				pids = append(pids, pid)
			}
			for _, pid := range pids {
				if !alive(pid) {
					t.Fatalf("pid %d of %q is not running before the signal", pid, line)
				}
			}
			sent := time.Now()
			cmd.Process.Signal(sig)
			cmd.Wait()
			for _, pid := range pids {
				for alive(pid) && time.Since(sent) < 10*time.Second {
					time.Sleep(5 * time.Millisecond)
				}
				if alive(pid) {
					t.Errorf("pid %d survived its plan's program by %v", pid, time.Since(sent))
				}
			}
			t.Logf("all of %v gone %v after %v", pids, time.Since(sent).Round(time.Millisecond), sig)
			ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
			if !ws.Signaled() || ws.Signal() != sig {
				t.Errorf("run-plan ended with %v, want death by %v", cmd.ProcessState, sig)
			}
			if sig == syscall.SIGKILL {
				return
			}
			for _, want := range []string{"interrupted: the program running the plan received " + map[syscall.Signal]string{syscall.SIGINT: "SIGINT (Ctrl-C)", syscall.SIGTERM: "SIGTERM"}[sig], "logs kept in " + logs} {
				if !strings.Contains(stderr.String(), want) {
					t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
				}
			}
		})
	}
}

// TestGoTestTimeout runs a test whose plan would outlive go test -timeout,
// and checks that the plan's report, with the process's output, is printed
// before the test binary is ended, rather than go test's panic.
func TestGoTestTimeout(t *testing.T) {
	t.Parallel()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHangingPlanHelper$", "-test.timeout=4s", "-test.v")
	cmd.Env = append(os.Environ(), "PROCTEST_HANGING_PLAN=1", "PROCTEST_LOGDIR="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("the hanging test passed:\n%s", out)
	}
	for _, want := range []string{"the test's deadline came", "| about to hang", "--- FAIL: TestHangingPlanHelper"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(string(out), "panic: test timed out") {
		t.Errorf("go test's timeout struck before the plan's report:\n%s", out)
	}
}

// TestHangingPlanHelper is run by TestGoTestTimeout, in a test binary of its
// own with a short -test.timeout.
func TestHangingPlanHelper(t *testing.T) {
	if os.Getenv("PROCTEST_HANGING_PLAN") != "1" {
		t.Skip("run by TestGoTestTimeout")
	}
	proctest.Run(t, func(p *proctest.Plan) {
		s := p.Spawn("sh", "-c", "echo about to hang; exec sleep 60")
		p.Wait(s, 0) // the default 20s timeout would outlive -test.timeout
	})
}
