package proctest_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/proctest/proctest"
)

// TestBadInput is the list of inputs a plan must refuse, each with the
// error it must give, and of inputs it must make safe. Whatever the input,
// nothing may be left behind: no process (TestMain checks that, with open
// files, goroutines and temporary directories, after all tests), and
// nothing in the log root but, after a failure at run time, the plan's own
// kept log directory.
//
// Errors in plan scripts (every kind of syntax error) are covered by
// TestScriptErrors in script/script_test.go and by
// cmd/proctest/testdata/errors.txtar, not here.
func TestBadInput(t *testing.T) {
	t.Parallel()
	tests := []badInput{
		// Programs that cannot be run.
		{name: "command not found", build: func(t *testing.T, p *proctest.Plan) {
			p.Wait(p.Spawn("no-such-command-xyz"), 0)
		}, want: fails[*proctest.CommandNotFoundError]("no such program in PATH")},
		{name: "program path that does not exist", build: func(t *testing.T, p *proctest.Plan) {
			// A path is looked up again when the process starts, as the
			// plan may build the program: so this fails at run time.
			p.Wait(p.Spawn(filepath.Join(t.TempDir(), "missing")), 0)
		}, want: fails[*proctest.CommandNotFoundError]("no such file or directory"), kept: true},
		{name: "directory", build: func(t *testing.T, p *proctest.Plan) {
			p.Wait(p.Spawn(t.TempDir()), 0)
		}, want: fails[*proctest.CommandNotFoundError]("is a directory")},
		{name: "file without the run bit", build: func(t *testing.T, p *proctest.Plan) {
			// Root may execute a file with any run bit, but not one
			// with none.
			script := writeFile(t, t.TempDir(), "script", "#!/bin/sh\necho hi\n", 0o644)
			p.Wait(p.Spawn(script), 0)
		}, want: fails[*proctest.CommandNotFoundError]("not an executable file")},

		// Empty and malformed command lines.
		{name: "empty argv", build: func(t *testing.T, p *proctest.Plan) {
			p.SpawnPar([]string{})
		}, want: fails[*proctest.BuildError]("empty command")},
		{name: "empty command", build: func(t *testing.T, p *proctest.Plan) {
			p.Wait(p.Spawn(""), 0)
		}, want: fails[*proctest.BuildError]("empty command")},
		{name: "no argv at all", build: func(t *testing.T, p *proctest.Plan) {
			p.SpawnPar()
		}, want: fails[*proctest.BuildError]("no command given")},
		{name: "NUL byte in an argument", build: func(t *testing.T, p *proctest.Plan) {
			p.Wait(p.Spawn("echo", "a\x00b"), 0)
		}, want: fails[*proctest.BuildError]("contains a NUL byte")},
		{name: "NUL byte in the command", build: func(t *testing.T, p *proctest.Plan) {
			p.Wait(p.Spawn("ec\x00ho", "hi"), 0)
		}, want: fails[*proctest.BuildError]("contains a NUL byte")},
		{name: "NUL byte in the environment", build: func(t *testing.T, p *proctest.Plan) {
			e := p.Spawn("echo", "hi")
			e.Env = []string{"A=x\x00y"}
			p.Wait(e, 0)
		}, want: fails[*proctest.BuildError]("NUL byte")},

		// Process names given with SpawnNamed must be plain file names.
		{name: "SpawnNamed with a slash", build: func(t *testing.T, p *proctest.Plan) {
			p.Wait(p.SpawnNamed("a/b", "true"), 0)
		}, want: fails[*proctest.BuildError](`name "a/b" is not a plain file name`)},
		{name: "SpawnNamed with ..", build: func(t *testing.T, p *proctest.Plan) {
			p.Wait(p.SpawnNamed("..", "true"), 0)
		}, want: fails[*proctest.BuildError](`name ".." is not a plain file name`)},
		{name: "SpawnNamed with ../", build: func(t *testing.T, p *proctest.Plan) {
			p.Wait(p.SpawnNamed("../../escape", "true"), 0)
		}, want: fails[*proctest.BuildError](`name "../../escape" is not a plain file name`)},
		{name: "SpawnNamed with a newline", build: func(t *testing.T, p *proctest.Plan) {
			p.Wait(p.SpawnNamed("a\nb", "true"), 0)
		}, want: fails[*proctest.BuildError](`name "a\nb" is not a plain file name`)},
		{name: "SpawnNamed with an escape sequence", build: func(t *testing.T, p *proctest.Plan) {
			p.Wait(p.SpawnNamed("\x1b[31mred", "true"), 0)
		}, want: fails[*proctest.BuildError](`name "\x1b[31mred" is not a plain file name`)},
		{name: "SpawnNamed with an empty name", build: func(t *testing.T, p *proctest.Plan) {
			p.Wait(p.SpawnNamed("", "true"), 0)
		}, want: fails[*proctest.BuildError](`name "" is not a plain file name`)},
		{name: "SpawnNamed with a name too long", build: func(t *testing.T, p *proctest.Plan) {
			// Only letters, but longer than a log file name may be: the
			// error must say what is wrong with it.
			p.Wait(p.SpawnNamed(strings.Repeat("a", 100), "true"), 0)
		}, want: fails[*proctest.BuildError]("too long")},

		// Names made from a Go step's name or a command are made safe:
		// the plan runs, and its logs stay in its log directory.
		{name: "Go step named ../../escape", build: func(t *testing.T, p *proctest.Plan) {
			p.Wait(p.Go("../../escape", sayHi), 0)
		}, opts: keep, want: succeeds, kept: true, check: logsInside("hi\n")},
		{name: "Go step named with a slash and control characters", build: func(t *testing.T, p *proctest.Plan) {
			p.Wait(p.Go("a/b\n\x1b[1m\x7f", sayHi), 0)
		}, opts: keep, want: succeeds, kept: true, check: logsInside("hi\n")},
		{name: "Go step named ..", build: func(t *testing.T, p *proctest.Plan) {
			p.Wait(p.Go("..", sayHi), 0)
		}, opts: keep, want: succeeds, kept: true, check: logsInside("hi\n")},
		{name: "program at a/../b", build: func(t *testing.T, p *proctest.Plan) {
			dir := t.TempDir()
			os.Mkdir(filepath.Join(dir, "a"), 0o755)
			writeFile(t, dir, "b", "#!/bin/sh\necho hi\n", 0o755)
			p.Wait(p.Spawn(dir+"/a/../b"), 0)
		}, opts: keep, want: succeeds, kept: true, check: logsInside("hi\n")},
		{name: "program named with .. and control characters", build: func(t *testing.T, p *proctest.Plan) {
			prog := writeFile(t, t.TempDir(), "..\x1b[1mevil\n", "#!/bin/sh\necho hi\n", 0o755)
			p.Wait(p.Spawn(prog), 0)
		}, opts: keep, want: succeeds, kept: true, check: logsInside("hi\n")},

		// Waits, kills and signals of the wrong process.
		{name: "wait on another plan's process", build: func(t *testing.T, p *proctest.Plan) {
			other := proctest.New("other")
			p.Wait(other.Spawn("true"), 0)
		}, want: fails[*proctest.BuildError](`true belongs to plan "other"`)},
		{name: "kill of another plan's process", build: func(t *testing.T, p *proctest.Plan) {
			other := proctest.New("other")
			p.Kill(other.Spawn("sleep", "60"))
		}, want: fails[*proctest.BuildError](`sleep belongs to plan "other"`)},
		{name: "signal to another plan's process", build: func(t *testing.T, p *proctest.Plan) {
			other := proctest.New("other")
			p.Signal(other.Spawn("sleep", "60"), syscall.SIGHUP)
		}, want: fails[*proctest.BuildError](`sleep belongs to plan "other"`)},
		{name: "wait on nil", build: func(t *testing.T, p *proctest.Plan) {
			p.Wait(nil, 0)
		}, want: fails[*proctest.BuildError]("nil process")},
		{name: "kill of nil", build: func(t *testing.T, p *proctest.Plan) {
			p.Kill(nil)
		}, want: fails[*proctest.BuildError]("nil process")},
		{name: "signal to nil", build: func(t *testing.T, p *proctest.Plan) {
			p.Signal(nil, syscall.SIGHUP)
		}, want: fails[*proctest.BuildError]("nil process")},
		{name: "wait on a zero Exit", build: func(t *testing.T, p *proctest.Plan) {
			p.WaitPar(proctest.Exit{})
		}, want: fails[*proctest.BuildError]("nil process")},
		{name: "kill expecting a zero Exit", build: func(t *testing.T, p *proctest.Plan) {
			p.Kill(p.Spawn("sleep", "60"), proctest.Exit{})
		}, want: fails[*proctest.BuildError]("nil process")},
		{name: "second wait", build: func(t *testing.T, p *proctest.Plan) {
			e := p.Spawn("true")
			p.Wait(e, 0)
			p.Wait(e, 0)
		}, want: fails[*proctest.BuildError]("true already ended: wait true at badinput_test.go:")},
		{name: "kill of a process already waited for", build: func(t *testing.T, p *proctest.Plan) {
			e := p.Spawn("true")
			p.Wait(e, 0)
			p.Kill(e)
		}, want: fails[*proctest.BuildError]("true already ended: wait true at badinput_test.go:")},
		{name: "signal to a process already waited for", build: func(t *testing.T, p *proctest.Plan) {
			e := p.Spawn("true")
			p.Wait(e, 0)
			p.Signal(e, syscall.SIGHUP)
		}, want: fails[*proctest.BuildError]("true already ended: wait true at badinput_test.go:")},
		{name: "exit code above 255", build: func(t *testing.T, p *proctest.Plan) {
			p.Wait(p.Spawn("true"), 256)
		}, want: fails[*proctest.BuildError]("not between 0 and 255")},
		{name: "negative exit code", build: func(t *testing.T, p *proctest.Plan) {
			p.Wait(p.Spawn("true"), -1)
		}, want: fails[*proctest.BuildError]("not between 0 and 255")},

		// Durations.
		{name: "zero step timeout", build: func(t *testing.T, p *proctest.Plan) {
			p.Wait(p.Spawn("true"), 0).Timeout(0)
		}, want: fails[*proctest.BuildError]("timeout must be positive, got 0s")},
		{name: "negative step timeout", build: func(t *testing.T, p *proctest.Plan) {
			p.Wait(p.Spawn("true"), 0).Timeout(-time.Second)
		}, want: fails[*proctest.BuildError]("timeout must be positive, got -1s")},
		{name: "zero plan timeout", build: func(t *testing.T, p *proctest.Plan) {
			p.SetTimeout(0)
			p.Wait(p.Spawn("true"), 0)
		}, want: fails[*proctest.BuildError]("timeout must be positive, got 0s")},
		{name: "negative plan timeout", build: func(t *testing.T, p *proctest.Plan) {
			p.SetTimeout(-time.Minute)
			p.Wait(p.Spawn("true"), 0)
		}, want: fails[*proctest.BuildError]("timeout must be positive, got -1m0s")},
		{name: "negative sleep", build: func(t *testing.T, p *proctest.Plan) {
			p.Sleep(-time.Second)
		}, want: fails[*proctest.BuildError]("negative duration")},

		// Signals.
		{name: "signal 0", build: func(t *testing.T, p *proctest.Plan) {
			s := p.Spawn("sleep", "60")
			p.Signal(s, syscall.Signal(0))
			p.Kill(s)
		}, want: fails[*proctest.BuildError]("invalid signal 0")},
		{name: "signal 99", build: func(t *testing.T, p *proctest.Plan) {
			s := p.Spawn("sleep", "60")
			p.Signal(s, syscall.Signal(99))
			p.Kill(s)
		}, want: fails[*proctest.BuildError]("invalid signal 99")},
		{name: "kill using signal -1", build: func(t *testing.T, p *proctest.Plan) {
			p.Kill(p.Spawn("sleep", "60"), proctest.Using(-1))
		}, want: fails[*proctest.BuildError]("invalid signal -1")},

		// Log roots that cannot be made or written. Root ignores
		// permission bits, so a directory of mode 0555 would not do:
		// these fail for root too.
		{name: "log root under a regular file", root: func(t *testing.T) string {
			return filepath.Join(writeFile(t, t.TempDir(), "file", "", 0o644), "logs")
		}, build: spawnTrue, want: fails[*fs.PathError]("not a directory")},
		{name: "log root is a regular file", root: func(t *testing.T) string {
			return writeFile(t, t.TempDir(), "file", "", 0o644)
		}, build: spawnTrue, want: fails[*fs.PathError]("not a directory")},
		{name: "log root under /proc", root: func(t *testing.T) string {
			// procfs has no mkdir: the kernel answers ENOENT.
			return "/proc/proctest-badinput-logs"
		}, build: spawnTrue, want: fails[*fs.PathError]("mkdir /proc/proctest-badinput-logs")},
		{name: "log root under /sys", root: func(t *testing.T) string {
			// sysfs refuses mkdir to anyone: EPERM.
			return "/sys/proctest-badinput-logs"
		}, build: spawnTrue, want: fails[*fs.PathError]("operation not permitted")},
		{name: "log root on a read-only mount", root: readOnlyDir,
			build: spawnTrue, want: fails[*fs.PathError]("read-only file system")},

		// A full disk while processes write their logs.
		{name: "full disk, logs written by the process", root: smallTmpfs,
			build: func(t *testing.T, p *proctest.Plan) {
				// Like many programs, it ignores its failed writes.
				w := p.Spawn("sh", "-c", "head -c 1048576 /dev/zero; exit 0")
				p.Wait(w, 0)
			}, want: fails[*proctest.PlanError]("no space left on device"), kept: true},
		{name: "full disk, watched logs copied by the plan", root: smallTmpfs,
			build: func(t *testing.T, p *proctest.Plan) {
				w := p.Spawn("sh", "-c", "echo ready; head -c 1048576 /dev/zero; exit 0")
				p.WaitStdout(w, "^ready$")
				p.Wait(w, 0)
			}, want: fails[*proctest.PlanError]("no space left on device"), kept: true},

		// Out of processes.
		{name: "fork fails with EAGAIN", root: nobodyDir, run: outOfProcesses,
			want: fails[*proctest.StartError]("resource temporarily unavailable"), kept: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var root string
			if tt.root != nil {
				root = tt.root(t)
			} else {
				root = filepath.Join(t.TempDir(), "logs")
			}
			run := tt.run
			if run == nil {
				run = tt.execute
			}
			dir, err := run(t, root)
			tt.want(t, err)
			checkLogRoot(t, root, dir, tt.kept, err != nil)
			if tt.check != nil && !t.Failed() {
				tt.check(t, root, dir)
			}
		})
	}
}

