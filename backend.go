package proctest

import (
	"context"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"syscall"
)

// A Backend runs the programs of plans. The plan decides what to start and
// when, and accounts for every exit; the backend decides where and how a
// program runs and what contains it. [Local], the default, runs programs
// on this machine; other backends run them in network namespaces or
// containers without changing what a plan means. Backends live in their
// own packages, which import this one.
type Backend interface {
	// LookPath resolves a command the way the process will be started,
	// as exec.LookPath does. It is called for every program of a plan
	// while the plan is checked, before anything starts.
	LookPath(file string) (string, error)
	// Open prepares the backend for one plan, when the plan starts and
	// before its first step. The plan calls Close on the session it
	// returns when it ends.
	Open(ctx context.Context, plan PlanInfo) (Session, error)
}

// PlanInfo describes the plan a [Backend] is opened for.
type PlanInfo struct {
	// Name is the plan's name.
	Name string
	// ID is unique to the plan on this machine, for the backend to
	// label what it makes.
	ID string
	// LogDir is the plan's log directory.
	LogDir string
	// Report, if not nil, is called with what the backend wants said at
	// the start of the plan: how it contains the processes, and
	// warnings about what it lacks.
	Report func(msg string, warning bool)
}

// A Session is a [Backend] opened for one plan. The plan calls its
// methods from one goroutine, except Task methods and DialContext, which
// may be called from any.
type Session interface {
	// LookPath resolves a command that was not found when the plan was
	// checked, just before it starts.
	LookPath(file string) (string, error)
	// Start starts cmd. It returns once the program runs (or failed to
	// start), so that a signal sent right after reaches the program.
	Start(cmd *Command) (Task, error)
	// DialContext connects to addr as a program of the plan would, for
	// readiness waits.
	DialContext(ctx context.Context, network, addr string) (net.Conn, error)
	// Stat returns information about a file as a program of the plan
	// would see it, for readiness waits.
	Stat(name string) (fs.FileInfo, error)
	// FreePorts returns n distinct TCP ports that are free now.
	FreePorts(n int) ([]int, error)
	// Close ends what the plan's programs left running and releases what
	// the session holds. It is called once, after every started Task
	// has been waited for, and returns the processes it had to end.
	Close() ([]Leftover, error)
}

// A Command is what a [Session] is asked to start.
type Command struct {
	// Name is the plan's name of the process.
	Name string
	// Path is the program, as resolved by LookPath.
	Path string
	// Args holds the command line, Args[0] included.
	Args []string
	// Env holds the variables the plan sets ("KEY=value"), to add to
	// the backend's own environment (for Local, this program's); later
	// entries win.
	Env []string
	// Dir is the working directory; empty means the backend's default.
	Dir string
	// Stdin is the standard input; nil means the null device. The plan
	// gives a file: a reader that is not one ([Proc.Stdin]) is copied by
	// the plan into a pipe, whose read end is given here, so that the
	// copy is no part of the process's life.
	Stdin io.Reader
	// Stdout and Stderr receive the output. They are the plan's log
	// files (or pipes to them when output is watched). A backend on this
	// machine gives them to the program as its own descriptors; another
	// copies the program's output into them.
	Stdout, Stderr *os.File
	// Setup, if not nil, adjusts a local command before it starts.
	// Backends that do not start programs with os/exec reject it.
	Setup func(*exec.Cmd)
}

// A Task is a program started by a [Session]: a running process as the
// backend sees it. (The plan's view of it, with its name, logs and
// expected end, is a [Proc].)
type Task interface {
	// Pid returns the process id.
	Pid() int
	// Signal sends sig to the process and the processes of its process
	// group. It returns os.ErrProcessDone once the process has ended.
	Signal(sig syscall.Signal) error
	// Pause stops the process and its descendants until Resume.
	Pause() error
	// Resume undoes Pause.
	Resume() error
	// Wait waits for the process to end and releases it. It is called
	// exactly once.
	Wait() (Status, error)
}

// WithBackend makes the plan run its programs with b instead of [Local].
func WithBackend(b Backend) Option {
	return optionFunc(func(c *config) { c.backend = b })
}
