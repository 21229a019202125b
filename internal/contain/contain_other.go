//go:build unix && !linux

package contain

import (
	"errors"
	"syscall"
	"time"
)

// A Plan is the containment of one plan's processes: off Linux, the
// process group of each process, nothing more.
type Plan struct{}

// NewPlan sets up the containment of a plan. Off Linux only process groups
// are available: a descendant that leaves its group is not found.
func NewPlan(cookie string) (p *Plan, layers []string, missing []error) {
	return &Plan{}, []string{"process groups"}, nil
}

// Prepare gives the process a process group of its own.
func (p *Plan) Prepare(name string, attr *syscall.SysProcAttr, own bool) error {
	attr.Setpgid = true
	attr.Pgid = 0
	return nil
}

// Started records that the process named name runs as pid.
func (p *Plan) Started(name string, pid int) {}

// Pause stops the process group of pid with SIGSTOP.
func (p *Plan) Pause(name string, pid int) error { return signalGroup(pid, syscall.SIGSTOP) }

// Resume continues the process group of pid with SIGCONT.
func (p *Plan) Resume(name string, pid int) error { return signalGroup(pid, syscall.SIGCONT) }

func signalGroup(pid int, sig syscall.Signal) error {
	if err := syscall.Kill(-pid, sig); err != nil {
		return syscall.Kill(pid, sig)
	}
	return nil
}

// End finds nothing: off Linux, what leaves its process group is not
// tracked.
func (p *Plan) End(grace time.Duration) []Found { return nil }

// StartGuard does nothing off Linux.
func StartGuard() error { return nil }

// AddReaper fails off Linux: there is no guard to run reapers.
func AddReaper(env string) error {
	return errors.New("no guard runs reapers off Linux")
}

// RunGuardIfAsked returns at once off Linux.
func RunGuardIfAsked() {}

// Cmdline returns "" off Linux.
func Cmdline(pid int) string { return "" }

// WaitExited returns at once off Linux: the process is reaped by Wait
// alone, and a signal sent in that instant could reach a reused pid.
func WaitExited(pid int) {}

// Cgroup returns "": off Linux there are no cgroups.
func (p *Plan) Cgroup() string { return "" }

// Tags returns nothing off Linux.
func Tags(pid int) (plan, proc string) { return "", "" }
