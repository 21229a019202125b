package proctest_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/proctest/proctest"
	"golang.org/x/sys/unix"
)

// Hostile programs and unlucky moments: output that would drive the
// terminal, pipes held by what the plan cannot reach, signals at the end
// of a plan, Go steps that end by runtime.Goexit, and backends that never
// report an end. Nothing may make a plan lie or hang.

// guard bounds how long a test waits for what should end, so that a hang
// fails the test instead of stopping the suite. It is not a measure of
// speed: what is waited for ends in a fraction of it.
const guard = time.Minute

// terminalSafe returns what in s a terminal would act on, described, or
// "" if there is nothing: control characters other than newline and tab,
// invalid UTF-8, C1 controls.
func terminalSafe(s string) string {
	for i, r := range s {
		switch {
		case r == utf8.RuneError:
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				return fmt.Sprintf("invalid UTF-8 at byte %d", i)
			}
		case r < 0x20 && r != '\n' && r != '\t', r == 0x7f, r >= 0x80 && r <= 0x9f:
			return fmt.Sprintf("control character %U at byte %d", r, i)
		}
	}
	return ""
}

// A program's output, and a leftover's command line, reach the report as
// visible escapes: no raw ESC, CR, C1 control or invalid UTF-8, so that no
// program can clear the screen or paint a fake --- PASS line.
func TestReportEscapesOutput(t *testing.T) {
	t.Parallel()
	err := execute(t, func(p *proctest.Plan) {
		// A leftover whose command line clears the screen and returns
		// to the start of the line.
		d := p.Spawn("sh", "-c", `sh -c 'echo started; sleep 60; :' "$(printf '\033[2J\r--- PASS: TestEvil')" & exit 0`)
		p.WaitStdout(d, "^started$")
		p.Wait(d, 0)
		evil := p.Spawn("sh", "-c", `printf '\033[2J\033]0;owned\007--- PASS: TestEvil (0.00s)\r\n\377\376 \302\233 31m\n' >&2; exit 1`)
		p.Wait(evil, 0)
	})
	asError[*proctest.ExitCodeError](t, err)
	report := err.Error()
	if bad := terminalSafe(report); bad != "" {
		t.Errorf("the report holds %s:\n%q", bad, report)
	}
	for _, want := range []string{`\x1b[2J\x1b]0;owned\a--- PASS: TestEvil (0.00s)\r`, `\xff\xfe \u009b 31m`, `left behind: sh -c echo started; sleep 60; : \x1b[2J\r--- PASS: TestEvil`} {
		if !strings.Contains(report, want) {
			t.Errorf("the report does not show %s:\n%s", want, report)
		}
	}
}

// The report shows the end of a log even when its last 16 KiB hold no
// newline (one long line, or an endless one), cut with a marker, instead
// of calling it empty.
func TestReportTailOfEndlessLine(t *testing.T) {
	t.Parallel()
	for _, n := range []int{50 << 10, 4 << 20} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			t.Parallel()
			err := execute(t, func(p *proctest.Plan) {
				w := p.Spawn("sh", "-c", fmt.Sprintf(`head -c %d /dev/zero | tr '\0' x; printf END; exit 1`, n))
				p.Wait(w, 0)
			})
			asError[*proctest.ExitCodeError](t, err)
			text := err.Error()
			if strings.Contains(text, "stdout: empty") {
				t.Errorf("the report calls a stdout of %d bytes empty:\n%s", n+3, text)
			}
			if !strings.Contains(text, "stdout, last line:\n\t| [...] xxxx") || !strings.Contains(text, "xxxxEND\n") {
				t.Errorf("the report does not show the end of the line, marked as cut:\n%s", text)
			}
		})
	}
}

// A process outside the plan holding a watched stdout open (here the test
// itself, given a copy of the pipe) does not make the end of the plan
// wait for it without limit: after the stop grace, the plan stops the
// copy and says so.
func TestHeldPipeDoesNotHang(t *testing.T) {
	t.Parallel()
	var held *os.File
	defer func() {
		if held != nil {
			held.Close()
		}
	}()
	p := proctest.New(t.Name(), proctest.LogDir(t.TempDir()), proctest.StopGrace(100*time.Millisecond))
	w := p.Spawn("sh", "-c", "echo ready; exit 0")
	w.Setup = func(c *exec.Cmd) {
		fd, err := unix.FcntlInt(c.Stdout.(*os.File).Fd(), unix.F_DUPFD_CLOEXEC, 0)
		if err != nil {
			panic(err)
		}
		held = os.NewFile(uintptr(fd), "held stdout")
	}
	p.WaitStdout(w, "^ready$")
	p.Wait(w, 0)
	err := executeWithin(t, p)
	if err == nil || !strings.Contains(err.Error(), "sh.stdout: its pipe was still open") ||
		!strings.Contains(err.Error(), "held by a process outside the plan") {
		t.Errorf("Execute = %v, want it to say that the stdout of sh was held open", err)
	}
}

