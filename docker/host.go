package docker

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"

	"github.com/proctest/proctest"
	"github.com/proctest/proctest/docker/internal/agent"
)

// agentPath is where the agent is copied in each container, when it
// cannot run from the mounted log directory.
const agentPath = "/.proctest/agent"

// host is a host of the plan: a container whose init is the agent.
type host struct {
	s     *session
	name  string
	addr  netip.Addr
	image string
	id    string // the container's

	paused atomic.Bool

	dir string // its directory, made in the container if not mounted

	mu   sync.Mutex
	conn *agentConn // the agent of the current life
	log  *agentLog
	net  *agent.Net // what it drops, applied again at a restart
}

// Addr implements [proctest.HostHandle].
func (h *host) Addr() netip.Addr { return h.addr }

// HostName implements [proctest.HostNamer]: the host's name, the
// container's network alias, which Docker's DNS resolves on the plan's
// network.
func (h *host) HostName() string { return h.name }

// create creates the container, not started, with the agent in it.
func (h *host) create(ctx context.Context) error {
	s := h.s
	var binds []string
	for _, m := range s.mounts {
		binds = append(binds, m+":"+m)
	}
	no := false
	name := h.containerName()
	entry := agentPath
	if s.agentFile != "" {
		entry = s.agentFile
	}
	ectx, cancel := uncancelled(ctx)
	defer cancel()
	res, err := s.c.ContainerCreate(ectx, client.ContainerCreateOptions{
		Name: name,
		Config: &container.Config{
			Image:      h.image,
			Hostname:   h.name,
			Entrypoint: []string{entry},
			Cmd:        []string{},
			Labels:     labels(s.info.ID, LabelHost, h.name),
			// The agent's protocol: stdin stays open while attached,
			// and is closed when the backend detaches (or dies).
			OpenStdin:    true,
			StdinOnce:    true,
			AttachStdin:  true,
			AttachStdout: true,
			AttachStderr: true,
		},
		HostConfig: &container.HostConfig{
			Binds:       binds,
			NetworkMode: container.NetworkMode(s.netName),
			// For the agent's nftables table (network faults).
			CapAdd: []string{"NET_ADMIN"},
			// The agent is the init: it reaps, and its end is the
			// container's.
			Init: &no,
			// The stdout is the protocol: not worth keeping.
			LogConfig: container.LogConfig{Type: "none"},
		},
		NetworkingConfig: &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{
			s.netName: {IPAMConfig: &network.EndpointIPAMConfig{IPv4Address: h.addr}, Aliases: []string{h.name}},
		}},
	})
	if err != nil {
		if cerrdefs.IsNotFound(err) {
			return fmt.Errorf("docker: host %s: image %q: not found in the engine (nothing is pulled: build it first, with docker.BuildImage or docker build)", h.name, h.image)
		}
		return fmt.Errorf("docker: create container %s: %w", name, err)
	}
	h.id = res.ID
	var dirs []string
	if len(s.mounts) == 0 && h.dir != "" {
		// Not shared: the host's directory is made in the container.
		for d := h.dir; d != "/" && d != "."; d = filepath.Dir(d) {
			dirs = append([]string{d}, dirs...)
		}
	}
	if s.agentFile != "" && len(dirs) == 0 {
		return nil
	}
	var tarball bytes.Buffer
	tw := tar.NewWriter(&tarball)
	for _, d := range dirs {
		tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d[1:] + "/", Mode: 0o777})
	}
	if s.agentFile == "" {
		tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: filepath.Dir(agentPath)[1:] + "/", Mode: 0o755})
		tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: agentPath[1:], Mode: 0o755, Size: int64(len(s.agent))})
		tw.Write(s.agent)
	}
	if err := tw.Close(); err != nil {
		return err
	}
	if _, err := s.c.CopyToContainer(ectx, h.id, client.CopyToContainerOptions{DestinationPath: "/", Content: &tarball}); err != nil {
		return fmt.Errorf("docker: copy the agent into %s: %w", name, err)
	}
	return ctx.Err()
}

