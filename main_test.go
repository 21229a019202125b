package proctest_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/proctest/proctest"
	"go.uber.org/goleak"
)

// The test binary stands in for helper programs: TestMain makes a directory
// of links to itself, one per helper, puts it first in PATH, and when the
// binary runs under a helper's name it is that helper. So a test spawns
// "ignore-term" like any program, and its logs are ignore-term.stdout.

// helpers are the programs the test binary can be.
var helpers = map[string]func(args []string){
	// ignore-term ignores SIGTERM, prints "ready" and waits to be killed.
	"ignore-term": func(args []string) {
		signal.Ignore(syscall.SIGTERM)
		fmt.Println("ready")
		select {}
	},
	// graceful exits 0 on SIGTERM, after printing "bye".
	"graceful": func(args []string) {
		c := make(chan os.Signal, 1)
		signal.Notify(c, syscall.SIGTERM)
		fmt.Println("ready")
		<-c
		fmt.Println("bye")
		os.Exit(0)
	},
	// daemon starts "sleep 60" in a session of its own, prints its pid,
	// and exits 0 leaving it behind.
	"daemon": func(args []string) {
		cmd := exec.Command("sleep", "60")
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
		if err := cmd.Start(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Println(cmd.Process.Pid)
		os.Exit(0)
	},
	// exit-after sleeps args[0] milliseconds, then exits with code args[1].
	"exit-after": func(args []string) {
		ms, _ := strconv.Atoi(args[0])
		code, _ := strconv.Atoi(args[1])
		time.Sleep(time.Duration(ms) * time.Millisecond)
		fmt.Fprintf(os.Stderr, "exiting with %d\n", code)
		os.Exit(code)
	},
	// chatty prints args[0] numbered lines to stdout and stderr, then
	// exits with code args[1].
	"chatty": func(args []string) {
		n, _ := strconv.Atoi(args[0])
		code, _ := strconv.Atoi(args[1])
		for i := 1; i <= n; i++ {
			fmt.Printf("out line %d\n", i)
			fmt.Fprintf(os.Stderr, "err line %d\n", i)
		}
		os.Exit(code)
	},
	// run-plan runs a plan that starts "sleep 60", a setsid'd daemon
	// and a process ignoring SIGTERM, prints "pids P1 P2 P3" once they
	// run, and blocks; its parent test then kills it.
	"run-plan": func(args []string) {
		p := proctest.New("run-plan", proctest.AllowDaemons())
		sleeper := p.Spawn("sleep", "60")
		stubborn := p.Spawn("ignore-term")
		p.WaitStdout(stubborn, "^ready$")
		d := p.Spawn("daemon")
		p.WaitStdout(d, `^(?P<daemon>\d+)$`)
		p.Wait(d, 0)
		p.Go("report", func(ctx context.Context) error {
			fmt.Printf("pids %d %d %s\n", sleeper.Pid(), stubborn.Pid(), p.Var("daemon").Value())
			<-ctx.Done()
			return nil
		})
		p.Sleep(time.Hour)
		p.Execute(context.Background())
		os.Exit(0)
	},
	// register-reaper registers a reaper that writes args[0], prints
	// "registered", and exits if args[1] is "exit", else waits to be
	// killed.
	"register-reaper": func(args []string) {
		if err := proctest.RegisterReaper(testReaperEnv + "=" + args[0]); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Println("registered")
		if args[1] == "exit" {
			os.Exit(0)
		}
		for {
			time.Sleep(time.Hour)
		}
	},
	// listen serves HTTP on args[0] (host:port), answering 200 "ok" on
	// /healthz, prints "listening on ADDR", and exits 0 on SIGTERM.
	"listen": func(args []string) {
		l, err := net.Listen("tcp", args[0])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		c := make(chan os.Signal, 1)
		signal.Notify(c, syscall.SIGTERM)
		go http.Serve(l, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintln(w, "ok", r.URL.Path)
		}))
		fmt.Println("listening on", l.Addr())
		<-c
		os.Exit(0)
	},
	// get prints the body of a GET of args[0].
	"get": func(args []string) {
		resp, err := http.Get(args[0])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		io.Copy(os.Stdout, resp.Body)
		os.Exit(0)
	},
}

// crashServer is a helper program: an HTTP server on args[0] that answers
// args[1] requests, and exits with code 3 on the next one.
var crashServer = proctest.Helper("crash-server", func(args []string) int {
	n, _ := strconv.Atoi(args[1])
	l, err := net.Listen("tcp", args[0])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	var mu sync.Mutex
	served := 0
	crash := make(chan bool)
	go http.Serve(l, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if served == n {
			crash <- true
			select {}
		}
		served++
		fmt.Fprintln(w, "ok")
	}))
	fmt.Println("ready")
	<-crash
	fmt.Fprintf(os.Stderr, "crashing after %d requests\n", n)
	return 3
})

// testReaperEnv makes the test binary a reaper that writes the file it
// names (see TestReaper).
const testReaperEnv = "PROCTEST_TEST_REAPER"

