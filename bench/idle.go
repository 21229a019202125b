package bench

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Idle processes: n `sleep 3600` that have nothing to do with the plans
// being measured, as a busy machine has. They are the children of a
// holder, this program run as the "idle" helper, so that they are not
// children of the program running the plans (a subreaper looks at its
// own children) but unrelated processes of the machine. The holder and
// its sleeps share a process group of their own.
//
// The holder ends them when its stdin reaches its end: when Stop closes
// it, or when the program that started it dies, however it dies. It kills
// each with SIGKILL and reaps it before it exits, so that none is left to
// init, not even as a zombie. Should the holder itself be killed, its
// processes get SIGKILL too (Pdeathsig, on Linux), and Stop kills their
// group.

// Idle is a running holder of idle processes.
type Idle struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser

	stopOnce sync.Once
	stopErr  error
}

// idleStopTimeout bounds how long Stop waits for the holder to end its
// processes before it kills their group.
const idleStopTimeout = time.Minute

// StartIdle starts n idle processes, and returns once they all run.
func (e *Env) StartIdle(n int) (*Idle, error) {
	cmd := exec.Command(e.Self, strconv.Itoa(n), e.Sleep)
	cmd.Env = append(withoutVar(os.Environ(), HelperEnv), HelperEnv+"=idle")
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		stdin.Close()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		stdin.Close()
		return nil, fmt.Errorf("idle processes: %w", err)
	}
	id := &Idle{cmd: cmd, stdin: stdin}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if want := fmt.Sprintf("ready %d\n", n); line != want {
		// The holder failed, and says why on stderr; Stop reaps it and
		// whatever it started.
		return nil, errors.Join(fmt.Errorf("idle processes: holder said %q (%v), want %q", line, err, want), id.Stop())
	}
	return id, nil
}

// Stop ends the idle processes and the holder, and returns once they have
// all been reaped. If the holder does not end them within a minute, their
// process group is killed. It returns an error if any is left. Calls after
// the first return the first's result.
func (id *Idle) Stop() error {
	id.stopOnce.Do(func() { id.stopErr = id.stop() })
	return id.stopErr
}

func (id *Idle) stop() error {
	pgid := id.cmd.Process.Pid
	id.stdin.Close()
	done := make(chan error, 1)
	go func() { done <- id.cmd.Wait() }()
	t := time.NewTimer(idleStopTimeout)
	defer t.Stop()
	var err error
	select {
	case err = <-done:
	case <-t.C:
		syscall.Kill(-pgid, syscall.SIGKILL)
		err = fmt.Errorf("idle processes: holder not done %v after its stdin closed: group %d killed (%v)", idleStopTimeout, pgid, <-done)
	}
	// A killed holder leaves its sleeps to init, which reaps them; until
	// then the group still exists.
	deadline := time.Now().Add(10 * time.Second)
	for delay := time.Millisecond; syscall.Kill(-pgid, 0) == nil; delay = min(2*delay, 100*time.Millisecond) {
		if time.Now().After(deadline) {
			return errors.Join(err, fmt.Errorf("idle processes: group %d still has processes", pgid))
		}
		syscall.Kill(-pgid, syscall.SIGKILL)
		time.Sleep(delay)
	}
	return err
}

// helperIdle is the "idle" helper: it starts os.Args[1] processes of
// os.Args[2] 3600, prints "ready N" once they all run, and when its stdin
// ends (or at SIGTERM, SIGINT or SIGHUP) kills and reaps them all.
func helperIdle() int {
	// A write to a closed stdout must fail, not kill the holder before
	// it has ended its processes.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	n, err := strconv.Atoi(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "idle:", err)
		return 2
	}
	null, err := os.Open(os.DevNull)
	if err != nil {
		fmt.Fprintln(os.Stderr, "idle:", err)
		return 1
	}
	defer null.Close()
	// Pdeathsig, where idleSys sets it, is sent when the thread that
	// started the process ends: start them all from one thread that
	// lives as long as the holder.
	runtime.LockOSThread()
	attr := &os.ProcAttr{Files: []*os.File{null, null, os.Stderr}, Sys: idleSys()}
	procs := make([]*os.Process, 0, n)
	defer func() {
		for _, p := range procs {
			p.Kill()
		}
		for _, p := range procs {
			p.Wait()
		}
	}()
	for range n {
		p, err := os.StartProcess(os.Args[2], []string{os.Args[2], "3600"}, attr)
		if err != nil {
			fmt.Fprintf(os.Stderr, "idle: %d of %d started: %v\n", len(procs), n, err)
			return 1
		}
		procs = append(procs, p)
	}
	if _, err := fmt.Printf("ready %d\n", n); err != nil {
		return 1
	}
	eof := make(chan struct{})
	go func() {
		io.Copy(io.Discard, os.Stdin)
		close(eof)
	}()
	select {
	case <-eof:
	case <-stop:
	}
	return 0
}

// withoutVar returns env without the variable key.
func withoutVar(env []string, key string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, key+"=") {
			out = append(out, kv)
		}
	}
	return out
}
