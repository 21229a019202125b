package netns

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// A Host is a machine on a Network: a network namespace with its own
// loopback and one interface, eth0, with the host's address on the
// network's bridge; a PID namespace whose pid 1 is the host's init (see
// MaybeRunInit), so that everything started on the host, daemons included,
// dies with it; and, if AddHost was given a cgroup parent, a cgroup v2
// group holding exactly its processes.
//
// Processes are started on a host from a thread of this program kept for
// the host's life: switched into the host's namespaces, it forks them as
// direct children of this program, so that exec.Cmd.Wait gives their exact
// status. Its methods may be called from any goroutine.
type Host struct {
	n            *Network
	name         string
	addr         netip.Addr
	veth         string // the switch's end of the host's link
	cgroupParent string // "" for no cgroup

	mu   sync.Mutex
	life *life // nil once waited for, until Restart
}

// A life is one run of a host, from AddHost or Restart until Wait: its
// namespaces, init, cgroup and thread.
type life struct {
	nsFD     int       // the network namespace
	pidnsFD  int       // the PID namespace
	pidnsID  [2]uint64 // its device and inode, to find its processes
	init     *exec.Cmd
	initIn   *os.File // the init's standard input: closing it ends the host
	initOut  *os.File // the init's standard output, until it is ready
	cgroup   string   // the group's directory, "" if none
	cgroupFD int
	made     []string // cgroup directories made for it, parents first
	vethMade bool

	starts chan startReq // to the host's thread
	done   chan struct{} // closed when the init has ended and been waited for
	exited chan struct{} // closed when the host's thread has ended

	// Guarded by the Host's mu.
	killedBy Method
	paused   Method

	// Guarded by the Network's mu.
	net Faults // of its namespace and eth0, once linked
}

// A startReq asks the host's thread to start a command.
type startReq struct {
	cmd  *exec.Cmd
	errc chan error
}

// errNotRunning is the error of an operation on a host that was waited for
// and not restarted.
var errNotRunning = errors.New("host is not running")

// AddHost makes a host named name (letters, digits, '-', '_' and '.',
// starting with a letter or digit) with the address addr of the network's
// prefix, and returns once processes can be started on it. If
// cgroupParent is not empty, it is a directory of the cgroup v2 hierarchy
// (see CgroupDir), made if missing, under which the host gets the group
// cgroupParent/name. ctx bounds the wait for the host's init.
func (n *Network) AddHost(ctx context.Context, name string, addr netip.Addr, cgroupParent string) (*Host, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return nil, fmt.Errorf("netns: add host %s: network is closed", name)
	}
	if err := n.checkHost(name, addr); err != nil {
		return nil, fmt.Errorf("netns: add host %s: %w", name, err)
	}
	n.seq++
	h := &Host{n: n, name: name, addr: addr, veth: "vh" + strconv.Itoa(n.seq), cgroupParent: cgroupParent}
	l, err := h.begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("netns: add host %s: %w", name, err)
	}
	h.life = l
	n.hosts = append(n.hosts, h)
	if n.state.wildcards() {
		// A loss from or to any host now covers this one too.
		if err := n.applyLocked(n.state); err != nil {
			return h, fmt.Errorf("netns: add host %s: %w", name, err)
		}
	}
	return h, nil
}

// checkHost reports what is wrong with a new host's name and address.
func (n *Network) checkHost(name string, addr netip.Addr) error {
	if !validName(name) {
		return fmt.Errorf("name %q: want letters, digits, '-', '_' and '.', starting with a letter or digit", name)
	}
	last := offset(n.prefix.Addr(), 1<<(32-n.prefix.Bits())-1)
	switch {
	case !n.prefix.Contains(addr):
		return fmt.Errorf("address %v is not in %v", addr, n.prefix)
	case addr == n.prefix.Addr() || addr == last:
		return fmt.Errorf("address %v is the network's or its broadcast address", addr)
	case addr == n.addr:
		return fmt.Errorf("address %v is the switch's", addr)
	}
	for _, o := range n.hosts {
		if o.name == name {
			return errors.New("the network has a host of that name")
		}
		if o.addr == addr {
			return fmt.Errorf("address %v is host %s's", addr, o.name)
		}
	}
	return nil
}