// A badInput is a case of TestBadInput.
type badInput struct {
	name string
	// root returns the log root to give the plan with proctest.LogDir;
	// nil makes a fresh directory.
	root func(t *testing.T) string
	// build builds the plan.
	build func(t *testing.T, p *proctest.Plan)
	// opts are more options for the plan.
	opts []proctest.Option
	// run, for a case that is not a plan of this process, runs it
	// instead of build with its logs under root, and returns the plan's
	// log directory, if known, and its error.
	run func(t *testing.T, root string) (dir string, err error)
	// want checks the error.
	want func(t *testing.T, err error)
	// kept is set for a case that runs: the log root may then hold the
	// plan's log directory. Otherwise it must hold nothing.
	kept bool
	// check, if not nil, checks what the case left in the log root, given
	// the plan's log directory dir.
	check func(t *testing.T, root, dir string)
}

// execute builds the plan of tt with its logs under root and executes it.
// It returns the plan's log directory ("" if it made none) and its error;
// a panic is turned into an error, so that the case fails alone.
func (tt badInput) execute(t *testing.T, root string) (dir string, err error) {
	t.Helper()
	var events []proctest.Event
	opts := append([]proctest.Option{proctest.LogDir(root), proctest.OnEvent(func(e proctest.Event) {
		events = append(events, e)
	})}, tt.opts...)
	p := proctest.New(tt.name, opts...)
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v\n%s", r, debug.Stack())
		}
		for _, e := range events {
			if e.Kind == proctest.EventPlanStart {
				dir = strings.TrimPrefix(e.Detail, "logs in ")
			}
			if e.Kind == proctest.EventSpawn && !tt.kept {
				t.Errorf("the plan started %s, want nothing started", e.Proc)
			}
		}
	}()
	tt.build(t, p)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return "", p.Execute(ctx)
}

