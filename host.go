package proctest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// A Host is a machine of the plan: on Linux with root, a network namespace
// with an IPv4 address of its own on a network private to the plan, its
// own loopback and port space, its own PID namespace (whose init reaps
// orphans, and whose end ends every process on it) and its own cgroup.
// Processes started on it with [Host.Spawn] are still direct children of
// the test, with exact exit statuses and logs as for any process.
//
// Hosts are declared while the plan is built and made when it starts,
// before its first step, so that their variables can be used anywhere:
// "{{n1.addr}}" is the address of host n1, "{{n1.host}}" a name of it
// that processes on the other hosts can resolve (the address where the
// backend has no name service, as for namespace hosts), "{{n1.dir}}" a
// directory of its own that survives [Plan.RestartHost]. Readiness waits
// on a host's address dial from a point of the network that no fault
// touches.
//
// A plan with hosts needs a backend that can make them: [Local] can where
// the program runs as root on Linux; otherwise the plan fails before
// anything starts with an [UnsupportedError] ([Supported] tells a test
// beforehand).
type Host struct {
	plan  *Plan
	name  string
	where string
	addr  *Var
	host  *Var // a name the other hosts resolve
	dir   *Var

	// run-time state, owned by the executor goroutine
	handle HostHandle
	down   bool // killed, not restarted
	paused bool
}

// Host declares a host of the plan named name: a lower-case letter, then
// lower-case letters, digits and '_'. The name must not be used by another
// host or a process.
func (p *Plan) Host(name string) *Host {
	h := &Host{plan: p, name: name, where: p.caller()}
	switch {
	case !hostName(name):
		p.misuse("host "+name, "host name %q is not a lower-case letter followed by lower-case letters, digits and '_'", name)
	case p.hostNamed(name) != nil:
		p.misuse("host "+name, "host %s is already declared", name)
	case p.names.used[name]:
		p.misuse("host "+name, "host name %s is already the name of a process", name)
	}
	p.names.unique(name) // no process may take the host's name
	h.addr = p.Var(name + ".addr")
	h.host = p.Var(name + ".host")
	h.dir = p.Var(name + ".dir")
	p.define(h.addr.name)
	p.define(h.host.name)
	p.define(h.dir.name)
	p.hosts = append(p.hosts, h)
	return h
}