// validName reports whether name can name a host (and its cgroup).
func validName(name string) bool {
	if name == "" || len(name) > 64 {
		return false
	}
	for i, c := range name {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			i > 0 && (c == '-' || c == '_' || c == '.')
		if !ok {
			return false
		}
	}
	return true
}

// Name returns the host's name.
func (h *Host) Name() string { return h.name }

// Addr returns the host's address.
func (h *Host) Addr() netip.Addr { return h.addr }

// Cgroup returns the directory of the host's cgroup, or "" if it has none
// (then Pause and Kill go through its init, see Method) or is not running.
func (h *Host) Cgroup() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.life == nil {
		return ""
	}
	return h.life.cgroup
}

// InitPid returns the pid of the host's init, or 0 if it is not running.
func (h *Host) InitPid() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.life == nil {
		return 0
	}
	return h.life.init.Process.Pid
}

// begin starts a life of h: its thread, namespaces, link, cgroup and init.
// The caller holds h.n.mu.
func (h *Host) begin(ctx context.Context) (*life, error) {
	l := &life{
		nsFD: -1, pidnsFD: -1, cgroupFD: -1,
		starts: make(chan startReq),
		done:   make(chan struct{}),
		exited: make(chan struct{}),
	}
	ready := make(chan error, 1)
	go l.run(ctx, h, ready)
	err := <-ready
	if err == nil {
		// The table is there from the start (see program).
		if err = l.net.Program(h.n.rules[h.name]); err != nil {
			err = fmt.Errorf("nftables: %w", err)
			l.init.Process.Kill()
		}
	}
	if err != nil {
		<-l.exited
		h.n.made = append(h.n.made, l.made...)
		return nil, errors.Join(err, l.release(ctx, h))
	}
	h.n.made = append(h.n.made, l.made...)
	return l, nil
}

// run is the host's thread. It sets up the life and then starts the
// host's processes until the init has ended. It never unlocks its thread,
// which is in the host's namespaces, so that the thread ends with it: and
// the init, started from it with Pdeathsig, is already gone by then
// (golang/go#27505: Pdeathsig fires when the forking thread ends).
func (l *life) run(ctx context.Context, h *Host, ready chan<- error) {
	runtime.LockOSThread()
	defer close(l.exited)
	if err := l.setup(ctx, h); err != nil {
		if l.init != nil {
			l.init.Process.Kill()
			<-l.done
		}
		ready <- err
		return
	}
	ready <- nil
	for {
		select {
		case r := <-l.starts:
			r.errc <- r.cmd.Start()
		case <-l.done:
			return
		}
	}
}

