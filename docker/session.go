package docker

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"

	"github.com/proctest/proctest"
)

// session is one plan's use of the backend.
type session struct {
	b     *backend
	info  proctest.PlanInfo
	local proctest.Session // the processes without a host
	// shared is true if the engine sees this machine's files (known at
	// the start of the plan).
	shared bool

	// Made with the first host:
	c        *client.Client
	setupErr error // why the network could not be made
	agent    []byte
	netID    string
	netName  string
	prefix   netip.Prefix
	// mounts are the directories bind-mounted at the same path, if the
	// engine shares this machine's files (else none).
	mounts []string
	// agentFile is the agent, written in the mounted log directory
	// unless none is or its file system forbids execution ("": copied
	// into each container instead).
	agentFile string
	hosts     []*host

	relays sync.WaitGroup // the copies of standard inputs
}

// LookPath implements [proctest.Session], as the backend's LookPath.
func (s *session) LookPath(file string) (string, error) { return s.b.LookPath(file) }

// Start implements [proctest.Session]: a process without a host runs on
// this machine, as with proctest.Local.
func (s *session) Start(c *proctest.Command) (proctest.Task, error) {
	if !strings.Contains(c.Path, "/") {
		// Not found when the plan was checked: looked up here.
		path, err := exec.LookPath(c.Path)
		if err != nil {
			return nil, err
		}
		cc := *c
		cc.Path = path
		c = &cc
	}
	return s.local.Start(c)
}

// DialContext implements [proctest.Session]: from this machine, which
// reaches the hosts' addresses through the bridge of their network (a
// host's name is taken for its address). If
// the engine runs elsewhere, an address of a host (or its name) is
// dialled from inside that host, by its agent, which no network fault
// cuts off from itself as none cuts off this machine.
func (s *session) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	if h := s.hostOf(addr); h != nil {
		if !s.shared {
			return h.DialContext(ctx, network, addr)
		}
		// A host's name means nothing to this machine's resolver.
		_, port, _ := net.SplitHostPort(addr)
		addr = net.JoinHostPort(h.addr.String(), port)
	}
	return s.local.DialContext(ctx, network, addr)
}

// hostOf returns the host whose address or name is the host part of
// addr, or nil.
func (s *session) hostOf(addr string) *host {
	name, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil
	}
	for _, h := range s.hosts {
		if name == h.name || name == h.addr.String() {
			return h
		}
	}
	return nil
}

// Stat implements [proctest.Session]. If the engine runs elsewhere, a
// path in a host's directory is checked in its container, by its agent.
func (s *session) Stat(name string) (fs.FileInfo, error) {
	if !s.shared {
		for _, h := range s.hosts {
			if h.dir != "" && (name == h.dir || strings.HasPrefix(name, h.dir+"/")) {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				if err := h.stat(ctx, name); err != nil {
					return nil, &fs.PathError{Op: "stat", Path: name + " (on " + h.name + ")", Err: err}
				}
				return hostFile(name), nil
			}
		}
	}
	return s.local.Stat(name)
}

// hostFile is a file found in a container, of which nothing else is
// known.
type hostFile string

func (f hostFile) Name() string       { return filepath.Base(string(f)) }
func (f hostFile) Size() int64        { return 0 }
func (f hostFile) Mode() fs.FileMode  { return 0 }
func (f hostFile) ModTime() time.Time { return time.Time{} }
func (f hostFile) IsDir() bool        { return false }
func (f hostFile) Sys() any           { return nil }

// FreePorts implements [proctest.Session].
func (s *session) FreePorts(n int) ([]int, error) { return s.local.FreePorts(n) }

// subnetPool is where the plans' networks are taken from, a /24 each.
var subnetPool = netip.MustParsePrefix("10.210.0.0/16")

