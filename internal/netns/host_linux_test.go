package netns_test

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/proctest/proctest/internal/netns"
)

// modes are the two ways of running hosts: in cgroups where possible,
// and through their inits only.
var modes = []struct {
	name   string
	cgroup bool
	want   netns.Method
}{
	{name: "cgroup", cgroup: true, want: netns.MethodCgroup},
	{name: "signal", cgroup: false, want: netns.MethodSignal},
}

// parentFor returns the cgroup parent for a mode.
func parentFor(t *testing.T, cgroup bool) string {
	if !cgroup {
		return ""
	}
	needHosts(t)
	return cgroupParent(t)
}

func TestSamePortOnEachHost(t *testing.T) {
	t.Parallel()
	n, hs := newNet(t, "", "n1", "n2", "n3")
	n1, n2, n3 := hs[0], hs[1], hs[2]
	// n2 and n3 listen on every address of theirs, loopback included;
	// n1 on its own address only.
	start(t, n1, "serve", addr(n1, 7000)).line(t)
	start(t, n2, "serve", ":7000").line(t)
	start(t, n3, "serve", ":7000").line(t)

	for _, to := range []*netns.Host{n2, n3} {
		c := start(t, n1, "client", addr(to, 7000))
		if got, want := c.line(t), "hello from :7000"; got != want {
			t.Errorf("client on n1 to %s: got %q, want %q", to.Name(), got, want)
		}
		if err := c.wait(t); err != nil {
			t.Errorf("client on n1 to %s: %v", to.Name(), err)
		}
	}
	c := start(t, n1, "client", "127.0.0.1:7000")
	if err := c.wait(t); err == nil {
		t.Errorf("client on n1 to 127.0.0.1:7000 = success, want failure: loopback is the host's own")
	}

	// The control point and the hosts' dialers reach every host.
	ctx := testCtx(t)
	for _, h := range hs {
		conn, err := n.DialContext(ctx, "tcp", addr(h, 7000))
		if err != nil {
			t.Fatalf("Network.DialContext(%s) = %v", addr(h, 7000), err)
		}
		b, _ := io.ReadAll(conn)
		conn.Close()
		if !strings.HasPrefix(string(b), "hello from ") {
			t.Errorf("from the control point, %s answered %q", h.Name(), b)
		}
	}
	conn, err := n1.DialContext(ctx, "tcp", addr(n3, 7000))
	if err != nil {
		t.Fatalf("n1.DialContext(%s) = %v", addr(n3, 7000), err)
	}
	conn.Close()
	if _, err := n1.DialContext(ctx, "tcp", "127.0.0.1:7000"); err == nil {
		t.Errorf("n1.DialContext(127.0.0.1:7000) = success, want failure")
	}
}

func TestKillHost(t *testing.T) {
	t.Parallel()
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			n, hs := newNet(t, parentFor(t, m.cgroup), "n1", "n2")
			n2 := hs[1]
			srv := start(t, n2, "serve", addr(n2, 7000))
			srv.line(t)
			if err := start(t, n2, "daemon").wait(t); err != nil {
				t.Fatalf("daemon: %v", err)
			}
			pids, err := n2.Procs()
			if err != nil {
				t.Fatal(err)
			}
			if len(pids) != 2 {
				t.Fatalf("Procs() = %v, want the server and the daemon's sleep", pids)
			}
			starts := map[int]string{}
			for _, pid := range pids {
				starts[pid] = startTime(pid)
			}

			cgroup := n2.Cgroup()
			if m.cgroup == (cgroup == "") {
				t.Errorf("Cgroup() = %q", cgroup)
			}
			got, err := n2.Kill()
			if err != nil || got != m.want {
				t.Fatalf("Kill() = %v, %v, want %v", got, err, m.want)
			}
			if err := srv.wait(t); !killedBySIGKILL(err) {
				t.Errorf("server on the killed host ended with %v, want signal: killed", err)
			}
			ctx := testCtx(t)
			if err := n2.Wait(ctx); err != nil {
				t.Fatalf("Wait() = %v", err)
			}
			for pid, st := range starts {
				if st != "" && startTime(pid) == st {
					t.Errorf("process %d of the killed host is still there", pid)
				}
			}
			if cgroup != "" {
				if _, err := os.Stat(cgroup); err == nil {
					t.Errorf("cgroup %s left after Wait", cgroup)
				}
			}
			short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
			defer cancel()
			if c, err := n.DialContext(short, "tcp", addr(n2, 7000)); err == nil {
				c.Close()
				t.Errorf("the killed host's address still answers")
			}
			if err := n2.Start(exec.Command("true")); err == nil {
				t.Errorf("Start on a killed host = nil, want an error")
			}
		})
	}
}

