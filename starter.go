package proctest

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// A Starter starts the programs of a plan. The plan decides what to start
// and when, and accounts for every exit; the Starter decides where and how
// a program runs. The default runs it on this machine; other Starters can
// run it in another network namespace or a container without changing what
// a plan means.
type Starter interface {
	// LookPath resolves a command the way the process will be started,
	// as exec.LookPath does. It is called for every program of a plan
	// before anything starts.
	LookPath(file string) (string, error)
	// Start starts cmd. It returns once the program runs (or failed to
	// start), so that a signal sent right after reaches the program.
	Start(cmd *Command) (Process, error)
}

// A Command is what a [Starter] is asked to start.
type Command struct {
	// Path is the program, as resolved by the Starter's LookPath.
	Path string
	// Args holds the command line, Args[0] included.
	Args []string
	// Env is the complete environment.
	Env []string
	// Dir is the working directory; empty means the current one.
	Dir string
	// Stdin is the standard input; nil means the null device.
	Stdin io.Reader
	// Stdout and Stderr receive the output. They are the plan's log
	// files (or pipes to them when output is watched) and must be given
	// to the program as its own descriptors.
	Stdout, Stderr *os.File
	// Setup, if not nil, adjusts a local command before it starts.
	Setup func(*exec.Cmd)
}

// A Process is a started program, as seen by the plan.
type Process interface {
	// Pid returns the process id.
	Pid() int
	// Signal sends sig to the process and the processes of its process
	// group. It returns os.ErrProcessDone once the process has ended.
	Signal(sig syscall.Signal) error
	// Wait waits for the process to end and releases it. It is called
	// exactly once.
	Wait() (Status, error)
}

// LocalStarter starts programs on this machine with os/exec. Each program
// runs in a process group of its own, so that signals reach its children
// too, and is killed if the starting process dies.
type LocalStarter struct{}

// LookPath implements [Starter] with exec.LookPath.
func (LocalStarter) LookPath(file string) (string, error) { return exec.LookPath(file) }

// Start implements [Starter].
func (LocalStarter) Start(c *Command) (Process, error) {
	cmd := &exec.Cmd{
		Path:   c.Path,
		Args:   c.Args,
		Env:    c.Env,
		Dir:    c.Dir,
		Stdin:  c.Stdin,
		Stdout: c.Stdout,
		Stderr: c.Stderr,
	}
	if c.Setup != nil {
		c.Setup(cmd)
	}
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	cmd.SysProcAttr.Pgid = 0
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return &localProcess{cmd: cmd}, nil
}

// localProcess is a program started by LocalStarter.
type localProcess struct {
	cmd *exec.Cmd

	mu     sync.Mutex
	exited bool // set once the process is a zombie, before it is reaped
}

// Pid returns the process id.
func (p *localProcess) Pid() int { return p.cmd.Process.Pid }

// Signal signals the process group, or the process alone if it left its
// group. Holding mu while the process is known not to be reaped means its
// pid (and so its group id) cannot have been reused.
func (p *localProcess) Signal(sig syscall.Signal) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.exited {
		return os.ErrProcessDone
	}
	if err := unix.Kill(-p.Pid(), sig); err == nil {
		return nil
	}
	return unix.Kill(p.Pid(), sig)
}

// Wait first waits without reaping, so that Signal can tell an ended
// process from a reused pid, then reaps.
func (p *localProcess) Wait() (Status, error) {
	var info unix.Siginfo
	for {
		err := unix.Waitid(unix.P_PID, p.Pid(), &info, unix.WEXITED|unix.WNOWAIT, nil)
		if err != unix.EINTR {
			break
		}
	}
	p.mu.Lock()
	p.exited = true
	p.mu.Unlock()
	err := p.cmd.Wait()
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		return Status{}, err
	}
	ws := p.cmd.ProcessState.Sys().(syscall.WaitStatus)
	if ws.Signaled() {
		return Status{Signal: ws.Signal()}, nil
	}
	return Status{Code: ws.ExitStatus()}, nil
}