// setup connects to the engine and makes the plan's network, at the first
// host.
func (s *session) setup(ctx context.Context) error {
	if s.c != nil {
		return s.setupErr
	}
	c, _, err := ping(ctx)
	if err != nil {
		return err
	}
	if s.agent, err = agentBinary(ctx); err != nil {
		return err
	}
	if s.shared {
		if err := s.mountDirs(); err != nil {
			return err
		}
		if err := s.placeAgent(); err != nil {
			return err
		}
	}
	// From here on, Close removes what was made, even what a cancelled
	// request made (by its name).
	s.c = c
	s.setupErr = s.makeNetwork(ctx)
	return s.setupErr
}

// placeAgent writes the agent in the plan's log directory, mounted in
// every container, so that each container runs it from there instead of
// getting its own copy; not if the directory's file system is mounted
// noexec.
func (s *session) placeAgent() error {
	if !execAllowed(s.mounts[0]) {
		return nil
	}
	path := filepath.Join(s.mounts[0], ".proctest-agent")
	if err := os.WriteFile(path, s.agent, 0o755); err != nil {
		return fmt.Errorf("docker: write the agent: %w", err)
	}
	s.agentFile = path
	return nil
}

// mountDirs decides what is bind-mounted into every container: the plan's
// log directory (which holds the hosts' directories), at its own path and,
// if that holds a symbolic link, at its real path too.
func (s *session) mountDirs() error {
	abs, err := filepath.Abs(s.info.LogDir)
	if err != nil {
		return fmt.Errorf("docker: log directory: %w", err)
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return fmt.Errorf("docker: log directory: %w", err)
	}
	s.mounts = []string{real}
	if abs != real {
		s.mounts = append(s.mounts, abs)
	}
	return nil
}

// makeNetwork creates the plan's network: a bridge, internal (no route
// out of it), on a /24 of subnetPool that no network of the engine and
// no address of this machine uses, the gateway (this machine's side) at
// .254. Several programs may race for a subnet: the engine refuses an
// overlapping one, and the next is tried.
func (s *session) makeNetwork(ctx context.Context) error {
	used, err := s.usedPrefixes(ctx)
	if err != nil {
		return err
	}
	n := 1 << (24 - subnetPool.Bits())
	first, _ := rand.Int(rand.Reader, big.NewInt(int64(n)))
	s.netName = "proctest-" + strings.ReplaceAll(runID()+"-"+s.info.ID, ".", "-")
	var lastErr error
	for i := range n {
		k := (int(first.Int64()) + i) % n
		base := subnetPool.Addr().As4()
		base[2] = byte(k)
		p := netip.PrefixFrom(netip.AddrFrom4(base), 24)
		if overlaps(p, used) {
			continue
		}
		gw := base
		gw[3] = 254
		ectx, cancel := uncancelled(ctx)
		res, err := s.c.NetworkCreate(ectx, s.netName, client.NetworkCreateOptions{
			Driver:   "bridge",
			Internal: true,
			IPAM:     &network.IPAM{Config: []network.IPAMConfig{{Subnet: p, Gateway: netip.AddrFrom4(gw)}}},
			Labels:   labels(s.info.ID),
		})
		cancel()
		if err != nil {
			lastErr = err
			if strings.Contains(err.Error(), "overlap") {
				continue
			}
			return fmt.Errorf("docker: create network %s: %w", s.netName, err)
		}
		s.netID, s.prefix = res.ID, p
		return ctx.Err()
	}
	return fmt.Errorf("docker: no free /24 in %s for the plan's network: %v", subnetPool, lastErr)
}

// usedPrefixes returns the subnets of the engine's networks and of this
// machine's addresses.
func (s *session) usedPrefixes(ctx context.Context) ([]netip.Prefix, error) {
	res, err := s.c.NetworkList(ctx, client.NetworkListOptions{})
	if err != nil {
		return nil, fmt.Errorf("docker: list networks: %w", err)
	}
	var used []netip.Prefix
	for _, n := range res.Items {
		for _, cfg := range n.IPAM.Config {
			if cfg.Subnet.IsValid() {
				used = append(used, cfg.Subnet)
			}
		}
	}
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if p, err := netip.ParsePrefix(a.String()); err == nil {
			used = append(used, p.Masked())
		}
	}
	return used, nil
}

