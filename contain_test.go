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

// TestSurvivesNothingAfterSIGKILL kills a program in the middle of a plan
// with SIGKILL and checks that none of the plan's processes outlive it:
// not a child, not one that ignores SIGTERM, not a setsid'd daemon.
func TestNothingSurvivesSIGKILL(t *testing.T) {
	t.Parallel()
	cmd := exec.Command("run-plan")
	cmd.Env = append(os.Environ(), "PROCTEST_LOGDIR="+t.TempDir())
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
			t.Fatalf("pid %d of %q is not running before the kill", pid, line)
		}
	}
	killed := time.Now()
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	for _, pid := range pids {
		for alive(pid) && time.Since(killed) < 10*time.Second {
			time.Sleep(5 * time.Millisecond)
		}
		if alive(pid) {
			t.Errorf("pid %d survived its plan's program by %v", pid, time.Since(killed))
		}
	}
	t.Logf("all of %v gone %v after the SIGKILL", pids, time.Since(killed).Round(time.Millisecond))
}
