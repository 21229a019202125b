package proctest

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/proctest/proctest/internal/contain"
	"github.com/proctest/proctest/internal/netns"
)

// Local is the default [Backend]: it runs programs on this machine with
// os/exec, each in a process group of its own so that signals reach its
// children too. What contains them depends on the machine, strongest
// first: on Linux a cgroup per plan where cgroup v2 is writable, this
// program as the child subreaper of every orphan, environment tags, and a
// guard process for when this program is killed; elsewhere process groups
// only. The plan's first event says which are in force. See the package
// documentation, "Containment".
var Local Backend = localBackend{}

type localBackend struct{}

// LookPath implements [Backend] with exec.LookPath.
func (localBackend) LookPath(file string) (string, error) { return exec.LookPath(file) }

// Open implements [Backend].
func (localBackend) Open(ctx context.Context, info PlanInfo) (Session, error) {
	report := info.Report
	if report == nil {
		report = func(string, bool) {}
	}
	c, layers, missing := contain.NewPlan(info.ID)
	report("containment: "+strings.Join(layers, ", "), false)
	for _, err := range missing {
		report(err.Error(), true)
	}
	if err := contain.StartGuard(); err != nil {
		report(err.Error(), true)
	}
	env := append(os.Environ(), contain.PlanEnv+"="+info.ID)
	return &localSession{contain: c, env: env[:len(env):len(env)]}, nil
}

// localSession is one plan's use of Local.
type localSession struct {
	contain *contain.Plan
	env     []string // the environment every process starts from
	// network holds the plan's hosts, made at the first.
	network *netns.Network
}

// LookPath implements [Session] with exec.LookPath.
func (s *localSession) LookPath(file string) (string, error) { return exec.LookPath(file) }

// Start implements [Session].
func (s *localSession) Start(c *Command) (Task, error) {
	cmd := s.command(c)
	if err := s.contain.Prepare(c.Name, cmd.SysProcAttr, c.Pausable); err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s.contain.Started(c.Name, cmd.Process.Pid)
	return &localTask{cmd: cmd, name: c.Name, contain: s.contain}, nil
}

// command returns the exec.Cmd for c.
func (s *localSession) command(c *Command) *exec.Cmd {
	env := append(s.env, c.Env...)
	cmd := &exec.Cmd{
		Path:   c.Path,
		Args:   c.Args,
		Env:    append(env, contain.ProcEnv+"="+c.Name),
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
	return cmd
}

// DialContext implements [Session] with a net.Dialer, or, for an address
// of the plan's hosts, from the control point of their network.
func (s *localSession) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	if s.network != nil {
		if ap, err := netip.ParseAddrPort(addr); err == nil && s.network.Prefix().Contains(ap.Addr()) {
			return s.network.DialContext(ctx, network, addr)
		}
	}
	var d net.Dialer
	return d.DialContext(ctx, network, addr)
}

// Stat implements [Session] with os.Stat.
func (s *localSession) Stat(name string) (fs.FileInfo, error) { return os.Stat(name) }

// FreePorts implements [Session]: ports free on 127.0.0.1, each held
// until all are taken so that no two are the same. They are taken below
// the kernel's range of ephemeral ports, where it can: a port from that
// range could be handed, once released, to any program that binds port
// 0, such as a server of the plan started before the one the port is
// for.
func (s *localSession) FreePorts(n int) ([]int, error) {
	var ports []int
	lo := ephemeralLow()
	for len(ports) < n {
		var l net.Listener
		var err error
		for try := 0; try < 50 && lo-minFreePort > n; try++ {
			port := minFreePort + rand.IntN(lo-minFreePort)
			if l, err = net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
				break
			}
		}
		if l == nil {
			// No room below the range, or no luck there.
			if l, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
				return nil, err
			}
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// minFreePort is the lowest port FreePorts gives: above those that
// services commonly use.
const minFreePort = 10000

// ephemeralLow returns the lowest port of the kernel's ephemeral range,
// or 0 if it cannot be read.
func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	n, err := strconv.Atoi(f[0])
	if err != nil {
		return 0
	}
	return n
}

// leftoverGrace is how long a process found at the end of a plan has to
// end by itself before it counts as left behind: it may be dying of a
// signal the plan sent its process group a moment ago.
const leftoverGrace = 200 * time.Millisecond

// Close implements [Session].
func (s *localSession) Close() ([]Leftover, error) {
	left, err := s.closeHosts()
	for _, f := range s.contain.End(leftoverGrace) {
		left = append(left, Leftover{Name: f.Name, Pid: f.Pid, Command: f.Cmd, Descendant: true, Stopped: "SIGKILL"})
	}
	return left, err
}

// localTask is a program started by Local.
type localTask struct {
	cmd     *exec.Cmd
	name    string
	contain *contain.Plan

	mu     sync.Mutex
	exited bool // set once the process is a zombie, before it is reaped
}

// Pid returns the process id.
func (t *localTask) Pid() int { return t.cmd.Process.Pid }

// Signal signals the process group, or the process alone if it left its
// group. Holding mu while the process is known not to be reaped means its
// pid (and so its group id) cannot have been reused.
func (t *localTask) Signal(sig syscall.Signal) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.exited {
		return os.ErrProcessDone
	}
	if err := syscall.Kill(-t.Pid(), sig); err == nil {
		return nil
	}
	return syscall.Kill(t.Pid(), sig)
}

// Pause freezes the process's cgroup, or stops its process group.
func (t *localTask) Pause() error { return t.freeze(true) }

// Resume undoes Pause.
func (t *localTask) Resume() error { return t.freeze(false) }

func (t *localTask) freeze(on bool) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.exited {
		return os.ErrProcessDone
	}
	if on {
		return t.contain.Pause(t.name, t.Pid())
	}
	return t.contain.Resume(t.name, t.Pid())
}

// Wait first waits without reaping, so that Signal can tell an ended
// process from a reused pid, then reaps.
func (t *localTask) Wait() (Status, error) {
	contain.WaitExited(t.Pid())
	t.mu.Lock()
	t.exited = true
	t.mu.Unlock()
	err := t.cmd.Wait()
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		return Status{}, err
	}
	ws, ok := t.cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !ok {
		return Status{}, fmt.Errorf("unknown wait status %v", t.cmd.ProcessState)
	}
	if ws.Signaled() {
		return Status{Signal: ws.Signal()}, nil
	}
	return Status{Code: ws.ExitStatus()}, nil
}