// setup runs on the host's thread: it moves the thread into a new network
// namespace, links it to the switch, makes the cgroup, starts the init in
// a new PID namespace and moves the thread's children into it.
func (l *life) setup(ctx context.Context, h *Host) error {
	if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
		return fmt.Errorf("unshare network namespace: %w", err)
	}
	noIPv6()
	var err error
	if l.nsFD, err = openThreadNS("net"); err != nil {
		return err
	}
	if h.cgroupParent != "" {
		l.cgroup = filepath.Join(h.cgroupParent, h.name)
		l.cgroupFD, l.made, err = makeCgroup(l.cgroup)
		if err != nil {
			l.cgroup = ""
			return fmt.Errorf("cgroup: %w", err)
		}
	}
	if err := l.startInit(h); err != nil {
		return err
	}
	pidns := fmt.Sprintf("/proc/%d/ns/pid", l.init.Process.Pid)
	if l.pidnsFD, err = unix.Open(pidns, unix.O_RDONLY|unix.O_CLOEXEC, 0); err != nil {
		return fmt.Errorf("open %s: %w", pidns, err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(l.pidnsFD, &st); err != nil {
		return fmt.Errorf("stat %s: %w", pidns, err)
	}
	l.pidnsID = [2]uint64{st.Dev, st.Ino}
	if err := unix.Setns(l.pidnsFD, unix.CLONE_NEWPID); err != nil {
		return fmt.Errorf("enter the PID namespace of the init: %w", err)
	}
	// The link is made while the init starts up.
	if err := l.link(h); err != nil {
		return err
	}
	return l.awaitInit(ctx)
}

// link makes the host's veth, its end eth0 in the host with the host's
// address, the other on the switch's bridge, and brings the links and the
// host's loopback up. It runs on the host's thread.
func (l *life) link(h *Host) error {
	n := h.n
	attrs := netlink.NewLinkAttrs()
	attrs.Name = h.veth
	attrs.MasterIndex = n.bridge
	veth := &netlink.Veth{
		LinkAttrs: attrs, PeerName: "eth0", PeerNamespace: netlink.NsFd(l.nsFD),
		PeerHardwareAddr: hostMAC(h.addr),
	}
	if err := n.nl.LinkAdd(veth); err != nil {
		return fmt.Errorf("add veth %s: %w", h.veth, err)
	}
	l.vethMade = true
	if err := n.nl.LinkSetUp(veth); err != nil {
		return fmt.Errorf("veth %s up: %w", h.veth, err)
	}
	// Kept for the life, for shaping (see shape).
	nl, err := netlink.NewHandle(unix.NETLINK_ROUTE)
	if err != nil {
		return fmt.Errorf("netlink in the host: %w", err)
	}
	l.net = Faults{nsFD: l.nsFD, nl: nl}
	for _, name := range []string{"lo", "eth0"} {
		link, err := nl.LinkByName(name)
		if err != nil {
			return fmt.Errorf("find %s: %w", name, err)
		}
		if name == "eth0" {
			if err := nl.AddrAdd(link, ipNet(h.addr, n.prefix.Bits())); err != nil {
				return fmt.Errorf("address eth0: %w", err)
			}
			l.net.link = link.Attrs().Index
		}
		if err := nl.LinkSetUp(link); err != nil {
			return fmt.Errorf("%s up: %w", name, err)
		}
	}
	return nil
}

// hostMAC returns the hardware address of the host with address a: the
// same for each of its lives, so that its peers' ARP caches stay right
// across a restart.
func hostMAC(a netip.Addr) net.HardwareAddr {
	b := a.As4()
	// Locally administered, unicast.
	return net.HardwareAddr{0x02, 0x70, b[0], b[1], b[2], b[3]}
}

// startInit starts the host's init, pid 1 of a new PID namespace.
func (l *life) startInit(h *Host) error {
	inR, inW, err := os.Pipe()
	if err != nil {
		return err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return err
	}
	cmd := &exec.Cmd{
		Path:   "/proc/self/exe",
		Args:   []string{"proctest-hostinit", h.name},
		Env:    []string{initEnv + "=1", "GOMAXPROCS=1"},
		Stdin:  inR,
		Stdout: outW,
		SysProcAttr: &syscall.SysProcAttr{
			Cloneflags: syscall.CLONE_NEWPID,
			// The only process of a host with Pdeathsig. Go's child
			// code then finds getppid() == 0 (its parent is outside its
			// PID namespace) and sends itself SIGKILL, which a
			// namespace's init does not receive from itself.
			Pdeathsig:   syscall.SIGKILL,
			UseCgroupFD: l.cgroupFD >= 0,
			CgroupFD:    l.cgroupFD,
		},
	}
	err = cmd.Start()
	inR.Close()
	outW.Close()
	if err != nil {
		inW.Close()
		outR.Close()
		return fmt.Errorf("start init: %w", err)
	}
	l.init, l.initIn, l.initOut = cmd, inW, outR
	go func() {
		cmd.Wait()
		close(l.done)
	}()
	return nil
}

// awaitInit waits until the init says it is ready, or ctx ends.
func (l *life) awaitInit(ctx context.Context) error {
	defer func() {
		l.initOut.Close()
		l.initOut = nil
	}()
	stop := context.AfterFunc(ctx, func() { l.initOut.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	got := make([]byte, len(initReady))
	n, err := io.ReadFull(l.initOut, got)
	if err != nil || !bytes.Equal(got, []byte(initReady)) {
		return fmt.Errorf("host init (pid %d) did not start: %v (it wrote %q; does the program call netns.MaybeRunInit first thing?)",
			l.init.Process.Pid, err, got[:n])
	}
	return nil
}

// release closes what a life holds and removes its link and cgroup, once
// its init and thread have ended. The caller holds h.n.mu.
func (l *life) release(ctx context.Context, h *Host) error {
	var errs []error
	l.net.Close()
	for _, f := range []*os.File{l.initIn, l.initOut} {
		if f != nil {
			f.Close()
		}
	}
	if l.vethMade && h.n.nl != nil {
		// Gone already if the namespace has been destroyed.
		if link, err := h.n.nl.LinkByName(h.veth); err == nil {
			if err := h.n.nl.LinkDel(link); err != nil {
				errs = append(errs, fmt.Errorf("remove veth %s: %w", h.veth, err))
			}
		}
	}
	for _, fd := range []int{l.nsFD, l.pidnsFD, l.cgroupFD} {
		if fd >= 0 {
			unix.Close(fd)
		}
	}
	if l.cgroup != "" {
		if err := removeCgroup(ctx, l.cgroup); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// running returns h's life, or an error saying what op cannot do.
func (h *Host) running(op string) (*life, error) {
	if h.life == nil {
		return nil, fmt.Errorf("netns: %s %s: %w", op, h.name, errNotRunning)
	}
	if h.life.killedBy != 0 {
		return nil, fmt.Errorf("netns: %s %s: host was killed", op, h.name)
	}
	return h.life, nil
}

// Start starts cmd, already filled in (Path, Args, Env, Dir, the files),
// on the host: as a direct child of this program, so that cmd.Wait gives
// its exact status, in the host's network and PID namespaces and cgroup,
// in a process group of its own (unless cmd asks for a session). It is an
// error to start on a killed or paused host, or to ask for a Pdeathsig:
// the host's processes die with the host's init, and Go's Pdeathsig check
// would kill a child forked into another PID namespace before it runs.
func (h *Host) Start(cmd *exec.Cmd) error {
	h.mu.Lock()
	l, err := h.running("start on")
	if err == nil && l.paused != 0 {
		err = fmt.Errorf("netns: start on %s: host is paused", h.name)
	}
	h.mu.Unlock()
	if err != nil {
		return err
	}
	var attr syscall.SysProcAttr
	if cmd.SysProcAttr != nil {
		attr = *cmd.SysProcAttr
	}
	if attr.Pdeathsig != 0 {
		return fmt.Errorf("netns: start on %s: a process on a host cannot have a Pdeathsig", h.name)
	}
	attr.Setpgid = !attr.Setsid
	attr.UseCgroupFD, attr.CgroupFD = l.cgroupFD >= 0, l.cgroupFD
	cmd.SysProcAttr = &attr
	r := startReq{cmd: cmd, errc: make(chan error, 1)}
	select {
	case l.starts <- r:
	case <-l.done:
		return fmt.Errorf("netns: start on %s: host has ended", h.name)
	}
	if err := <-r.errc; err != nil {
		return fmt.Errorf("netns: start on %s: %w", h.name, err)
	}
	return nil
}

// Kill kills every process of the host with SIGKILL, its init included,
// through its cgroup (cgroup.kill) if it has one, else by SIGKILL of its
// init, and returns at once, saying which. The processes' parents see them
// die by SIGKILL; the init ends once the processes started on the host
// with Start have been waited for, which Wait waits for. Killing a killed
// host does nothing.
func (h *Host) Kill() (Method, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.life == nil {
		return 0, fmt.Errorf("netns: kill %s: %w", h.name, errNotRunning)
	}
	l := h.life
	if l.killedBy != 0 {
		return l.killedBy, nil
	}
	m := MethodSignal
	if l.cgroup != "" && writeCgroup(l.cgroup, "cgroup.kill", "1") == nil {
		m = MethodCgroup
	} else if err := l.init.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return 0, fmt.Errorf("netns: kill %s: %w", h.name, err)
	}
	// Should the init survive both, its input ending ends it.
	l.initIn.Close()
	l.initIn = nil
	l.killedBy, l.paused = m, 0
	return m, nil
}

// Wait waits for the host's init to end and then removes what the host
// held: its namespaces, link and cgroup. The init ends when the host is
// killed, and only once every process of the host has been waited for by
// its parent (the kernel keeps a PID namespace's init until all its
// members are reaped): wait for the processes started with Start first. If
// ctx ends before, the error names the processes not waited for. After
// Wait, the host can be restarted. Waiting for a host that was waited for
// does nothing.
func (h *Host) Wait(ctx context.Context) error {
	h.mu.Lock()
	l := h.life
	h.mu.Unlock()
	if l == nil {
		return nil
	}
	select {
	case <-l.done:
	case <-ctx.Done():
		return h.waitError(l, ctx.Err())
	}
	<-l.exited
	n := h.n
	n.mu.Lock()
	defer n.mu.Unlock()
	h.mu.Lock()
	mine := h.life == l
	if mine {
		h.life = nil
	}
	h.mu.Unlock()
	if !mine {
		return nil
	}
	if err := l.release(ctx, h); err != nil {
		return fmt.Errorf("netns: wait %s: %w", h.name, err)
	}
	return nil
}

// waitError describes why the init of l has not ended.
func (h *Host) waitError(l *life, err error) error {
	ms, _ := l.members()
	if len(ms) == 0 {
		return fmt.Errorf("netns: wait %s: %w (its init, pid %d, has not ended)", h.name, err, l.init.Process.Pid)
	}
	var desc []string
	for _, m := range ms {
		desc = append(desc, fmt.Sprintf("%d (state %c, parent %d)", m.pid, m.state, m.ppid))
	}
	return fmt.Errorf("netns: wait %s: %w: its init (pid %d) cannot end while processes of the host are not waited for by their parents: %v",
		h.name, err, l.init.Process.Pid, desc)
}

// Restart gives a host that was killed and waited for a new life: new
// namespaces, init and cgroup, the same name, address and link name, and
// its part of the network's state; no processes.
func (h *Host) Restart(ctx context.Context) error {
	n := h.n
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return fmt.Errorf("netns: restart %s: network is closed", h.name)
	}
	h.mu.Lock()
	running := h.life != nil
	h.mu.Unlock()
	if running {
		return fmt.Errorf("netns: restart %s: host is running (Kill it and Wait for it first)", h.name)
	}
	l, err := h.begin(ctx)
	if err != nil {
		return fmt.Errorf("netns: restart %s: %w", h.name, err)
	}
	h.mu.Lock()
	h.life = l
	h.mu.Unlock()
	return nil
}

// Pause stops every process of the host, other than its init, and returns
// once they are all stopped, saying how: by freezing its cgroup, or else by
// SIGSTOP from its init (repeated until no process runs, as one forking at
// that moment may escape it). A paused host still completes TCP handshakes
// (the kernel does), so its peers see connections made and then no
// answer. Pausing a paused host does nothing.
func (h *Host) Pause(ctx context.Context) (Method, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	l, err := h.running("pause")
	if err != nil {
		return 0, err
	}
	if l.paused != 0 {
		return l.paused, nil
	}
	m := MethodSignal
	if l.cgroup != "" {
		m = MethodCgroup
		err = setFrozen(ctx, l.cgroup, true)
	} else {
		err = l.signalAll(ctx, syscall.SIGUSR1, func(state byte) bool {
			return state == 'T' || state == 't' || state == 'Z' || state == 'X'
		})
	}
	if err != nil {
		return 0, fmt.Errorf("netns: pause %s: %w", h.name, err)
	}
	l.paused = m
	return m, nil
}

// Resume continues the processes of a paused host, the way Pause stopped
// them, and returns once they run. Resuming a host that is not paused does
// nothing.
func (h *Host) Resume(ctx context.Context) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	l, err := h.running("resume")
	if err != nil {
		return err
	}
	switch l.paused {
	case 0:
		return nil
	case MethodCgroup:
		err = setFrozen(ctx, l.cgroup, false)
	default:
		err = l.signalAll(ctx, syscall.SIGUSR2, func(state byte) bool { return state != 'T' })
	}
	if err != nil {
		return fmt.Errorf("netns: resume %s: %w", h.name, err)
	}
	l.paused = 0
	return nil
}

// signalAll has the init signal every process of the host (sig asks it),
// until every one is in a state for which ok is true; it signals again
// from time to time, for a process forked meanwhile.
func (l *life) signalAll(ctx context.Context, sig syscall.Signal, ok func(state byte) bool) error {
	tries := 0
	return poll(ctx, func() (bool, error) {
		if tries%8 == 0 {
			if err := l.init.Process.Signal(sig); err != nil {
				return false, fmt.Errorf("signal init: %w", err)
			}
		}
		tries++
		ms, err := l.members()
		if err != nil {
			return false, err
		}
		for _, m := range ms {
			if !ok(m.state) {
				return false, nil
			}
		}
		return true, nil
	})
}

// Procs returns the pids, as this program sees them, of the processes of
// the host other than its init, zombies included.
func (h *Host) Procs() ([]int, error) {
	h.mu.Lock()
	l := h.life
	h.mu.Unlock()
	if l == nil {
		return nil, fmt.Errorf("netns: procs of %s: %w", h.name, errNotRunning)
	}
	ms, err := l.members()
	if err != nil {
		return nil, fmt.Errorf("netns: procs of %s: %w", h.name, err)
	}
	pids := make([]int, len(ms))
	for i, m := range ms {
		pids[i] = m.pid
	}
	return pids, nil
}

// A member is a process of a host.
type member struct {
	pid, ppid int
	state     byte // as in /proc/PID/stat: R, S, D, T, Z...
}

// members returns the processes in l's PID namespace other than its init,
// from /proc.
func (l *life) members() ([]member, error) {
	d, err := os.Open("/proc")
	if err != nil {
		return nil, err
	}
	names, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		return nil, err
	}
	var ms []member
	for _, name := range names {
		pid, err := strconv.Atoi(name)
		if err != nil || pid == l.init.Process.Pid {
			continue
		}
		var st unix.Stat_t
		if unix.Stat("/proc/"+name+"/ns/pid", &st) != nil || [2]uint64{st.Dev, st.Ino} != l.pidnsID {
			continue
		}
		b, err := os.ReadFile("/proc/" + name + "/stat")
		if err != nil {
			continue // gone
		}
		// The state follows the command, in parentheses that may
		// themselves hold parentheses; the parent's pid follows it.
		i := bytes.LastIndexByte(b, ')')
		if i < 0 || i+2 >= len(b) {
			continue
		}
		m := member{pid: pid, state: b[i+2]}
		if f := bytes.Fields(b[i+2:]); len(f) > 1 {
			m.ppid, _ = strconv.Atoi(string(f[1]))
		}
		ms = append(ms, m)
	}
	slices.SortFunc(ms, func(a, b member) int { return a.pid - b.pid })
	return ms, nil
}

// netNS returns a duplicate of the descriptor of the host's network
// namespace, for the caller to close.
func (h *Host) netNS(op, addr string) (int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.life == nil {
		return -1, fmt.Errorf("netns: %s %s on %s: %w", op, addr, h.name, errNotRunning)
	}
	fd, err := dupFD(h.life.nsFD)
	if err != nil {
		return -1, fmt.Errorf("netns: %s %s on %s: %w", op, addr, h.name, err)
	}
	return fd, nil
}

// DialContext connects to addr (an IP address and a port) on network
// ("tcp", "udp", ...) from inside the host, as a process of the host
// would. The connection can be used from any goroutine, and stays in the
// host's network namespace for its life.
func (h *Host) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	fd, err := h.netNS("dial", addr)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	c, err := nsDialContext(ctx, fd, network, addr)
	if err != nil {
		return nil, fmt.Errorf("netns: on %s: %w", h.name, err)
	}
	return c, nil
}

// Listen listens on addr (an IP address, or none, and a port) inside the
// host.
func (h *Host) Listen(ctx context.Context, network, addr string) (net.Listener, error) {
	fd, err := h.netNS("listen", addr)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	l, err := nsListen(ctx, fd, network, addr)
	if err != nil {
		return nil, fmt.Errorf("netns: on %s: %w", h.name, err)
	}
	return l, nil
}

// ListenPacket listens for packets on addr inside the host.
func (h *Host) ListenPacket(ctx context.Context, network, addr string) (net.PacketConn, error) {
	fd, err := h.netNS("listen", addr)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	pc, err := nsListenPacket(ctx, fd, network, addr)
	if err != nil {
		return nil, fmt.Errorf("netns: on %s: %w", h.name, err)
	}
	return pc, nil
}
