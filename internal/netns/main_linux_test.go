package netns_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/proctest/proctest/internal/netns"
	"go.uber.org/goleak"
)

// The test binary is each host's init (netns.MaybeRunInit) and stands in
// for the helper programs the tests run on hosts: started with helperEnv
// set to a helper's name, it is that helper.

const helperEnv = "NETNS_TEST_HELPER"

// helpers are the programs the test binary can be.
var helpers = map[string]func(args []string) int{
	// serve listens on args[0] (TCP), prints "ready", and answers each
	// connection with "hello from ADDR\n", its own listening address.
	"serve": func(args []string) int {
		l, err := net.Listen("tcp", args[0])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Println("ready")
		for {
			c, err := l.Accept()
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
			fmt.Fprintf(c, "hello from %s\n", args[0])
			c.Close()
		}
	},
	// client connects to args[0], prints the line it reads and exits 0,
	// or exits 1 if it cannot within a second.
	"client": func(args []string) int {
		c, err := net.DialTimeout("tcp", args[0], time.Second)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer c.Close()
		line, err := bufio.NewReader(c).ReadString('\n')
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Print(line)
		return 0
	},
	// daemon starts "sleep 60" in a session of its own (as setsid -f
	// does) and exits 0, leaving it behind.
	"daemon": func(args []string) int {
		cmd := exec.Command("sleep", "60")
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
		if err := cmd.Start(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		return 0
	},
	// ticker appends a line to the file args[0] every 5 ms.
	"ticker": func(args []string) int {
		f, err := os.OpenFile(args[0], os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Println("ready")
		for i := 0; ; i++ {
			fmt.Fprintf(f, "tick %d\n", i)
			time.Sleep(5 * time.Millisecond)
		}
	},
}

func TestMain(m *testing.M) {
	netns.MaybeRunInit()
	if name := os.Getenv(helperEnv); name != "" {
		os.Exit(helpers[name](os.Args[1:]))
	}
	goleak.VerifyTestMain(m)
}

// testCtx returns a context that ends a little before the test's
// deadline, if it has one.
func testCtx(t testing.TB) context.Context {
	ctx := context.Background()
	if tt, ok := t.(*testing.T); ok {
		if d, ok := tt.Deadline(); ok {
			c, cancel := context.WithDeadline(ctx, d.Add(-5*time.Second))
			t.Cleanup(cancel)
			return c
		}
	}
	c, cancel := context.WithTimeout(ctx, time.Minute)
	t.Cleanup(cancel)
	return c
}

// cgroupSeq numbers the cgroup parents of the tests.
var cgroupSeq atomic.Int64

// needHosts skips the test if this program cannot make hosts.
func needHosts(t testing.TB) {
	t.Helper()
	if err := netns.Available(); err != nil {
		t.Skipf("cannot test hosts here: %v", err)
	}
}

// cgroupParent returns a new cgroup parent for a network, or skips the
// test if there can be none.
func cgroupParent(t testing.TB) string {
	t.Helper()
	dir, err := netns.CgroupDir()
	if err != nil {
		t.Skipf("no cgroup v2 here: %v", err)
	}
	return filepath.Join(dir, fmt.Sprintf("proctest-netns-test-%d-%d", os.Getpid(), cgroupSeq.Add(1)))
}

// newNet makes a network on 10.77.0.0/24 with hosts named names, at
// .1, .2, ..., in cgroups under parent ("" for none). Closing it and
// checking that no cgroup directory is left are cleanups.
func newNet(t testing.TB, parent string, names ...string) (*netns.Network, []*netns.Host) {
	t.Helper()
	needHosts(t)
	ctx := testCtx(t)
	n, err := netns.NewNetwork(netip.MustParsePrefix("10.77.0.0/24"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := n.Close(ctx); err != nil {
			t.Errorf("Close() = %v", err)
		}
		if parent != "" {
			if _, err := os.Stat(parent); err == nil {
				t.Errorf("cgroup %s left after Close", parent)
				netns.RemoveCgroups(ctx, parent)
			}
		}
	})
	var hosts []*netns.Host
	for i, name := range names {
		h, err := n.AddHost(ctx, name, netip.AddrFrom4([4]byte{10, 77, 0, byte(i + 1)}), parent)
		if err != nil {
			t.Fatal(err)
		}
		hosts = append(hosts, h)
	}
	return n, hosts
}

// A proc is a helper running on a host, waited for by a goroutine of its
// own from its start, as a host's processes must be (see Host.Wait).
type proc struct {
	cmd    *exec.Cmd
	stdout *bufio.Reader
	stderr string // its file
	done   chan struct{}
	err    error // of Wait, once done is closed
}

// start starts the helper args[0] with arguments args[1:] on h.
func start(t testing.TB, h *netns.Host, args ...string) *proc {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	errf, err := os.CreateTemp(t.TempDir(), args[0]+".stderr")
	if err != nil {
		t.Fatal(err)
	}
	defer errf.Close()
	p := &proc{
		cmd: &exec.Cmd{
			Path:   exe,
			Args:   append([]string{exe}, args[1:]...),
			Env:    append(os.Environ(), helperEnv+"="+args[0]),
			Stdout: w,
			Stderr: errf,
		},
		stdout: bufio.NewReader(r),
		stderr: errf.Name(),
		done:   make(chan struct{}),
	}
	if err := h.Start(p.cmd); err != nil {
		r.Close()
		t.Fatalf("Start(%v) = %v", args, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.done
		r.Close()
	})
	return p
}

// line reads a line of p's output.
func (p *proc) line(t testing.TB) string {
	t.Helper()
	s, err := p.stdout.ReadString('\n')
	if err != nil {
		b, _ := os.ReadFile(p.stderr)
		t.Fatalf("%v: reading its output: %v; its stderr: %s", p.cmd.Args, err, b)
	}
	return strings.TrimSuffix(s, "\n")
}

// wait waits for p to end and returns its error.
func (p *proc) wait(t testing.TB) error {
	t.Helper()
	select {
	case <-p.done:
		return p.err
	case <-testCtx(t).Done():
		t.Fatalf("%v has not ended", p.cmd.Args)
		return nil
	}
}

// killedBySIGKILL reports whether err is that of a process killed by
// SIGKILL.
func killedBySIGKILL(err error) bool {
	ee, ok := err.(*exec.ExitError)
	if !ok {
		return false
	}
	ws := ee.Sys().(syscall.WaitStatus)
	return ws.Signaled() && ws.Signal() == syscall.SIGKILL
}

// addr returns h's address with port.
func addr(h *netns.Host, port int) string {
	return netip.AddrPortFrom(h.Addr(), uint16(port)).String()
}

// startTime returns the start time of pid from /proc, "" if it is gone.
func startTime(pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return ""
	}
	i := strings.LastIndexByte(string(b), ')')
	f := strings.Fields(string(b[i+2:]))
	if len(f) < 20 {
		return ""
	}
	return f[19]
}

func mustAddr(s string) netip.Addr     { return netip.MustParseAddr(s) }
func mustPrefix(s string) netip.Prefix { return netip.MustParsePrefix(s) }