func TestMain(m *testing.M) {
	if file := os.Getenv(testReaperEnv); file != "" {
		// Run by the guard as a reaper (TestReaper): nothing else.
		os.WriteFile(file, []byte("reaped"), 0o644)
		os.Exit(0)
	}
	proctest.RunHelpers()
	if h, ok := helpers[filepath.Base(os.Args[0])]; ok {
		h(os.Args[1:])
		os.Exit(0)
	}
	// Everything of this run goes under one directory: the helpers, and
	// the logs of plans that set no LogDir (through PROCTEST_LOGDIR), so
	// that what is left there at the end was left by these tests.
	top, err := os.MkdirTemp("", "proctest-tests-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin, logs := filepath.Join(top, "bin"), filepath.Join(top, "logs")
	for _, dir := range []string{bin, logs} {
		if err := os.Mkdir(dir, 0o700); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	os.Setenv("PROCTEST_LOGDIR", logs)
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for name := range helpers {
		if err := os.Symlink(exe, filepath.Join(bin, name)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	os.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))

	// After every test, nothing may be left: no goroutine, no open file,
	// no temporary directory, no process. A first plan starts what lives
	// as long as the binary (the guard and its pipe) before the count.
	p := proctest.New("warm-up")
	p.Wait(p.Spawn("true"), 0)
	if err := p.Execute(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fds := openFiles()
	code := m.Run()
	if code == 0 {
		code = leaks(fds, logs)
	}
	os.RemoveAll(top)
	os.Exit(code)
}

// leaks reports what the tests left behind, compared with the open files
// there were before, and in the default log root logs, and returns the
// exit code.
func leaks(fds map[string]string, logs string) int {
	var left []string
	if err := goleak.Find(); err != nil {
		left = append(left, fmt.Sprintf("goroutines: %v", err))
	}
	for fd, target := range openFiles() {
		if _, ok := fds[fd]; !ok {
			left = append(left, fmt.Sprintf("open file: fd %s -> %s", fd, target))
		}
	}
	ents, _ := os.ReadDir(logs)
	for _, e := range ents {
		left = append(left, "log or work directory: "+filepath.Join(logs, e.Name()))
	}
	for _, pid := range planProcesses() {
		left = append(left, fmt.Sprintf("process: pid %d %s", pid, cmdline(pid)))
	}
	for _, l := range left {
		fmt.Fprintf(os.Stderr, "left behind: %s\n", l)
	}
	if len(left) > 0 {
		return 1
	}
	return 0
}

// openFiles returns this process's open file descriptors and what they are.
func openFiles() map[string]string {
	ents, _ := os.ReadDir("/proc/self/fd")
	fds := map[string]string{}
	for _, e := range ents {
		target, err := os.Readlink("/proc/self/fd/" + e.Name())
		if err == nil { // the directory read's own descriptor is gone
			fds[e.Name()] = target
		}
	}
	return fds
}

// planProcesses returns the live processes started by this binary's plans
// (found by the PROCTEST_PLAN=PID.N they inherit) or children of it other
// than its guard.
func planProcesses() []int {
	ents, _ := os.ReadDir("/proc")
	self := os.Getpid()
	mark := []byte(fmt.Sprintf("PROCTEST_PLAN=%d.", self))
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self || !alive(pid) {
			continue
		}
		env, _ := os.ReadFile("/proc/" + e.Name() + "/environ")
		if bytes.Contains(env, []byte("PROCTEST_GUARD=")) {
			continue
		}
		if bytes.Contains(env, mark) || parentOf(pid) == self {
			pids = append(pids, pid)
		}
	}
	return pids
}

// parentOf returns the parent process id of pid.
func parentOf(pid int) int {
	b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 2 {
		return 0
	}
	ppid, _ := strconv.Atoi(f[1])
	return ppid
}

// cmdline returns the command line of pid.
func cmdline(pid int) string {
	b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	return strings.TrimSpace(string(bytes.ReplaceAll(b, []byte{0}, []byte{' '})))
}

// alive reports whether pid is a live process (not a zombie).
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	i := strings.LastIndexByte(string(b), ')')
	return i > 0 && i+2 < len(b) && b[i+2] != 'Z'
}

// execute runs the plan built by build with the options, logs under a
// temporary directory of t, and returns its error.
func execute(t *testing.T, build func(p *proctest.Plan), opts ...proctest.Option) error {
	t.Helper()
	p := proctest.New(t.Name(), append([]proctest.Option{proctest.LogDir(t.TempDir())}, opts...)...)
	build(p)
	return p.Execute(context.Background())
}

// asError returns the failure of type E in err, or fails the test.
func asError[E error](t *testing.T, err error) E {
	t.Helper()
	var target E
	if err == nil {
		t.Fatalf("plan succeeded, want a %T", target)
	}
	if !errors.As(err, &target) {
		t.Fatalf("plan failed without a %T:\n%v", target, err)
	}
	return target
}
