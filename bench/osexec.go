package bench

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"syscall"
	"time"
)

// The os/exec baseline: what a test would do by hand. Each child gets its
// stdout and stderr in log files of its own, is started with Start and
// waited for by a goroutine, and each wait has a timeout.

// child is a started process of the baseline.
type child struct {
	cmd  *exec.Cmd
	done chan error // receives Wait's result
}

// logDir makes a fresh log directory for a run of variant v.
func (e *Env) logDir(v string) (string, error) {
	return os.MkdirTemp(e.LogRoot, v+"-")
}

// startChild starts argv with its output in dir/name.stdout and
// dir/name.stderr, and extra added to its environment.
func startChild(dir, name string, argv, extra []string) (*child, error) {
	stdout, err := os.Create(filepath.Join(dir, name+".stdout"))
	if err != nil {
		return nil, err
	}
	defer stdout.Close()
	stderr, err := os.Create(filepath.Join(dir, name+".stderr"))
	if err != nil {
		return nil, err
	}
	defer stderr.Close()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if extra != nil {
		cmd.Env = append(os.Environ(), extra...)
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return waitInBackground(cmd), nil
}

// waitInBackground starts the goroutine that waits for cmd.
func waitInBackground(cmd *exec.Cmd) *child {
	c := &child{cmd: cmd, done: make(chan error, 1)}
	go func() { c.done <- cmd.Wait() }()
	return c
}

// wait waits at most timeout for c to end, and checks that it ended as
// want says: exit 0 if sig is 0, else death by sig.
func (c *child) wait(timeout time.Duration, sig syscall.Signal) error {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case err := <-c.done:
		return checkEnd(c.cmd, err, sig)
	case <-t.C:
		c.cmd.Process.Kill()
		<-c.done
		return fmt.Errorf("%s: not done after %v", c.cmd, timeout)
	}
}

// checkEnd checks that cmd, whose Wait returned err, exited 0 (sig 0) or
// was killed by sig.
func checkEnd(cmd *exec.Cmd, err error, sig syscall.Signal) error {
	if sig == 0 {
		if err != nil {
			return fmt.Errorf("%s: %w", cmd, err)
		}
		return nil
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return fmt.Errorf("%s: want death by %v, got %v", cmd, sig, err)
	}
	if ws := ee.Sys().(syscall.WaitStatus); !ws.Signaled() || ws.Signal() != sig {
		return fmt.Errorf("%s: want death by %v, got %v", cmd, sig, err)
	}
	return nil
}

