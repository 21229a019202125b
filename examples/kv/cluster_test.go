package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/proctest/proctest"
)

// The cluster tests run the real kv program, built once by TestMain, as a
// user of proctest would: a leader and followers started and made ready,
// writes through a client, a follower killed and restarted.

var kv string // the built program

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "kv-build-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	kv = filepath.Join(dir, "kv")
	if out, err := exec.Command("go", "build", "-o", kv, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building kv: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// addNode adds the steps that start a node and wait until it listens and
// (for a follower) has caught up. It returns the process and a reference
// to its address.
func addNode(p *proctest.Plan, name string, leader *proctest.Var) (*proctest.Proc, *proctest.Var) {
	args := []string{"serve", "-name", name, "-addr", "127.0.0.1:0"}
	if leader != nil {
		args = append(args, "-leader", leader.String())
	}
	n := p.SpawnNamed(name, kv, args...)
	p.WaitStdout(n, fmt.Sprintf(`^%s listening on (?P<%s>\S+)$`, name, name))
	if leader != nil {
		p.WaitStdout(n, fmt.Sprintf(`^%s caught up at version \d+$`, name))
	}
	return n, p.Var(name)
}

// client adds the steps that run a kv client command and wait for its
// exit code.
func client(p *proctest.Plan, name string, code int, args ...string) *proctest.Proc {
	c := p.SpawnNamed(name, kv, args...)
	p.Wait(c, code)
	return c
}

func TestReplication(t *testing.T) {
	t.Parallel()
	proctest.Run(t, func(p *proctest.Plan) {
		leader, laddr := addNode(p, "leader", nil)
		f1, f1addr := addNode(p, "f1", p.Var("leader"))
		f2, f2addr := addNode(p, "f2", p.Var("leader"))

		put := client(p, "put1", 0, "put", "-addr", laddr.String(), "color", "blue")
		p.ExpectStdout(put, `^ok version 1$`)
		client(p, "sync1", 0, "wait", "-addr", f2addr.String(), "-version", "1")
		get := client(p, "get1", 0, "get", "-addr", f2addr.String(), "color")
		p.ExpectStdout(get, `^blue$`)

		// A follower stopped gracefully misses a write, then catches up.
		p.Kill(f1, f1.Exits(0))
		client(p, "put2", 0, "put", "-addr", laddr.String(), "shape", "circle")
		p.Restart(f1)
		p.WaitStdout(f1, `^f1 listening on (?P<f1>\S+)$`)
		client(p, "sync2", 0, "wait", "-addr", f1addr.String(), "-version", "2")
		get2 := client(p, "get2", 0, "get", "-addr", f1addr.String(), "shape")
		p.ExpectStdout(get2, `^circle$`)

		p.Kill(f1, f1.Exits(0))
		p.Kill(f2, f2.Exits(0))
		p.Kill(leader, leader.Exits(0))
	})
}

func TestLeaderCrashIsReported(t *testing.T) {
	t.Parallel()
	// The leader crashes on its second write: the plan must say so at
	// once, naming it and its exit code.
	p := proctest.New(t.Name(), proctest.LogDir(t.TempDir()))
	leader := p.SpawnNamed("leader", kv, "serve", "-name", "leader", "-addr", "127.0.0.1:0", "-crash-after", "2")
	p.WaitStdout(leader, `listening on (?P<addr>\S+)`)
	client(p, "put1", 0, "put", "-addr", "{{addr}}", "a", "1")
	client(p, "put2", 0, "put", "-addr", "{{addr}}", "b", "2")
	client(p, "put3", 0, "put", "-addr", "{{addr}}", "c", "3")
	p.Kill(leader, leader.Exits(0))
	err := p.Execute(t.Context())
	var ue *proctest.UnexpectedExitError
	if !errors.As(err, &ue) || ue.Proc != "leader" || ue.Status.Code != 3 {
		t.Fatalf("Execute = %v, want the leader's unexpected exit 3", err)
	}
}