// keep keeps the logs of a plan that succeeds.
var keep = []proctest.Option{proctest.KeepLogs()}

// spawnTrue builds a plan that would run: true, then wait for it.
func spawnTrue(t *testing.T, p *proctest.Plan) {
	p.Wait(p.Spawn("true"), 0)
}

// sayHi is a Go step that prints "hi".
func sayHi(ctx context.Context) error {
	_, err := fmt.Fprintln(proctest.Stdout(ctx), "hi")
	return err
}

// writeFile writes a file named name in dir and returns its path.
func writeFile(t *testing.T, dir, name, content string, mode os.FileMode) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	return path
}

// fails returns the check that err holds an E (found with errors.As) whose
// text says text.
func fails[E error](text string) func(t *testing.T, err error) {
	return func(t *testing.T, err error) {
		t.Helper()
		var target E
		if err == nil {
			t.Errorf("no error, want a %T saying %q", target, text)
			return
		}
		if !errors.As(err, &target) {
			t.Errorf("no %T in the error, want one saying %q; the error:\n%v", target, text, err)
			return
		}
		found := allAs[E](err)
		for _, e := range found {
			if strings.Contains(e.Error(), text) {
				return
			}
		}
		var texts []string
		for _, e := range found {
			texts = append(texts, strconv.Quote(e.Error()))
		}
		t.Errorf("no %T says %q; they say:\n%s\nthe error:\n%v", target, text, strings.Join(texts, "\n"), err)
	}
}

