package proctest

import (
	"context"
	"fmt"
	"io"
	"os/exec"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// A Status is how a process ended: an exit code, or death by a signal.
// The zero Status is a successful exit.
type Status struct {
	// Code is the exit code. It is meaningful only when Signal is 0.
	Code int
	// Signal is the signal that ended the process, or 0 if it exited.
	Signal syscall.Signal
}

// String returns "exit N" or "signal NAME", as in "exit 1" or
// "signal SIGTERM".
func (s Status) String() string {
	if s.Signal != 0 {
		return "signal " + signalName(s.Signal)
	}
	return fmt.Sprintf("exit %d", s.Code)
}

// MarshalJSON writes s as {"code":N} or {"signal":"SIGTERM"}.
func (s Status) MarshalJSON() ([]byte, error) {
	if s.Signal != 0 {
		return []byte(`{"signal":"` + signalName(s.Signal) + `"}`), nil
	}
	return []byte(fmt.Sprintf(`{"code":%d}`, s.Code)), nil
}

// signalName returns the conventional name of sig, such as "SIGTERM".
func signalName(sig syscall.Signal) string {
	if name := unix.SignalName(sig); name != "" {
		return name
	}
	return fmt.Sprintf("signal %d", int(sig))
}

// An Exit is the expected end of one process, built with [Proc.Exits] or
// [Proc.Dies] and passed to [Plan.WaitPar] or [Plan.Kill].
type Exit struct {
	proc *Proc
	want Status
}

// Proc returns the process the expectation is about.
func (e Exit) Proc() *Proc { return e.proc }

// Status returns the expected status.
func (e Exit) Status() Status { return e.want }

func (Exit) killArg() {}

// A Proc is a process of a plan: a program started by [Plan.Spawn] or
// [Plan.SpawnPar], or a function started by [Plan.Go]. Its settings are
// plain fields, read when the process starts; set them while building the
// plan, before [Plan.Execute].
type Proc struct {
	// Env holds environment variables ("KEY=value") added to the
	// environment the plan gives the process; later entries win.
	// With Env nil the process gets the plan's environment unchanged.
	Env []string
	// Dir is the working directory. With Dir empty the process runs in
	// the plan's working directory (see [Plan.Dir]).
	Dir string
	// Stdin is the process's standard input. With Stdin nil it reads
	// from the null device. An *os.File is passed to the process as is;
	// any other reader is copied to it through a pipe, by the plan: the
	// process's end is seen when it ends, even if a child of it holds
	// stdin open, and the copy stops at the end of the plan.
	Stdin io.Reader
	// Setup, if not nil, is called with the command just before a local
	// process starts, to adjust what the plan has no setting for. It must
	// not change Stdout, Stderr or Process-group settings.
	Setup func(*exec.Cmd)

	plan *Plan
	name string
	args []string // as given: args[0] is the command
	path string   // resolved at validation
	fn   func(ctx context.Context) error
	// helper is set for a Go helper program: the running binary.
	helper bool
	where  string // where the test created it
	host   *Host  // the host it runs on; nil for this machine
	// pausable is set by validation when a step pauses the process.
	pausable bool

	pid atomic.Int64

	// runs holds, for each run of the process (its spawn, then each
	// restart), the output waits on its stdout and stderr; runFrom, the
	// step that starts each run.
	runs    [][2][]*outWait
	runFrom []*Step
	// ref is set for a stand-in made by Plan.Which: the process is the
	// one the variable names when a step using it runs.
	ref *procRef
	// streams are the watched outputs of the current run.
	streams [2]*watchedStream

	// run-time state, owned by the executor goroutine
	handle   Task
	running  bool
	paused   bool
	exited   chan struct{} // closed when the current run has ended
	status   Status
	endedAt  time.Duration
	killedBy string // how the plan ended it, for the report
	awaited  bool   // a wait or kill step accounted for the end of its run
	starts   int

	// Go steps only
	cancel context.CancelFunc
	goMu   sync.Mutex
	goKill syscall.Signal // set when Kill cancelled the context
}

// Name returns the process's name in the plan: the command's base name,
// made safe as a file name and unique in the plan (echo, echo-1, ...).
// Its logs are <name>.stdout and <name>.stderr.
func (p *Proc) Name() string { return p.name }

// Pid returns the process id once the process has started, and 0 before.
// A Go step has no process id: its Pid is always 0. After a restart it is
// the new process's id.
func (p *Proc) Pid() int { return int(p.pid.Load()) }

// Args returns the command and its arguments as given to the plan; nil
// for a Go step.
func (p *Proc) Args() []string { return append([]string(nil), p.args...) }

// Exits returns the expectation that p exits with code.
func (p *Proc) Exits(code int) Exit { return Exit{proc: p, want: Status{Code: code}} }

// Dies returns the expectation that p is ended by the signal sig.
func (p *Proc) Dies(sig syscall.Signal) Exit { return Exit{proc: p, want: Status{Signal: sig}} }

// isGo reports whether p is a Go step rather than a program.
func (p *Proc) isGo() bool { return p.fn != nil }

// label names p for messages: "server (pid 4242)".
func (p *Proc) label() string {
	if pid := p.Pid(); pid != 0 {
		return fmt.Sprintf("%s (pid %d)", p.name, pid)
	}
	return p.name
}