func TestRestartHost(t *testing.T) {
	t.Parallel()
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			n, hs := newNet(t, parentFor(t, m.cgroup), "n1", "n2")
			n1, n2 := hs[0], hs[1]
			ctx := testCtx(t)
			if err := n2.Restart(ctx); err == nil {
				t.Errorf("Restart of a running host = nil, want an error")
			}
			for i := range 3 {
				srv := start(t, n2, "serve", addr(n2, 7000))
				srv.line(t)
				c := start(t, n1, "client", addr(n2, 7000))
				if got := c.line(t); got != "hello from "+addr(n2, 7000) {
					t.Fatalf("life %d: client got %q", i, got)
				}
				c.wait(t)
				if _, err := n2.Kill(); err != nil {
					t.Fatal(err)
				}
				srv.wait(t)
				if err := n2.Wait(ctx); err != nil {
					t.Fatal(err)
				}
				if err := n2.Restart(ctx); err != nil {
					t.Fatalf("life %d: Restart() = %v", i, err)
				}
				if m.cgroup && n2.Cgroup() == "" {
					t.Errorf("restarted host has no cgroup")
				}
			}
			srv := start(t, n2, "serve", addr(n2, 7000))
			srv.line(t)
			conn, err := n.DialContext(ctx, "tcp", addr(n2, 7000))
			if err != nil {
				t.Fatalf("dial the restarted host: %v", err)
			}
			conn.Close()
		})
	}
}

func TestPauseHost(t *testing.T) {
	t.Parallel()
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			_, hs := newNet(t, parentFor(t, m.cgroup), "n1", "n2")
			n2 := hs[1]
			ctx := testCtx(t)
			file := filepath.Join(t.TempDir(), "ticks")
			tick := start(t, n2, "ticker", file)
			tick.line(t)
			size := func() int64 {
				fi, err := os.Stat(file)
				if err != nil {
					t.Fatal(err)
				}
				return fi.Size()
			}
			got, err := n2.Pause(ctx)
			if err != nil || got != m.want {
				t.Fatalf("Pause() = %v, %v, want %v", got, err, m.want)
			}
			if again, err := n2.Pause(ctx); again != got || err != nil {
				t.Errorf("second Pause() = %v, %v, want %v, nil", again, err, got)
			}
			if err := n2.Start(exec.Command("true")); err == nil {
				t.Errorf("Start on a paused host = nil, want an error")
			}
			before := size()
			time.Sleep(300 * time.Millisecond)
			if after := size(); after != before {
				t.Errorf("paused ticker wrote %d bytes in 300 ms", after-before)
			}
			if err := n2.Resume(ctx); err != nil {
				t.Fatalf("Resume() = %v", err)
			}
			if err := poll(ctx, func() bool { return size() > before }); err != nil {
				t.Errorf("resumed ticker writes nothing: %v", err)
			}
			// A paused host can be killed.
			if _, err := n2.Pause(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := n2.Kill(); err != nil {
				t.Fatal(err)
			}
			if err := tick.wait(t); !killedBySIGKILL(err) {
				t.Errorf("ticker on the paused, killed host ended with %v, want signal: killed", err)
			}
		})
	}
}