// allAs returns every error of type E in the tree of err.
func allAs[E error](err error) []E {
	var found []E
	if e, ok := err.(E); ok {
		found = append(found, e)
	}
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		if next := u.Unwrap(); next != nil {
			found = append(found, allAs[E](next)...)
		}
	case interface{ Unwrap() []error }:
		for _, next := range u.Unwrap() {
			found = append(found, allAs[E](next)...)
		}
	}
	return found
}

// succeeds checks that the plan succeeded.
func succeeds(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Errorf("plan failed, want it to succeed:\n%v", err)
	}
}

// checkLogRoot checks that the log root holds nothing or, if kept is set,
// nothing but the plan's log directory dir (when dir is not known, one
// proctest-* directory). A plan that failed after making its log
// directory must have kept it there.
func checkLogRoot(t *testing.T, root, dir string, kept, failed bool) {
	t.Helper()
	ents, err := os.ReadDir(root)
	if err != nil && !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) {
		t.Errorf("cannot read the log root: %v", err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	switch {
	case !kept && len(names) > 0:
		t.Errorf("log root %s holds %q, want nothing", root, names)
	case kept && failed && dir != "" && (len(names) != 1 || filepath.Join(root, names[0]) != dir):
		t.Errorf("log root %s holds %q, want only the plan's kept log directory %s", root, names, dir)
	case kept && len(names) > 1:
		t.Errorf("log root %s holds %q, want only the plan's log directory", root, names)
	case kept && len(names) == 1 && dir != "" && filepath.Join(root, names[0]) != dir:
		t.Errorf("log root %s holds %q, want only the plan's log directory %s", root, names, dir)
	case kept && len(names) == 1 && (!ents[0].IsDir() || !strings.HasPrefix(names[0], "proctest-")):
		t.Errorf("log root %s holds %q, want only a proctest-* directory", root, names)
	}
}

// logsInside returns the check that the plan's single process wrote its
// logs <name>.stdout, holding stdout, and <name>.stderr in the plan's log
// directory, under a plain file name, and that no other file was written
// anywhere near the log root.
func logsInside(stdout string) func(t *testing.T, root, dir string) {
	plain := regexp.MustCompile(`^[A-Za-z0-9_+-][A-Za-z0-9._+-]*$`)
	return func(t *testing.T, root, dir string) {
		t.Helper()
		var names []string
		near := filepath.Dir(root) // a directory of its own
		filepath.WalkDir(near, func(path string, d fs.DirEntry, err error) error {
			switch {
			case err != nil:
				t.Errorf("walk: %v", err)
			case d.IsDir():
			case filepath.Dir(path) == dir && d.Name() == "timeline.html":
				// The page of a plan whose logs are kept.
			case filepath.Dir(path) != dir:
				t.Errorf("file %s is outside the log directory %s", path, dir)
			default:
				names = append(names, d.Name())
			}
			return nil
		})
		if len(names) != 2 {
			t.Fatalf("log directory holds %q, want <name>.stdout and <name>.stderr", names)
		}
		slices.Sort(names)
		name := strings.TrimSuffix(names[0], ".stderr")
		if !plain.MatchString(name) || name == "." || name == ".." || names[1] != name+".stdout" {
			t.Errorf("log files %q are not <name>.stderr and <name>.stdout with a plain name", names)
		}
		if b, err := os.ReadFile(filepath.Join(dir, name+".stdout")); err != nil || string(b) != stdout {
			t.Errorf("%s.stdout = %q, %v, want %q", name, b, err, stdout)
		}
	}
}

// Running out of processes. The kernel never applies RLIMIT_NPROC to root,
// so the case runs a helper program as the unprivileged user nobody, which
// lowers its own limit and runs a plan of many sleeps. The limit counts
// every task (process or thread) of the user, the helper's threads
// included, and the Go runtime dies if it cannot make a thread it needs:
// so the helper makes spare threads first, then counts the user's tasks,
// then sets the limit a few above that.

const (
	nobody = 65534
	// nprocRoom is how many more tasks the limit lets the user have: the
	// number of sleeps that can start.
	nprocRoom = 4
	// nprocSleeps is how many sleeps the plan tries to start.
	nprocSleeps = 20
)

// nprocResult is what the helper tells the test.
type nprocResult struct {
	Uid   int   // the helper's
	Tasks int   // the user's tasks before the limit
	Limit int   // the limit set
	Pids  []int // the sleeps that started
	// LogDir is the plan's kept log directory.
	LogDir string
	// Error is the text of the plan's error.
	Error string
	// Start holds the fields of the StartError in it, if any, with the
	// text of its Err.
	Start *struct{ Proc, Step, Where, Err string }
}

var nprocHelper = proctest.Helper("badinput-nproc", func(args []string) int {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// A first plan starts the guard process, before the limit.
	w := proctest.New("warm-up")
	w.Wait(w.Spawn("true"), 0)
	if err := w.Execute(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	spareThreads(32)
	time.Sleep(50 * time.Millisecond) // for the guard to settle
	res := nprocResult{Uid: os.Getuid(), Tasks: userTasks(os.Getuid())}
	res.Limit = res.Tasks + nprocRoom
	if err := limitProcesses(res.Limit); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}

	p := proctest.New("out-of-processes")
	argvs := make([][]string, nprocSleeps)
	for i := range argvs {
		argvs[i] = []string{"sleep", "60"}
	}
	sleeps := p.SpawnPar(argvs...)
	for _, s := range sleeps {
		p.Kill(s)
	}
	err := p.Execute(ctx)
	for _, s := range sleeps {
		if s.Pid() != 0 {
			res.Pids = append(res.Pids, s.Pid())
		}
	}
	var pe *proctest.PlanError
	if errors.As(err, &pe) {
		res.LogDir = pe.LogDir
	}
	var se *proctest.StartError
	if errors.As(err, &se) {
		res.Start = &struct{ Proc, Step, Where, Err string }{se.Proc, se.Step, se.Where, se.Err.Error()}
	}
	if err != nil {
		res.Error = err.Error()
	}
	if err := json.NewEncoder(os.Stdout).Encode(res); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	// Stay until the test has looked for the sleeps: once this process
	// is gone, they would die with it anyway.
	io.Copy(io.Discard, os.Stdin)
	return 0
})

// spareThreads makes the Go runtime create n threads, which it keeps idle
// for later use.
func spareThreads(n int) {
	var locked, done sync.WaitGroup
	release := make(chan struct{})
	for range n {
		locked.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			runtime.LockOSThread()
			locked.Done()
			<-release
			runtime.UnlockOSThread()
		}()
	}
	locked.Wait()
	close(release)
	done.Wait()
}

