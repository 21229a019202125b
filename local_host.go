package proctest

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"path/filepath"
	"sync"
	"time"

	"github.com/proctest/proctest/internal/contain"
	"github.com/proctest/proctest/internal/netns"
)

// Hosts of the Local backend: network namespaces on a network private to
// the plan (see internal/netns), on Linux with root.

// hostPrefix is the subnet of every plan's hosts: each plan's network is
// private, so plans never collide. The control point is .254.
var hostPrefix = netip.MustParsePrefix("10.77.0.0/24")

var hostsAvailable struct {
	once sync.Once
	err  error
}

// Supports implements [FeatureChecker].
func (localBackend) Supports(f Feature) error {
	switch f {
	case FeatureHosts:
		hostsAvailable.once.Do(func() { hostsAvailable.err = netns.Available() })
		return hostsAvailable.err
	case FeatureDelay:
		if ok, why := netns.HasNetem(); !ok {
			return fmt.Errorf("no packet delay: %s", why)
		}
		return fmt.Errorf("packet delay is not built yet")
	}
	return fmt.Errorf("unknown feature %q", f)
}

// AddHost implements [HostSession].
func (s *localSession) AddHost(ctx context.Context, spec HostSpec) (HostHandle, error) {
	if s.network == nil {
		n, err := netns.NewNetwork(hostPrefix)
		if err != nil {
			return nil, err
		}
		s.network = n
	}
	addr := hostPrefix.Addr()
	for range len(s.network.Hosts()) + 1 {
		addr = addr.Next()
	}
	parent := ""
	if cg := s.contain.Cgroup(); cg != "" {
		parent = filepath.Join(cg, "hosts")
	}
	h, err := s.network.AddHost(ctx, spec.Name, addr, parent)
	if err != nil {
		return nil, err
	}
	return &localHost{s: s, h: h}, nil
}

// closeHosts reports what is still running on the plan's hosts, then ends
// them and their network.
func (s *localSession) closeHosts() ([]Leftover, error) {
	if s.network == nil {
		return nil, nil
	}
	var left []Leftover
	for _, h := range s.network.Hosts() {
		pids, err := h.Procs()
		if err != nil {
			continue // down
		}
		for _, pid := range pids {
			if pid == h.InitPid() {
				continue
			}
			_, name := contain.Tags(pid)
			left = append(left, Leftover{Name: name, Pid: pid, Command: contain.Cmdline(pid) + " (on " + h.Name() + ")",
				Descendant: true, Stopped: "SIGKILL"})
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := s.network.Close(ctx)
	s.network = nil
	return left, err
}

// localHost is a host of the Local backend.
type localHost struct {
	s *localSession
	h *netns.Host
}

// Addr implements [HostHandle].
func (lh *localHost) Addr() netip.Addr { return lh.h.Addr() }

// Start implements [HostHandle]: the process is a child of this program,
// in the host's namespaces and cgroup.
func (lh *localHost) Start(c *Command) (Task, error) {
	cmd := lh.s.command(c)
	if err := lh.h.Start(cmd); err != nil {
		return nil, err
	}
	lh.s.contain.Started(c.Name, cmd.Process.Pid)
	return &localTask{cmd: cmd, name: c.Name, contain: lh.s.contain}, nil
}

// DialContext implements [HostHandle].
func (lh *localHost) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	return lh.h.DialContext(ctx, network, addr)
}

// methodName says how a host was paused or killed.
func methodName(m netns.Method) string {
	if m == netns.MethodCgroup {
		return "cgroup"
	}
	return "signals through the host's init"
}

// Pause implements [HostHandle].
func (lh *localHost) Pause(ctx context.Context) (string, error) {
	m, err := lh.h.Pause(ctx)
	return methodName(m), err
}

// Resume implements [HostHandle].
func (lh *localHost) Resume(ctx context.Context) error { return lh.h.Resume(ctx) }

// Kill implements [HostHandle].
func (lh *localHost) Kill() (string, error) {
	m, err := lh.h.Kill()
	return methodName(m), err
}

// Wait implements [HostHandle].
func (lh *localHost) Wait(ctx context.Context) error { return lh.h.Wait(ctx) }

// Restart implements [HostHandle].
func (lh *localHost) Restart(ctx context.Context) error { return lh.h.Restart(ctx) }

// Apply implements [NetSession].
func (s *localSession) Apply(ctx context.Context, st NetState) error {
	if s.network == nil {
		return fmt.Errorf("no hosts")
	}
	ns := netns.State{Drop: st.Drop, DropNew: st.DropNew}
	for l, f := range st.Loss {
		if ns.Loss == nil {
			ns.Loss = map[netns.Link]float64{}
		}
		ns.Loss[netns.Link{From: l.From, To: l.To}] = f
	}
	for l, r := range st.Rate {
		if ns.Rate == nil {
			ns.Rate = map[netns.Link]uint64{}
		}
		ns.Rate[netns.Link{From: l.From, To: l.To}] = r
	}
	return s.network.Apply(ns)
}