// osexecSequential starts argv and waits for it, n times in a row; mark,
// if not nil, is called with -1 before the first process and after each
// process with its index.
func osexecSequential(e *Env, n int, argv, extra []string, mark func(i int)) (time.Duration, error) {
	start := time.Now()
	dir, err := e.logDir(OSExec)
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	if mark != nil {
		mark(-1)
	}
	for i := range n {
		c, err := startChild(dir, fmt.Sprintf("p%d", i), argv, extra)
		if err != nil {
			return 0, err
		}
		if err := c.wait(e.Timeout, 0); err != nil {
			return 0, err
		}
		if mark != nil {
			mark(i)
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

// osexecParallel starts n copies of argv at once, then waits for each to
// end as sig says (see wait), after sending it sig if kill is set.
func osexecParallel(e *Env, n int, argv []string, kill bool, sig syscall.Signal) (time.Duration, error) {
	start := time.Now()
	dir, err := e.logDir(OSExec)
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	children := make([]*child, 0, n)
	defer func() {
		for _, c := range children {
			c.cmd.Process.Kill()
		}
	}()
	for i := range n {
		c, err := startChild(dir, fmt.Sprintf("p%d", i), argv, nil)
		if err != nil {
			return 0, err
		}
		children = append(children, c)
	}
	for _, c := range children {
		if kill {
			if err := c.cmd.Process.Signal(sig); err != nil {
				return 0, err
			}
		}
		if err := c.wait(e.Timeout, sig); err != nil {
			return 0, err
		}
	}
	children = nil
	if err := os.RemoveAll(dir); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

func osexecSerial(e *Env, s Size) (Raw, error) {
	d, err := osexecSequential(e, s.N, []string{e.True}, nil, nil)
	return Raw{Elapsed: d}, err
}

func osexecFanOut(e *Env, s Size) (Raw, error) {
	d, err := osexecParallel(e, s.N, []string{e.True}, false, 0)
	return Raw{Elapsed: d}, err
}

func osexecConcurrency(e *Env, s Size) (Raw, error) {
	d, err := osexecParallel(e, s.N, []string{e.Sleep, seconds(s.Sleep)}, false, 0)
	return Raw{Elapsed: d}, err
}

func osexecExitDetect(e *Env, s Size) (Raw, error) {
	d, err := osexecSequential(e, s.N, []string{e.Sleep, "0.01"}, nil, nil)
	return Raw{Elapsed: d}, err
}

func osexecKill(e *Env, s Size) (Raw, error) {
	d, err := osexecParallel(e, s.N, []string{e.Sleep, "60"}, true, syscall.SIGTERM)
	return Raw{Elapsed: d}, err
}

func osexecOutput(e *Env, s Size) (Raw, error) {
	d, err := osexecSequential(e, 1, []string{e.Self}, genEnv(s.Bytes), nil)
	return Raw{Elapsed: d, Bytes: s.Bytes + int64(len(Marker)+1)}, err
}

func osexecScale(e *Env, s Size) (Raw, error) {
	w := newWindows(s)
	d, err := osexecSequential(e, s.N, []string{e.True}, nil, w.done)
	return w.raw(d), err
}

// watcher copies a child's stdout from a pipe to its log file, and closes
// found at the first line that matches re.
type watcher struct {
	found chan struct{}
	done  chan error // receives the copy's result at the end of the output
}

// startWatched starts argv with its stdout on a pipe that a watcher copies
// to dir/name.stdout, watching for re, and its stderr in dir/name.stderr.
func startWatched(dir, name string, argv, extra []string, re *regexp.Regexp) (*child, *watcher, error) {
	stdout, err := os.Create(filepath.Join(dir, name+".stdout"))
	if err != nil {
		return nil, nil, err
	}
	stderr, err := os.Create(filepath.Join(dir, name+".stderr"))
	if err != nil {
		stdout.Close()
		return nil, nil, err
	}
	defer stderr.Close()
	pr, pw, err := os.Pipe()
	if err != nil {
		stdout.Close()
		return nil, nil, err
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = pw, stderr
	if extra != nil {
		cmd.Env = append(os.Environ(), extra...)
	}
	err = cmd.Start()
	pw.Close()
	if err != nil {
		pr.Close()
		stdout.Close()
		return nil, nil, err
	}
	w := &watcher{found: make(chan struct{}), done: make(chan error, 1)}
	go func() {
		defer pr.Close()
		defer stdout.Close()
		w.done <- w.copy(pr, stdout, re)
	}()
	return waitInBackground(cmd), w, nil
}

// copy copies r to log, closing w.found at the first line that matches
// re: what a test would write by hand, a bufio.Scanner on an
// io.TeeReader.
func (w *watcher) copy(r io.Reader, log io.Writer, re *regexp.Regexp) error {
	sc := bufio.NewScanner(io.TeeReader(r, log))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	matched := false
	for sc.Scan() {
		if !matched && re.Match(sc.Bytes()) {
			matched = true
			close(w.found)
		}
	}
	return sc.Err()
}

// waitFound waits at most timeout for w to see its line.
func (w *watcher) waitFound(timeout time.Duration) error {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-w.found:
		return nil
	case err := <-w.done:
		w.done <- err
		return fmt.Errorf("output ended without the line awaited (%v)", err)
	case <-t.C:
		return fmt.Errorf("line not seen after %v", timeout)
	}
}

// The patterns of the output waits, matched against one line at a time.
const (
	markerPattern = `^` + Marker + `$`
	readyPattern  = `^ready [0-9]+$`
)

// markerRE matches the "gen" helper's last line.
var markerRE = regexp.MustCompile(markerPattern)

// readyRE matches the "ready" helper's line.
var readyRE = regexp.MustCompile(readyPattern)

func osexecOutputWatch(e *Env, s Size) (Raw, error) {
	start := time.Now()
	dir, err := e.logDir(OSExec)
	if err != nil {
		return Raw{}, err
	}
	defer os.RemoveAll(dir)
	c, w, err := startWatched(dir, "p0", []string{e.Self}, genEnv(s.Bytes), markerRE)
	if err != nil {
		return Raw{}, err
	}
	if err := w.waitFound(e.Timeout); err != nil {
		c.cmd.Process.Kill()
		<-c.done
		return Raw{}, err
	}
	if err := c.wait(e.Timeout, 0); err != nil {
		return Raw{}, err
	}
	if err := <-w.done; err != nil {
		return Raw{}, err
	}
	if err := os.RemoveAll(dir); err != nil {
		return Raw{}, err
	}
	return Raw{Elapsed: time.Since(start), Bytes: s.Bytes + int64(len(Marker)+1)}, nil
}

func osexecReadiness(e *Env, s Size) (Raw, error) {
	start := time.Now()
	dir, err := e.logDir(OSExec)
	if err != nil {
		return Raw{}, err
	}
	defer os.RemoveAll(dir)
	var lat []time.Duration
	for i := range s.N {
		name := fmt.Sprintf("p%d", i)
		stamp := filepath.Join(dir, name+".stamp")
		c, w, err := startWatched(dir, name, []string{e.Self, stamp}, readyEnv(), readyRE)
		if err != nil {
			return Raw{}, err
		}
		err = w.waitFound(e.Timeout)
		seen := time.Now()
		if err == nil {
			err = c.cmd.Process.Signal(syscall.SIGTERM)
		}
		if err != nil {
			c.cmd.Process.Kill()
			<-c.done
			return Raw{}, err
		}
		if err := c.wait(e.Timeout, syscall.SIGTERM); err != nil {
			return Raw{}, err
		}
		if err := <-w.done; err != nil {
			return Raw{}, err
		}
		printed, err := readStamp(stamp)
		if err != nil {
			return Raw{}, err
		}
		lat = append(lat, seen.Sub(printed))
	}
	if err := os.RemoveAll(dir); err != nil {
		return Raw{}, err
	}
	return Raw{Elapsed: time.Since(start), Latencies: lat, Noticed: lat}, nil
}