// executeWithin executes p and returns its error, failing the test if it
// does not return within the guard.
func executeWithin(t *testing.T, p *proctest.Plan) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- p.Execute(context.Background()) }()
	select {
	case err := <-done:
		return err
	case <-time.After(guard):
		t.Fatalf("Execute did not return within %v", guard)
		return nil
	}
}

// A process whose stdin is a reader, not a file, is seen to end when it
// ends, even while a child of it holds stdin open and reads nothing: the
// copy to its stdin is not part of its life.
func TestStdinReaderHeldByChild(t *testing.T) {
	t.Parallel()
	err := execute(t, func(p *proctest.Plan) {
		p.SetTimeout(10 * time.Second)
		// (A background command of sh reads /dev/null unless it is
		// given stdin through another descriptor.)
		sh := p.Spawn("sh", "-c", "exec 3<&0; sleep 30 <&3 3<&- & exit 0")
		sh.Stdin = strings.NewReader(strings.Repeat("more than a pipe holds\n", 1<<16))
		p.Wait(sh, 0)
	}, proctest.AllowDaemons(), proctest.StopGrace(100*time.Millisecond))
	if err != nil {
		t.Errorf("Execute = %v, want nil: the end of sh not seen", err)
		if strings.Contains(err.Error(), "Go function") {
			t.Errorf("and the report calls a program a Go function")
		}
	}
}

// stuckBackend starts nothing, and its tasks never report an end until
// release is closed: as a backend whose wait is stuck.
type stuckBackend struct{ release chan struct{} }

func (b stuckBackend) LookPath(file string) (string, error) { return "/bin/" + file, nil }
func (b stuckBackend) Open(ctx context.Context, info proctest.PlanInfo) (proctest.Session, error) {
	return b, nil
}
func (b stuckBackend) Start(cmd *proctest.Command) (proctest.Task, error) { return b, nil }
func (b stuckBackend) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	return nil, errors.New("no network")
}
func (b stuckBackend) Stat(name string) (fs.FileInfo, error) { return nil, fs.ErrNotExist }
func (b stuckBackend) FreePorts(n int) ([]int, error)        { return nil, errors.New("no ports") }
func (b stuckBackend) Close() ([]proctest.Leftover, error)   { return nil, nil }
func (b stuckBackend) Pid() int                              { return 99999 }
func (b stuckBackend) Signal(sig syscall.Signal) error       { return nil }
func (b stuckBackend) Pause() error                          { return nil }
func (b stuckBackend) Resume() error                         { return nil }
func (b stuckBackend) Wait() (proctest.Status, error) {
	<-b.release
	return proctest.Status{Signal: syscall.SIGKILL}, nil
}

// A program whose end is never reported, even after SIGKILL, is given up
// on at the end of the plan after the stop ladder, without calling it a
// Go function, and the plan returns.
func TestUnreportedEndIsGivenUp(t *testing.T) {
	t.Parallel()
	b := stuckBackend{release: make(chan struct{})}
	defer close(b.release)
	p := proctest.New(t.Name(), proctest.LogDir(t.TempDir()), proctest.WithBackend(b), proctest.StopGrace(50*time.Millisecond))
	p.Spawn("server")
	err := executeWithin(t, p)
	left := asError[*proctest.StillRunningError](t, err)
	if len(left.Procs) != 1 || !strings.Contains(left.Procs[0].Stopped, "its end was not reported") {
		t.Errorf("StillRunningError.Procs = %+v, want server, its end not reported", left.Procs)
	}
	if strings.Contains(err.Error(), "Go function") {
		t.Errorf("the report calls a program a Go function:\n%s", err)
	}
}

// fatal ends the goroutine as t.Fatal does.
func fatal() {
	runtime.Goexit()
}

// A Go step that ends by runtime.Goexit, as t.Fatal and require do, ends
// at once with exit 1, and its stderr says where it called Goexit: not a
// wait that runs into its timeout while the step is "left running".
func TestGoStepGoexit(t *testing.T) {
	t.Parallel()
	err := execute(t, func(p *proctest.Plan) {
		g := p.Go("fatal", func(ctx context.Context) error {
			fatal()
			return nil
		})
		p.Wait(g, 0)
	})
	code := asError[*proctest.ExitCodeError](t, err)
	if code.Proc != "fatal" || code.Got != (proctest.Status{Code: 1}) {
		t.Errorf("ExitCodeError = %+v, want fatal ending with exit 1", code)
	}
	if !strings.Contains(err.Error(), "the function called runtime.Goexit at robust_test.go:") ||
		!strings.Contains(err.Error(), "t.Fatal") {
		t.Errorf("the report does not say where the function called runtime.Goexit:\n%s", err)
	}
}