// start starts the container and waits until its agent is ready.
func (h *host) start(ctx context.Context) error {
	s := h.s
	ectx, cancel := uncancelled(ctx)
	defer cancel()
	att, err := s.c.ContainerAttach(ectx, h.id, client.ContainerAttachOptions{Stream: true, Stdin: true, Stdout: true, Stderr: true})
	if err != nil {
		return fmt.Errorf("docker: host %s: attach: %w", h.name, err)
	}
	if h.log == nil {
		h.log = &agentLog{path: filepath.Join(s.info.LogDir, "host-"+h.name+".agent.log")}
	}
	conn := newAgentConn(att.Conn, att.Reader, h.log)
	h.mu.Lock()
	h.conn = conn
	h.mu.Unlock()
	if _, err := s.c.ContainerStart(ectx, h.id, client.ContainerStartOptions{}); err != nil {
		conn.close()
		return fmt.Errorf("docker: host %s: start: %w", h.name, err)
	}
	select {
	case m := <-conn.ready:
		if m.Version != agent.Version {
			conn.close()
			return fmt.Errorf("docker: host %s: the agent speaks protocol %d, not %d", h.name, m.Version, agent.Version)
		}
	case <-conn.done:
		hint := ""
		if s.shared {
			hint = fmt.Sprintf(" (the agent runs from the plan's log directory, bind-mounted: if the engine does not see this machine's files, set %s=1)", RemoteEnv)
		}
		return fmt.Errorf("docker: host %s: the agent ended before it was ready%s%s", h.name, h.log.tail(), hint)
	case <-ctx.Done():
		conn.close()
		return fmt.Errorf("docker: host %s: waiting for the agent: %w", h.name, ctx.Err())
	}
	ins, err := s.c.ContainerInspect(ctx, h.id, client.ContainerInspectOptions{})
	if err != nil {
		return fmt.Errorf("docker: host %s: inspect: %w", h.name, err)
	}
	if got := ins.Container.NetworkSettings.Networks[s.netName]; got == nil || got.IPAddress != h.addr {
		return fmt.Errorf("docker: host %s: the container has not the address %s", h.name, h.addr)
	}
	h.mu.Lock()
	n := h.net
	h.mu.Unlock()
	if n != nil {
		return h.applyNet(ctx, n)
	}
	return nil
}

// applyNet makes the host drop what n says (the agent's table is
// replaced in one transaction), and again after each restart.
func (h *host) applyNet(ctx context.Context, n *agent.Net) error {
	h.mu.Lock()
	h.net = n
	conn := h.conn
	h.mu.Unlock()
	select {
	case <-conn.done:
		return nil // down: applied when it restarts
	default:
	}
	if _, err := conn.request(ctx, agent.Request{Op: agent.OpNet, Net: n}, nil); err != nil {
		return fmt.Errorf("docker: network faults on host %s: %w", h.name, err)
	}
	return nil
}

// current returns the agent of the host's current life.
func (h *host) current() *agentConn {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.conn
}

// Start implements [proctest.HostHandle]: the agent starts the program.
func (h *host) Start(c *proctest.Command) (proctest.Task, error) {
	if c.Setup != nil {
		return nil, fmt.Errorf("docker: %s on host %s: Setup adjusts a local exec.Cmd, and processes on a container host are not started with one", c.Name, h.name)
	}
	if h.paused.Load() {
		return nil, fmt.Errorf("docker: %s on host %s: the host is paused", c.Name, h.name)
	}
	conn := h.current()
	st, err := h.s.prepareStdio(conn, c)
	if err != nil {
		return nil, err
	}
	env := append([]string{"PROCTEST_PLAN=" + h.s.info.ID}, c.Env...)
	env = append(env, "PROCTEST_PROC="+c.Name)
	t := &task{host: h, conn: conn, ended: make(chan struct{})}
	_, err = conn.request(context.Background(), agent.Request{
		Op: agent.OpStart, Args: c.Args, Path: c.Path, Env: env, Dir: c.Dir, Files: st.files, Streams: st.streams,
	}, t)
	if err != nil {
		st.abort()
		return nil, fmt.Errorf("docker: on host %s (image %s): %w", h.name, h.image, err)
	}
	st.start(&h.s.relays, t.ended)
	return t, nil
}

// DialContext implements [proctest.HostHandle]: the agent connects, from
// inside the container.
func (h *host) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	if h.paused.Load() {
		return nil, fmt.Errorf("docker: dial %s from host %s: the host is paused", addr, h.name)
	}
	c, err := dialAgent(ctx, h.current(), network, addr)
	if err != nil {
		return nil, fmt.Errorf("docker: dial %s from host %s: %w", addr, h.name, err)
	}
	return c, nil
}

// stat checks that path exists in the container.
func (h *host) stat(ctx context.Context, path string) error {
	_, err := h.current().request(ctx, agent.Request{Op: agent.OpStat, Path: path}, nil)
	if err != nil && err.Error() == agent.ErrNotExist {
		return fs.ErrNotExist
	}
	return err
}