// userTasks returns how many tasks (threads) the processes whose real
// user id is uid have.
func userTasks(uid int) int {
	ents, _ := os.ReadDir("/proc")
	n := 0
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/status")
		if err != nil {
			continue
		}
		owner, threads := -1, 0
		for _, line := range strings.Split(string(b), "\n") {
			if f := strings.Fields(line); len(f) >= 2 {
				switch f[0] {
				case "Uid:":
					owner, _ = strconv.Atoi(f[1])
				case "Threads:":
					threads, _ = strconv.Atoi(f[1])
				}
			}
		}
		if owner == uid {
			n += threads
		}
	}
	return n
}

// nobodyDir makes a directory that user nobody can reach: base (mode
// 0755, removed at cleanup) holding home and logs, which nobody owns, and
// bin, for the helper. It returns logs, the log root.
func nobodyDir(t *testing.T) string {
	base, err := os.MkdirTemp("", "badinput-nproc-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"bin", "home", "logs"} {
		if err := os.Mkdir(filepath.Join(base, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []string{"home", "logs"} {
		if err := os.Chown(filepath.Join(base, d), nobody, nobody); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(base, "logs")
}

// outOfProcesses runs the helper as user nobody with its logs under root,
// checks that none of the sleeps it started survives its plan and that it
// exits cleanly, and returns the plan's log directory and its StartError,
// rebuilt from what the helper says.
func outOfProcesses(t *testing.T, root string) (string, error) {
	base := filepath.Dir(root)
	home := filepath.Join(base, "home")
	// The test binary is in a directory only root can reach: copy it.
	bin := filepath.Join(base, "bin", "proctest.test")
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if err := copyFile(exe, bin); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin)
	cmd.Dir = home
	cmd.Env = []string{
		"PATH=/usr/local/bin:/usr/bin:/bin",
		"HOME=" + home, "TMPDIR=" + home, "PROCTEST_LOGDIR=" + root,
		"PROCTEST_HELPER=" + nprocHelper.Name(),
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	dieWithParent(cmd.SysProcAttr)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var res nprocResult
	line, readErr := bufio.NewReader(stdout).ReadBytes('\n')
	if readErr == nil {
		readErr = json.Unmarshal(line, &res)
	}
	if readErr == nil {
		for _, s := range survivors(cmd.Process.Pid, res.Pids) {
			t.Errorf("a sleep the plan started survived it: %s", s)
		}
	}
	stdin.Close()
	waitErr := cmd.Wait()
	if readErr != nil {
		t.Fatalf("helper said %q (%v); exit: %v; stderr:\n%s", line, readErr, waitErr, stderr.String())
	}
	if waitErr != nil || stderr.Len() > 0 {
		t.Errorf("helper did not exit cleanly: %v; stderr:\n%s", waitErr, stderr.String())
	}
	t.Logf("user %d had %d tasks, limit %d; sleeps started: %v", res.Uid, res.Tasks, res.Limit, res.Pids)
	if res.Uid != nobody {
		t.Errorf("helper ran as user %d, want %d", res.Uid, nobody)
	}
	if len(res.Pids) == 0 {
		t.Errorf("no sleep started: whether those started are stopped is untested")
	}
	switch {
	case res.Start != nil:
		// The same error, with the same text.
		s := res.Start
		return res.LogDir, &proctest.StartError{Proc: s.Proc, Step: s.Step, Where: s.Where, Err: errors.New(s.Err)}
	case res.Error != "":
		return res.LogDir, errors.New(res.Error)
	}
	return res.LogDir, nil
}

// survivors describes the processes left by the plans of the helper whose
// pid is helper: those of pids still its children, running or not reaped,
// and any process marked with one of its plans.
func survivors(helper int, pids []int) []string {
	var left []string
	for _, pid := range pids {
		if parentOf(pid) == helper {
			left = append(left, fmt.Sprintf("pid %d %q, still a child of the helper", pid, cmdline(pid)))
		}
	}
	mark := fmt.Sprintf("PROCTEST_PLAN=%d.", helper)
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || !alive(pid) {
			continue
		}
		env, _ := os.ReadFile("/proc/" + e.Name() + "/environ")
		if strings.Contains(string(env), mark) {
			left = append(left, fmt.Sprintf("pid %d %q, marked %s", pid, cmdline(pid), mark))
		}
	}
	return left
}

// copyFile copies the file src to dst, with mode 0755.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