// poll calls cond until it is true, or ctx ends.
func poll(ctx context.Context, cond func() bool) error {
	for delay := 100 * time.Microsecond; !cond(); delay = min(2*delay, 20*time.Millisecond) {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
	}
	return nil
}

func TestMisuse(t *testing.T) {
	t.Parallel()
	n, hs := newNet(t, "", "n1")
	ctx := testCtx(t)
	for _, c := range []struct {
		name string
		addr string
	}{
		{"n1", "10.77.0.9"},   // name taken
		{"n2", "10.77.0.1"},   // address taken
		{"n3", "10.78.0.1"},   // outside
		{"n4", "10.77.0.254"}, // the switch
		{"n5", "10.77.0.255"}, // broadcast
		{"-x", "10.77.0.7"},   // bad name
		{"a/b", "10.77.0.8"},  // bad name
	} {
		if _, err := n.AddHost(ctx, c.name, mustAddr(c.addr), ""); err == nil {
			t.Errorf("AddHost(%q, %s) = nil error, want one", c.name, c.addr)
		}
	}
	cmd := exec.Command("true")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := hs[0].Start(cmd); err == nil {
		cmd.Wait()
		t.Errorf("Start with Pdeathsig = nil, want an error")
	}
	if _, err := netns.NewNetwork(mustPrefix("10.77.0.0/25")); err == nil {
		t.Errorf("NewNetwork(/25) = nil error, want one")
	}
	if err := n.Apply(netns.State{Drop: map[string][]string{"n1": {"n9"}}}); err == nil {
		t.Errorf("Apply naming an unknown host = nil error, want one")
	}
	if got := n.State().String(); got != "healthy" {
		t.Errorf("after a failed Apply, State() = %q, want healthy", got)
	}
}

func TestStartStatus(t *testing.T) {
	t.Parallel()
	_, hs := newNet(t, "", "n1")
	for _, c := range []struct {
		cmd  string
		code int
	}{{"true", 0}, {"false", 1}} {
		path, err := exec.LookPath(c.cmd)
		if err != nil {
			t.Skip(err)
		}
		cmd := &exec.Cmd{Path: path, Args: []string{c.cmd}}
		if err := hs[0].Start(cmd); err != nil {
			t.Fatal(err)
		}
		err = cmd.Wait()
		var ee *exec.ExitError
		if code := 0; errors.As(err, &ee) {
			code = ee.ExitCode()
			if code != c.code {
				t.Errorf("%s on a host: exit %d, want %d", c.cmd, code, c.code)
			}
		} else if err != nil || c.code != 0 {
			t.Errorf("%s on a host: %v, want exit %d", c.cmd, err, c.code)
		}
	}
	// Hosts are IPv4 only.
	if _, err := os.Stat("/proc/sys/net/ipv6"); err == nil {
		out, err := hostOutput(hs[0], "cat", "/proc/sys/net/ipv6/conf/eth0/disable_ipv6")
		if err != nil || strings.TrimSpace(out) != "1" {
			t.Errorf("IPv6 on a host's eth0: disable_ipv6 = %q, %v, want 1", out, err)
		}
	}
	// The process is in the host's PID namespace, not pid 1.
	out, err := hostOutput(hs[0], "sh", "-c", "echo $$")
	if err != nil {
		t.Fatal(err)
	}
	if pid := strings.TrimSpace(out); pid == "1" || pid == "" {
		t.Errorf("a process on a host has pid %q in it, want one above 1", pid)
	}
}

// hostOutput runs a program on h and returns its standard output.
func hostOutput(h *netns.Host, name string, args ...string) (string, error) {
	path, err := exec.LookPath(name)
	if err != nil {
		return "", err
	}
	r, w, err := os.Pipe()
	if err != nil {
		return "", err
	}
	defer r.Close()
	cmd := &exec.Cmd{Path: path, Args: append([]string{name}, args...), Stdout: w}
	err = h.Start(cmd)
	w.Close()
	if err != nil {
		return "", err
	}
	b, _ := io.ReadAll(r)
	return string(b), cmd.Wait()
}