// hostName reports whether s can name a host.
func hostName(s string) bool {
	if s == "" || len(s) > 32 || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for _, c := range []byte(s) {
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// hostNamed returns the plan's host named name, or nil.
func (p *Plan) hostNamed(name string) *Host {
	for _, h := range p.hosts {
		if h.name == name {
			return h
		}
	}
	return nil
}

// Name returns the host's name.
func (h *Host) Name() string { return h.name }

// Addr returns the variable holding the host's IPv4 address, set when the
// plan starts: "{{NAME.addr}}".
func (h *Host) Addr() *Var { return h.addr }

// HostName returns the variable holding a name of the host that the
// plan's processes on other hosts can resolve and connect to, set when the
// plan starts: "{{NAME.host}}". Where the backend gives its hosts names,
// as on Docker, where the engine's DNS resolves each host's name, it is
// that name. Namespace hosts have no name service of their own: there it
// is the address, so that a plan that uses it runs unchanged on both.
func (h *Host) HostName() *Var { return h.host }

// Dir returns the variable holding the host's own directory, set when the
// plan starts and kept across restarts of the host: "{{NAME.dir}}".
func (h *Host) Dir() *Var { return h.dir }

// Spawn adds a step that starts command with args on the host, as
// [Plan.Spawn] does on this machine.
func (h *Host) Spawn(command string, args ...string) *Proc {
	return h.on(h.plan.Spawn(command, args...))
}

// SpawnNamed is like [Host.Spawn], naming the process.
func (h *Host) SpawnNamed(name, command string, args ...string) *Proc {
	return h.on(h.plan.SpawnNamed(name, command, args...))
}

// SpawnHelper adds a step that starts the helper hf with args on the host,
// as [Plan.SpawnHelper] does on this machine.
func (h *Host) SpawnHelper(hf *HelperFunc, args ...string) *Proc {
	return h.on(h.plan.SpawnHelper(hf, args...))
}

// on puts proc, just spawned, on h.
func (h *Host) on(proc *Proc) *Proc {
	proc.host = h
	return proc
}

// DialContext connects to addr from inside the host, for Go steps. It
// works while the plan runs and the host is up.
func (h *Host) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	hh := h.handle
	if hh == nil {
		return nil, fmt.Errorf("proctest: dial from host %s: the host is not running", h.name)
	}
	return hh.DialContext(ctx, network, h.plan.expand(addr))
}

// hostStep adds a step acting on host h, checked and run by the given
// functions.
func (p *Plan) hostStep(verb string, h *Host, check func(w *walk, s *Step, bad func(string, ...any)), run func(e *executor, s *Step) error) *Step {
	s := &Step{plan: p, kind: stepHost, where: p.caller(), name: verb}
	switch {
	case h == nil:
		p.errs = append(p.errs, &BuildError{Where: s.where, Step: s.name, Err: errors.New("nil host")})
	case h.plan != p:
		p.errs = append(p.errs, &BuildError{Where: s.where, Step: s.name + " " + h.name,
			Err: fmt.Errorf("host %s belongs to plan %q, not %q", h.name, h.plan.name, p.name)})
	default:
		s.name += " " + h.name
		s.host = h
		s.check, s.run = check, run
	}
	p.steps = append(p.steps, s)
	return s
}

// The words that start the details of host events, which the timeline
// page reads (timeline.go): they are said once, here.
const (
	hostUpAt      = "up at "
	hostPaused    = "paused"
	hostResumed   = "resumed"
	hostKilled    = "killed"
	hostRestarted = "restarted"
)

// KillHost adds a step that kills everything on h with SIGKILL, as a
// machine losing power: each process of the plan running on h is expected
// to die by SIGKILL, and the step waits for that. The host stays down
// until [Plan.RestartHost].
func (p *Plan) KillHost(h *Host) *Step {
	s := p.hostStep("kill-host", h, func(w *walk, s *Step, bad func(string, ...any)) {
		if d := w.hostDown[s.host]; d != nil {
			bad("host %s is already down: %s at %s", s.host.name, d.name, d.where)
			return
		}
		w.hostDown[s.host] = s
		s.exits = nil
		for _, proc := range w.running(s.host) {
			s.exits = append(s.exits, proc.Dies(syscall.SIGKILL))
			w.ended[proc] = s
		}
	}, func(e *executor, s *Step) error {
		h := s.host
		how, err := h.handle.Kill()
		if err != nil {
			return fmt.Errorf("%s%w", prefix(s.where, s.name), err)
		}
		h.down, h.paused = true, false
		for _, x := range s.exits {
			x.proc.killedBy = "KillHost"
		}
		e.emit(Event{Kind: EventHost, Host: h.name, Detail: hostKilled + " (" + how + ")"})
		if err := e.wait(s); err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(e.ctx, e.cfg.stopGrace+5*time.Second)
		defer cancel()
		if err := h.handle.Wait(ctx); err != nil {
			return fmt.Errorf("%s%w", prefix(s.where, s.name), err)
		}
		return nil
	})
	s.kind = stepKill // it awaits the deaths of the host's processes (awaitsExits)
	return s
}

// RestartHost adds a step that brings h back after [Plan.KillHost]: same
// name, address and directory, no processes. Its processes can then be
// started again with [Plan.Restart].
func (p *Plan) RestartHost(h *Host) *Step {
	return p.hostStep("restart-host", h, func(w *walk, s *Step, bad func(string, ...any)) {
		if w.hostDown[s.host] == nil {
			bad("host %s is running: only a killed host can be restarted", s.host.name)
		}
		delete(w.hostDown, s.host)
	}, func(e *executor, s *Step) error {
		if err := s.host.handle.Restart(e.ctx); err != nil {
			return fmt.Errorf("%s%w", prefix(s.where, s.name), err)
		}
		s.host.down = false
		e.emit(Event{Kind: EventHost, Host: s.host.name, Detail: hostRestarted})
		return nil
	})
}

// PauseHost adds a step that freezes every process on h, as a machine that
// stops answering: its processes cannot end while it is paused, and a
// host still paused at the end of the plan is resumed before its
// processes are stopped. (Peers may still complete TCP handshakes with a
// paused host: the kernel answers them.)
func (p *Plan) PauseHost(h *Host) *Step {
	return p.hostStep("pause-host", h, func(w *walk, s *Step, bad func(string, ...any)) {
		if d := w.hostDown[s.host]; d != nil {
			bad("host %s is down: %s at %s", s.host.name, d.name, d.where)
		}
	}, func(e *executor, s *Step) error {
		how, err := s.host.handle.Pause(e.ctx)
		if err != nil {
			return fmt.Errorf("%s%w", prefix(s.where, s.name), err)
		}
		s.host.paused = true
		e.emit(Event{Kind: EventHost, Host: s.host.name, Detail: hostPaused + " (" + how + ")"})
		return nil
	})
}

// ResumeHost adds a step that resumes a host paused by [Plan.PauseHost].
func (p *Plan) ResumeHost(h *Host) *Step {
	return p.hostStep("resume-host", h, func(w *walk, s *Step, bad func(string, ...any)) {
		if d := w.hostDown[s.host]; d != nil {
			bad("host %s is down: %s at %s", s.host.name, d.name, d.where)
		}
	}, func(e *executor, s *Step) error {
		if err := e.resumeHost(s.host); err != nil {
			return fmt.Errorf("%s%w", prefix(s.where, s.name), err)
		}
		return nil
	})
}

// resumeHost resumes h if it is paused.
func (e *executor) resumeHost(h *Host) error {
	if !h.paused {
		return nil
	}
	if err := h.handle.Resume(e.ctx); err != nil {
		return err
	}
	h.paused = false
	e.emit(Event{Kind: EventHost, Host: h.name, Detail: hostResumed})
	return nil
}

// walk is the state of the check of a plan's steps in order.
type walk struct {
	ended    map[*Proc]*Step // which step ended each process
	hostDown map[*Host]*Step // which step killed each host that is down
	errs     *[]error        // the errors found, for a check to add its own
	// maybe holds the processes a step through a variable may have
	// ended or restarted, and restarted those it may have restarted:
	// their state is checked when later steps run.
	maybe, restarted map[*Proc]*Step
}

// running returns the processes on h running at this point of the walk.
func (w *walk) running(h *Host) []*Proc {
	var out []*Proc
	for _, proc := range h.plan.procs {
		if proc.host == h && len(proc.runs) > 0 && w.ended[proc] == nil {
			out = append(out, proc)
		}
	}
	return out
}

// alive reports whether proc is still running at this point of the walk;
// if not, it says which step ended it.
func (w *walk) alive(proc *Proc, bad func(string, ...any)) bool {
	if e := w.ended[proc]; e != nil {
		bad("%s already ended: %s at %s", proc.name, e.name, e.where)
		return false
	}
	return true
}

// checkHostsUp reports the processes step s starts on a host that is
// down at this point of the walk.
func (w *walk) checkHostsUp(s *Step, bad func(string, ...any)) {
	for _, proc := range s.procs {
		if d := w.hostDown[proc.host]; proc.host != nil && d != nil {
			bad("host %s of %s is down: %s at %s", proc.host.name, proc.name, d.name, d.where)
		}
	}
}

// startHosts makes the plan's hosts, in order (or at once, if the
// session can), and sets their variables.
func (e *executor) startHosts() error {
	if len(e.plan.hosts) == 0 {
		return nil
	}
	hs, ok := e.session.(HostSession)
	if !ok {
		return &UnsupportedError{Feature: FeatureHosts, Where: e.plan.hosts[0].where, Reason: "the backend makes no hosts"}
	}
	specs := make([]HostSpec, len(e.plan.hosts))
	for i, h := range e.plan.hosts {
		dir := filepath.Join(e.dir, "host-"+h.name)
		if err := os.Mkdir(dir, 0o755); err != nil {
			return fmt.Errorf("%sproctest: host %s: %w", prefix(h.where, ""), h.name, err)
		}
		h.dir.setValue(dir)
		specs[i] = HostSpec{Name: h.name, Dir: dir}
	}
	if hb, ok := hs.(HostsSession); ok {
		handles, err := hb.AddHosts(e.ctx, specs)
		if err == nil && len(handles) != len(specs) {
			err = fmt.Errorf("the backend made %d hosts of %d", len(handles), len(specs))
		}
		if err != nil {
			return fmt.Errorf("%sproctest: hosts: %w", prefix(e.plan.hosts[0].where, ""), err)
		}
		for i, h := range e.plan.hosts {
			e.hostUp(h, handles[i])
		}
		return nil
	}
	for i, h := range e.plan.hosts {
		hh, err := hs.AddHost(e.ctx, specs[i])
		if err != nil {
			return fmt.Errorf("%sproctest: host %s: %w", prefix(h.where, ""), h.name, err)
		}
		e.hostUp(h, hh)
	}
	return nil
}

// hostUp records that h runs, as hh.
func (e *executor) hostUp(h *Host, hh HostHandle) {
	h.handle = hh
	h.addr.setValue(hh.Addr().String())
	h.host.setValue(hostNameOf(hh))
	e.emit(Event{Kind: EventHost, Host: h.name, Detail: hostUpAt + hh.Addr().String()})
}

// hostNameOf returns the name by which the plan's processes on other
// hosts reach the host of hh: its [HostNamer] name, or its address.
func hostNameOf(hh HostHandle) string {
	if hn, ok := hh.(HostNamer); ok {
		if name := hn.HostName(); name != "" {
			return name
		}
	}
	return hh.Addr().String()
}

// hostName returns the name of p's host, or "" for this machine.
func (p *Proc) hostName() string {
	if p.host == nil {
		return ""
	}
	return p.host.name
}

// checkHosts returns an [UnsupportedError] if the plan has hosts and its
// backend cannot make them here.
func (p *Plan) checkHosts() error {
	if len(p.hosts) == 0 {
		if p.netSteps {
			return &UnsupportedError{Feature: FeatureHosts, Reason: "network faults act between hosts, and the plan declares none"}
		}
		return nil
	}
	fc, ok := p.cfg.backend.(FeatureChecker)
	if !ok {
		return &UnsupportedError{Feature: FeatureHosts, Where: p.hosts[0].where, Reason: "the backend makes no hosts"}
	}
	if err := fc.Supports(FeatureHosts); err != nil {
		return &UnsupportedError{Feature: FeatureHosts, Where: p.hosts[0].where, Reason: err.Error()}
	}
	for _, st := range p.steps {
		if st.needs == "" {
			continue
		}
		if err := fc.Supports(st.needs); err != nil {
			return &UnsupportedError{Feature: st.needs, Where: st.where, Reason: err.Error()}
		}
	}
	return nil
}