func init() {
	// hang-at-interrupt LOGDIR runs a plan with a sleep, prints
	// "pid PID" once it runs, and, once an interrupt has made the plan
	// fail, prints "hanging" and blocks: as a plan whose end hangs.
	helpers["hang-at-interrupt"] = func(args []string) {
		var once sync.Once
		p := proctest.New("hang-at-interrupt", proctest.LogDir(args[0]), proctest.OnEvent(func(e proctest.Event) {
			switch e.Kind {
			case proctest.EventSpawn:
				fmt.Printf("pid %d\n", e.Pid)
			case proctest.EventFail:
				once.Do(func() { fmt.Println("hanging") })
				select {}
			}
		}))
		p.Spawn("sleep", "3600")
		p.Sleep(time.Hour)
		p.Execute(context.Background())
		os.Exit(0)
	}
	// term-at-end LOGDIR runs a plan that passes, and sends itself
	// SIGTERM as its last event: it prints "passed" if the plan passes.
	helpers["term-at-end"] = func(args []string) {
		got := make(chan os.Signal, 1)
		signal.Notify(got, syscall.SIGTERM)
		p := proctest.New("term-at-end", proctest.LogDir(args[0]), proctest.OnEvent(func(e proctest.Event) {
			if e.Kind == proctest.EventPlanEnd {
				syscall.Kill(os.Getpid(), syscall.SIGTERM)
				<-got // delivered
			}
		}))
		p.Wait(p.Spawn("true"), 0)
		if err := p.Execute(context.Background()); err != nil {
			fmt.Println("failed")
			os.Exit(1)
		}
		fmt.Println("passed")
		os.Exit(0)
	}
}

// A second signal, while the plans are stopping after a first, ends the
// program at once, whatever the plans are doing: it kills their
// processes and raises the signal.
func TestSecondSignalEndsAtOnce(t *testing.T) {
	t.Parallel()
	tests := []struct{ first, second syscall.Signal }{
		{syscall.SIGINT, syscall.SIGINT},
		{syscall.SIGINT, syscall.SIGTERM},
		{syscall.SIGTERM, syscall.SIGTERM},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%v then %v", tt.first, tt.second), func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), guard)
			defer cancel()
			cmd := exec.CommandContext(ctx, "hang-at-interrupt", t.TempDir())
			var stderr strings.Builder
			cmd.Stderr = &stderr
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			lines := bufio.NewScanner(out)
			var sleep int
			if lines.Scan() {
				fmt.Sscanf(lines.Text(), "pid %d", &sleep)
			}
			cmd.Process.Signal(tt.first)
			if lines.Scan() && lines.Text() == "hanging" {
				cmd.Process.Signal(tt.second)
			}
			io.Copy(io.Discard, out)
			err = cmd.Wait()
			if ctx.Err() != nil {
				t.Fatalf("the program did not end after %v then %v; stderr:\n%s", tt.first, tt.second, stderr.String())
			}
			ws, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
			if !ws.Signaled() || ws.Signal() != tt.second {
				t.Errorf("the program ended with %v, want death by %v; stderr:\n%s", err, tt.second, stderr.String())
			}
			if !strings.Contains(stderr.String(), "killed 1 process;") {
				t.Errorf("stderr does not say the sleep was killed:\n%s", stderr.String())
			}
			if sleep == 0 {
				t.Errorf("the helper did not say the pid of its sleep")
			} else if alive(sleep) {
				t.Errorf("sleep (pid %d) survives", sleep)
				syscall.Kill(sleep, syscall.SIGKILL)
			}
		})
	}
}

// A signal that comes as a plan ends, after its steps all went well, makes
// it fail, with a report, before the program ends by the signal: an
// interrupted run never passes.
func TestSignalAtTheEndFailsThePlan(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	cmd := exec.CommandContext(ctx, "term-at-end", t.TempDir())
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("the program did not end")
	}
	if err == nil || strings.Contains(stdout.String(), "passed") {
		t.Errorf("the plan passed although SIGTERM came as it ended (%v); stdout:\n%s", err, stdout.String())
	}
	if !strings.Contains(stderr.String(), "plan term-at-end: interrupted by terminated") {
		t.Errorf("stderr does not say the plan was interrupted:\n%s", stderr.String())
	}
	if ws, _ := cmd.ProcessState.Sys().(syscall.WaitStatus); !ws.Signaled() || ws.Signal() != syscall.SIGTERM {
		t.Errorf("the program ended with %v, want death by SIGTERM", err)
	}
}
