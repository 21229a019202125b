// Package kvtest holds plans of the kv example that run unchanged on any
// backend with hosts: on the namespace hosts of the example's own tests,
// and on the containers of the docker module's.
package kvtest

import (
	"time"

	"github.com/proctest/proctest"
)

// QuorumPartitions builds the quorum example's plan: a three-member
// cluster in quorum mode on hosts n1, n2 and n3, with a client on a
// fourth host, c1, outside every group. It shows why a majority matters:
// with the leader on the majority side a write succeeds; with the leader
// alone it is refused, and the minority side never sees it; once healed,
// writes succeed and every member catches up. kv is the path of the kv
// program where the hosts run it.
func QuorumPartitions(kv string) func(p *proctest.Plan) {
	return func(p *proctest.Plan) {
		n1, n2, n3, c1 := p.Host("n1"), p.Host("n2"), p.Host("n3"), p.Host("c1")
		leader := n1.SpawnNamed("kv1", kv, "serve", "-name", "kv1", "-addr", "{{n1.addr}}:7000", "-quorum", "3")
		p.WaitHTTP(leader, "http://{{n1.addr}}:7000/healthz", 200)
		var followers []*proctest.Proc
		for _, h := range []*proctest.Host{n2, n3} {
			name := "kv" + h.Name()[1:]
			f := h.SpawnNamed(name, kv, "serve", "-name", name, "-addr", h.Addr().String()+":7000", "-leader", "{{n1.addr}}:7000")
			p.WaitHTTP(f, "http://"+h.Addr().String()+":7000/healthz", 200)
			followers = append(followers, f)
		}

		// n1 and n2 are a majority: the write is acknowledged.
		p.Partition(proctest.Hosts{n1, n2}, proctest.Hosts{n3})
		ok := c1.SpawnNamed("put-majority", kv, "put", "-addr", "{{n1.addr}}:7000", "color", "blue")
		p.Wait(ok, 0)
		p.ExpectStdout(ok, "^ok version 1$")
		p.Heal()
		p.Wait(c1.SpawnNamed("wait-n3-v1", kv, "wait", "-addr", "{{n3.addr}}:7000", "-version", "1"), 0)

		// n1 alone is a minority: the write is refused, within 3 s, and
		// n3 does not have it: it still has the value before.
		p.Partition(proctest.Hosts{n1}, proctest.Hosts{n2, n3})
		refused := c1.SpawnNamed("put-minority", kv, "put", "-addr", "{{n1.addr}}:7000", "color", "red")
		p.Wait(refused, 1).Timeout(3 * time.Second)
		p.ExpectStderr(refused, "no majority")
		read := c1.SpawnNamed("get-n3", kv, "get", "-addr", "{{n3.addr}}:7000", "color")
		p.Wait(read, 0)
		p.ExpectStdout(read, "^blue$")

		// Healed: once the followers are back (they get the refused
		// write, which stays in the leader's log), a write succeeds and
		// n3 catches up.
		p.Heal()
		p.Wait(c1.SpawnNamed("wait-n2-v2", kv, "wait", "-addr", "{{n2.addr}}:7000", "-version", "2", "-timeout", "20s"), 0).Timeout(25 * time.Second)
		again := c1.SpawnNamed("put-healed", kv, "put", "-addr", "{{n1.addr}}:7000", "color", "green")
		p.Wait(again, 0).Timeout(20 * time.Second)
		caught := c1.SpawnNamed("wait-n3", kv, "wait", "-addr", "{{n3.addr}}:7000", "-version", "3")
		p.Wait(caught, 0)
		final := c1.SpawnNamed("get-n3-healed", kv, "get", "-addr", "{{n3.addr}}:7000", "color")
		p.Wait(final, 0)
		p.ExpectStdout(final, "^green$")

		for _, f := range followers {
			p.Kill(f, f.Exits(0))
		}
		p.Kill(leader, leader.Exits(0))
	}
}
