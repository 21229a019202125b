package docker

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/proctest/proctest"
)

// TestNetFaults partitions two container hosts at the receiving side:
// a dropped host's requests time out, the control point (this machine)
// still reaches the host, new connections only can be blocked, and
// healing restores everything; the faults survive a restart of the host.
func TestNetFaults(t *testing.T) {
	if TestImage == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("no Docker engine, in CI")
		}
		t.Skip("no Docker engine")
	}
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	sess, err := New(Image(TestImage)).Open(ctx, proctest.PlanInfo{Name: t.Name(), ID: "net-test", LogDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	s := sess.(*session)
	var tasks []proctest.Task
	defer func() {
		if _, err := s.Close(); err != nil {
			t.Error(err)
		}
		for _, tk := range tasks {
			tk.Wait()
		}
	}()
	var hosts []*host
	for _, name := range []string{"n1", "n2"} {
		os.Mkdir(filepath.Join(dir, "host-"+name), 0o755)
		hh, err := s.AddHost(ctx, proctest.HostSpec{Name: name, Dir: filepath.Join(dir, "host-"+name)})
		if err != nil {
			t.Fatal(err)
		}
		hosts = append(hosts, hh.(*host))
	}
	n1, n2 := hosts[0], hosts[1]
	n := 0
	start := func(h *host, args ...string) proctest.Task {
		t.Helper()
		n++
		out, err := os.Create(filepath.Join(dir, "out"+string(rune('0'+n))))
		if err != nil {
			t.Fatal(err)
		}
		defer out.Close()
		tk, err := h.Start(&proctest.Command{Name: args[0], Args: append([]string{"testprog"}, args...), Stdout: out, Stderr: out})
		if err != nil {
			t.Fatal(err)
		}
		tasks = append(tasks, tk)
		return tk
	}
	srvAddr := n2.addr.String() + ":7000"
	start(n2, "listen", srvAddr)
	get := func(from *host) proctest.Status {
		t.Helper()
		st, err := start(from, "get", "http://"+srvAddr+"/", "1000").Wait()
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	controlPoint := func() error {
		d := net.Dialer{Timeout: time.Second}
		c, err := d.DialContext(ctx, "tcp", srvAddr)
		if err == nil {
			c.Close()
		}
		return err
	}
	for wait := time.Millisecond; controlPoint() != nil; wait = min(2*wait, 100*time.Millisecond) {
		time.Sleep(wait)
	}
	if st := get(n1); st.Code != 0 {
		t.Fatalf("healthy: get from n1 = %v, want exit 0", st)
	}
	// n2 drops n1: n1's requests time out; this machine still gets in.
	if err := s.Apply(ctx, proctest.NetState{Drop: map[string][]string{"n2": {"n1"}}}); err != nil {
		t.Fatal(err)
	}
	if st := get(n1); st.Code != 2 {
		t.Errorf("n2 drops n1: get from n1 = %v, want exit 2", st)
	}
	if err := controlPoint(); err != nil {
		t.Errorf("n2 drops n1: the control point cannot reach n2: %v", err)
	}
	// Packets dropped at n2 from n1 survive n2's restart.
	if _, err := n2.Kill(); err != nil {
		t.Fatal(err)
	}
	if err := n2.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if err := n2.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	srv := start(n2, "listen", srvAddr)
	for wait := time.Millisecond; controlPoint() != nil; wait = min(2*wait, 100*time.Millisecond) {
		time.Sleep(wait)
	}
	if st := get(n1); st.Code != 2 {
		t.Errorf("n2 drops n1, after n2's restart: get from n1 = %v, want exit 2", st)
	}
	// New connections only: the same for a new request.
	if err := s.Apply(ctx, proctest.NetState{DropNew: map[string][]string{"n2": {"n1"}}}); err != nil {
		t.Fatal(err)
	}
	if st := get(n1); st.Code != 2 {
		t.Errorf("n2 drops new connections from n1: get from n1 = %v, want exit 2", st)
	}
	// Healed.
	if err := s.Apply(ctx, proctest.NetState{}); err != nil {
		t.Fatal(err)
	}
	if st := get(n1); st.Code != 0 {
		t.Errorf("healed: get from n1 = %v, want exit 0", st)
	}
	if err := s.Apply(ctx, proctest.NetState{Drop: map[string][]string{"n2": {"n3"}}}); err == nil {
		t.Errorf("Apply naming no host n3 succeeded")
	}
	srv.Signal(syscall.SIGTERM)
	if st, _ := srv.Wait(); st.Signal != syscall.SIGTERM {
		t.Errorf("server ended with %v, want SIGTERM", st)
	}
}