// Pause implements [proctest.HostHandle] with the engine's pause: the
// container's cgroup is frozen.
func (h *host) Pause(ctx context.Context) (string, error) {
	if _, err := h.s.c.ContainerPause(ctx, h.id, client.ContainerPauseOptions{}); err != nil {
		return "", fmt.Errorf("docker: pause host %s: %w", h.name, err)
	}
	h.paused.Store(true)
	return "docker pause, cgroup freezer", nil
}

// Resume implements [proctest.HostHandle].
func (h *host) Resume(ctx context.Context) error {
	if _, err := h.s.c.ContainerUnpause(ctx, h.id, client.ContainerUnpauseOptions{}); err != nil {
		return fmt.Errorf("docker: resume host %s: %w", h.name, err)
	}
	h.paused.Store(false)
	return nil
}

// Kill implements [proctest.HostHandle]: the engine sends SIGKILL to the
// agent, the init of the container's PID namespace, and the kernel kills
// every other process in it. (A paused container is killed too: the
// engine thaws it.)
func (h *host) Kill() (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := h.s.c.ContainerKill(ctx, h.id, client.ContainerKillOptions{Signal: "KILL"}); err != nil {
		return "", fmt.Errorf("docker: kill host %s: %w", h.name, err)
	}
	h.paused.Store(false)
	return "docker kill, SIGKILL to the container's init", nil
}

// Wait implements [proctest.HostHandle]: until the agent's stream has
// ended and the container is no longer running.
func (h *host) Wait(ctx context.Context) error {
	conn := h.current()
	select {
	case <-conn.done:
	case <-ctx.Done():
		return fmt.Errorf("docker: host %s: waiting for its end: %w", h.name, ctx.Err())
	}
	w := h.s.c.ContainerWait(ctx, h.id, client.ContainerWaitOptions{Condition: container.WaitConditionNotRunning})
	select {
	case <-w.Result:
	case err := <-w.Error:
		return fmt.Errorf("docker: host %s: waiting for its end: %w", h.name, err)
	}
	return nil
}

// Restart implements [proctest.HostHandle]: the same container starts
// again, with the same address and mounts, and a fresh agent.
func (h *host) Restart(ctx context.Context) error {
	return h.start(ctx)
}

// leftovers returns the processes still running on the host, which the
// removal of its container then kills.
func (h *host) leftovers(ctx context.Context) []proctest.Leftover {
	conn := h.current()
	if conn == nil {
		return nil
	}
	select {
	case <-conn.done:
		return nil
	default:
	}
	if h.paused.Load() {
		if err := h.Resume(ctx); err != nil {
			return nil
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	m, err := conn.request(ctx, agent.Request{Op: agent.OpProcs}, nil)
	if err != nil {
		return nil
	}
	var left []proctest.Leftover
	for _, p := range m.Procs {
		left = append(left, proctest.Leftover{Name: p.Name, Pid: p.Pid, Command: p.Cmdline + " (on " + h.name + ")",
			Descendant: true, Stopped: "SIGKILL"})
	}
	return left
}

// containerName is the name of the host's container.
func (h *host) containerName() string { return h.s.netName + "-" + h.name }

// remove removes the container, killing what runs in it, and waits for
// the end of its agent's stream. A container whose create failed is
// removed by its name: a create that was cancelled may have made it.
func (h *host) remove(ctx context.Context) error {
	var err error
	ref := h.id
	if ref == "" {
		ref = h.containerName()
	}
	if _, rerr := h.s.c.ContainerRemove(ctx, ref, client.ContainerRemoveOptions{Force: true}); rerr != nil && !cerrdefs.IsNotFound(rerr) {
		err = fmt.Errorf("docker: remove host %s: %w", h.name, rerr)
	}
	if conn := h.current(); conn != nil {
		conn.close()
	}
	if h.log != nil {
		h.log.close()
	}
	return err
}

// agentLog is the file of a host's agent's diagnostics, made at the
// first.
type agentLog struct {
	path string
	mu   sync.Mutex
	f    *os.File
	last []byte
}

func (l *agentLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.last = append(l.last, p...)
	if len(l.last) > 2048 {
		l.last = l.last[len(l.last)-2048:]
	}
	if l.f == nil {
		f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil {
			return len(p), nil
		}
		l.f = f
	}
	l.f.Write(p)
	return len(p), nil
}

// tail returns the agent's last words, for an error message.
func (l *agentLog) tail() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.last) == 0 {
		return ""
	}
	return ": " + strings.TrimSpace(string(l.last)) + " (" + l.path + ")"
}

func (l *agentLog) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f != nil {
		l.f.Close()
		l.f = nil
	}
}

var _ io.Writer = (*agentLog)(nil)
