package main

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/proctest/proctest"
)

// replicaNode adds the step that starts a node of the failover, a replica of
// leader unless leader is "", and returns it. Marked as a helper, its
// steps are reported at the caller's line.
func replicaNode(p *proctest.Plan, name, port, leader string) *proctest.Proc {
	p.Helper()
	args := []string{"serve", "-name", name, "-addr", "127.0.0.1:" + port}
	if leader != "" {
		args = append(args, "-leader", leader)
	}
	n := p.SpawnNamed(name, kv, args...)
	if leader != "" {
		p.WaitStdout(n, fmt.Sprintf(`^%s caught up at version \d+$`, name))
	}
	return n
}

// TestFailover is failover.plan in Go: the primary crashes, a replica is
// promoted, and the old primary comes back as a replica of the new one.
func TestFailover(t *testing.T) {
	t.Parallel()
	proctest.Run(t, func(p *proctest.Plan) {
		p.SetTimeout(30 * time.Second)
		p.SetTimeoutSignal(syscall.SIGQUIT) // a hung node dumps its goroutines
		p1, p2, p3 := p.FreePort("p1"), p.FreePort("p2"), p.FreePort("p3")
		addr := func(port *proctest.Var) string { return "127.0.0.1:" + port.String() }
		nodes := strings.Join([]string{addr(p1), addr(p2), addr(p3)}, ",")
		n1 := replicaNode(p, "n1", p1.String(), "")
		n2 := replicaNode(p, "n2", p2.String(), addr(p1))
		n3 := replicaNode(p, "n3", p3.String(), addr(p1))

		// Which node leads? Learned while the plan runs.
		p.Exec(kv, "leader", "-addrs", nodes).Stdout(`^leader (?P<failed>\S+) at (?P<failed_addr>\S+)$`)
		p.Exec(kv, "put", "-addr", "{{failed_addr}}", "color", "blue").Stdout(`^ok version 1$`)
		p.Retry(kv, "get", "-addr", addr(p3), "color").Stdout(`^blue$`)

		// The primary crashes.
		failed := p.Which(p.Var("failed"), n1, n2, n3)
		p.Kill(failed, proctest.Using(syscall.SIGKILL))

		// Fail over to n2; n3 follows it.
		p.Exec(kv, "promote", "-addr", addr(p2)).Named("promote").Stdout(`^ok version 1$`)
		p.Exec(kv, "follow", "-addr", addr(p3), "-leader", addr(p2)).Named("follow")
		p.Retry(kv, "leader", "-addrs", nodes).Named("who").Stdout(`^leader (?P<primary>\S+) at (?P<primary_addr>\S+)$`)
		p.Exec(kv, "put", "-addr", "{{primary_addr}}", "shape", "circle").Stdout(`^ok version 2$`)
		p.Retry(kv, "get", "-addr", addr(p3), "shape").Stdout(`^circle$`)

		// The old primary comes back, empty, as a replica of the new one.
		p.Restart(failed)
		p.Retry(kv, "follow", "-addr", "{{failed_addr}}", "-leader", "{{primary_addr}}").Named("rejoin")
		p.Retry(kv, "get", "-addr", "{{failed_addr}}", "color").Stdout(`^blue$`)
		p.Exec(kv, "put", "-addr", "{{failed_addr}}", "color", "red").Named("refused").Exits(1).Stderr(`is a follower`)

		primary := p.Which(p.Var("primary"), n1, n2, n3)
		p.Kill(failed, failed.Exits(0))
		p.Kill(primary, primary.Exits(0))
		p.Kill(n3, n3.Exits(0))
	})
}