// overlaps reports whether p overlaps one of used.
func overlaps(p netip.Prefix, used []netip.Prefix) bool {
	for _, u := range used {
		if p.Overlaps(u) {
			return true
		}
	}
	return false
}

// AddHost implements [proctest.HostSession]: a container on the plan's
// network, whose address is the n-th of its subnet for the n-th host.
func (s *session) AddHost(ctx context.Context, spec proctest.HostSpec) (proctest.HostHandle, error) {
	hs, err := s.AddHosts(ctx, []proctest.HostSpec{spec})
	if err != nil {
		return nil, err
	}
	return hs[0], nil
}

// AddHosts implements [proctest.HostsSession]: the containers are made
// and started at once.
func (s *session) AddHosts(ctx context.Context, specs []proctest.HostSpec) ([]proctest.HostHandle, error) {
	for _, spec := range specs {
		if s.b.imageFor(spec.Name) == "" {
			return nil, fmt.Errorf("docker: no image for host %s: give one with docker.Image or docker.HostImage", spec.Name)
		}
	}
	if err := s.setup(ctx); err != nil {
		return nil, err
	}
	if len(s.hosts)+len(specs) > 253 {
		return nil, errors.New("docker: a plan has at most 253 hosts")
	}
	hosts := make([]*host, len(specs))
	for i, spec := range specs {
		a := s.prefix.Addr().As4()
		a[3] = byte(len(s.hosts) + 1)
		hosts[i] = &host{s: s, name: spec.Name, addr: netip.AddrFrom4(a), image: s.b.imageFor(spec.Name), dir: spec.Dir}
		s.hosts = append(s.hosts, hosts[i]) // removed by Close
	}
	errs := make([]error, len(hosts))
	var wg sync.WaitGroup
	for i, h := range hosts {
		wg.Go(func() {
			if errs[i] = h.create(ctx); errs[i] == nil {
				errs[i] = h.start(ctx)
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	handles := make([]proctest.HostHandle, len(hosts))
	for i, h := range hosts {
		handles[i] = h
	}
	return handles, nil
}

// Close implements [proctest.Session]: it lists what still runs on the
// hosts, removes their containers and the network, then closes the
// session of the processes without a host.
func (s *session) Close() ([]proctest.Leftover, error) {
	var left []proctest.Leftover
	var errs []error
	if s.c != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		for _, h := range s.hosts {
			left = append(left, h.leftovers(ctx)...)
		}
		if !s.shared {
			cerrs := make([]error, len(s.hosts))
			var wg sync.WaitGroup
			for i, h := range s.hosts {
				wg.Go(func() { cerrs[i] = h.copyBack(ctx) })
			}
			wg.Wait()
			errs = append(errs, cerrs...)
		}
		// Removal has time of its own, whatever the above took.
		rctx, rcancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer rcancel()
		var wg sync.WaitGroup
		herrs := make([]error, len(s.hosts))
		for i, h := range s.hosts {
			wg.Go(func() { herrs[i] = h.remove(rctx) })
		}
		wg.Wait()
		errs = append(errs, herrs...)
		// By name: a create that was cancelled may have made it.
		if s.netName == "" {
			// Never tried.
		} else if _, err := s.c.NetworkRemove(rctx, s.netName, client.NetworkRemoveOptions{}); err != nil && (s.netID != "" || !cerrdefs.IsNotFound(err)) {
			errs = append(errs, fmt.Errorf("docker: remove network %s: %w", s.netName, err))
		}
	}
	s.relays.Wait()
	if s.agentFile != "" {
		os.Remove(s.agentFile)
	}
	l, err := s.local.Close()
	return append(left, l...), errors.Join(append(errs, err)...)
}
