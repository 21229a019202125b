package proctest

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"syscall"

	"github.com/proctest/proctest/internal/contain"
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
	// Pausable is set when the plan may pause the process: a backend
	// that can freeze a process with its descendants prepares for it.
	Pausable bool
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

// RegisterReaper asks the guard, the copy of this program that cleans up
// after it (see "Containment" in the package documentation), to run this
// program once more when it has ended, with env ("KEY=value") added to
// its environment: for a backend whose plans make what the guard cannot
// kill, such as containers. The package that registers env must
// recognise it in an init function, remove what this program made (found
// by the labels it put on them), and exit, so that nothing else of the
// program runs. The guard runs each env once, after this program ended,
// normally or by SIGKILL, and after it killed the plans' processes; it
// gives it a minute. There is no guard off Linux: there it returns an
// error.
func RegisterReaper(env string) error {
	if err := contain.AddReaper(env); err != nil {
		return fmt.Errorf("proctest: %w", err)
	}
	return nil
}

// WithBackend makes the plan run its programs with b instead of [Local].
func WithBackend(b Backend) Option {
	return optionFunc(func(c *config) { c.backend = b })
}

// A HostSession is a [Session] that can also make hosts: machines of the
// plan with an address of their own, whose processes can be paused,
// killed and restarted together. A plan with hosts needs one.
type HostSession interface {
	Session
	// AddHost makes and starts a host. Hosts are added in the order the
	// plan declares them, before its first step.
	AddHost(ctx context.Context, spec HostSpec) (HostHandle, error)
}

// A HostsSession is a [HostSession] that makes several hosts at once,
// faster than one after the other (containers, whose starts take the
// engine's time). A plan whose session is one makes all its hosts with
// one call of AddHosts, instead of AddHost for each.
type HostsSession interface {
	HostSession
	// AddHosts makes and starts the hosts of specs, given in the order
	// the plan declares them, and returns their handles in that order.
	// Its error names the hosts that failed. Hosts made before an error
	// are ended by Close.
	AddHosts(ctx context.Context, specs []HostSpec) ([]HostHandle, error)
}

// HostSpec describes a host to make.
type HostSpec struct {
	// Name is the host's name in the plan.
	Name string
	// Dir is the host's own directory, kept across restarts.
	Dir string
}

// A HostHandle is one host of a [HostSession].
type HostHandle interface {
	// Addr is the host's address, the same across restarts.
	Addr() netip.Addr
	// Start starts cmd on the host, as [Session.Start] does.
	Start(cmd *Command) (Task, error)
	// DialContext connects from inside the host.
	DialContext(ctx context.Context, network, addr string) (net.Conn, error)
	// Pause freezes every process of the host; it says how.
	Pause(ctx context.Context) (how string, err error)
	// Resume undoes Pause.
	Resume(ctx context.Context) error
	// Kill kills every process of the host with SIGKILL; it says how.
	// Their Tasks' Wait report it.
	Kill() (how string, err error)
	// Wait waits until a killed host is gone. It is called once the
	// Tasks of its processes have been waited for.
	Wait(ctx context.Context) error
	// Restart brings a killed host back, with the same name, address and
	// directory and no processes.
	Restart(ctx context.Context) error
}

// A HostNamer is a [HostHandle] whose host has a name that the plan's
// processes on its other hosts can resolve and connect to, as a container
// has on a network with a name service of its own. "{{NAME.host}}" is
// that name; for a host whose handle is not a HostNamer (or gives an empty
// name), it is the host's address.
type HostNamer interface {
	// HostName returns the host's name, the same across restarts.
	HostName() string
}

// A Feature is something a plan may need of its backend.
type Feature string

// The features a plan may need.
const (
	// FeatureHosts: hosts with addresses of their own ([Plan.Host]).
	FeatureHosts Feature = "hosts"
	// FeatureDelay: packet delay between hosts ([Delay]).
	FeatureDelay Feature = "delay"
)

// A NetSession is a [HostSession] whose network between hosts can be
// changed: partitions, loss and rate limits.
type NetSession interface {
	HostSession
	// Apply makes the network match s, for every host at once as far as
	// the backend can.
	Apply(ctx context.Context, s NetState) error
}

// NetState is what the network does to the packets between a plan's
// hosts, named by their names. The zero NetState is a healthy network.
// Every fault acts at the receiving host.
type NetState struct {
	// Drop maps a host to the hosts whose packets it drops, established
	// connections included.
	Drop map[string][]string
	// DropNew maps a host to the hosts whose new connections it drops.
	DropNew map[string][]string
	// Loss maps a link to the fraction of its packets dropped at random.
	Loss map[Link]float64
	// Rate maps a link to the most bits per second it carries.
	Rate map[Link]uint64
}

// A Link is a direction between two hosts; an empty name stands for any
// host.
type Link struct {
	From, To string
}

// A FeatureChecker is a [Backend] that can tell, before a plan starts,
// whether it can do what the plan needs.
type FeatureChecker interface {
	// Supports returns nil if the backend can do f here, or why not.
	Supports(f Feature) error
}

// Supported reports whether the default backend, [Local], can do f on
// this machine, and if not, why: for a test to skip.
func Supported(f Feature) (bool, string) {
	if err := Local.(FeatureChecker).Supports(f); err != nil {
		return false, err.Error()
	}
	return true, ""
}
