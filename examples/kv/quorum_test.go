package main

import (
	"os"
	"testing"

	"github.com/proctest/proctest"
)

// TestQuorumPartitions runs a three-member cluster in quorum mode on three
// hosts, with a client on a fourth host outside every group, and shows why
// a majority matters: with the leader on the majority side a write
// succeeds; with the leader alone it is refused, and the minority side
// never sees it; once healed, writes succeed and every member catches up.
func TestQuorumPartitions(t *testing.T) {
	if ok, why := proctest.Supported(proctest.FeatureHosts); !ok {
		if os.Getenv("CI") != "" {
			t.Fatalf("hosts are not supported here, in CI: %s", why)
		}
		t.Skip("hosts are not supported here:", why)
	}
	proctest.Run(t, func(p *proctest.Plan) {
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
		p.Wait(refused, 1).Timeout(3e9)
		p.ExpectStderr(refused, "no majority")
		read := c1.SpawnNamed("get-n3", kv, "get", "-addr", "{{n3.addr}}:7000", "color")
		p.Wait(read, 0)
		p.ExpectStdout(read, "^blue$")

		// Healed: once the followers are back (they get the refused
		// write, which stays in the leader's log), a write succeeds and
		// n3 catches up.
		p.Heal()
		p.Wait(c1.SpawnNamed("wait-n2-v2", kv, "wait", "-addr", "{{n2.addr}}:7000", "-version", "2", "-timeout", "20s"), 0).Timeout(25e9)
		again := c1.SpawnNamed("put-healed", kv, "put", "-addr", "{{n1.addr}}:7000", "color", "green")
		p.Wait(again, 0).Timeout(20e9)
		caught := c1.SpawnNamed("wait-n3", kv, "wait", "-addr", "{{n3.addr}}:7000", "-version", "3")
		p.Wait(caught, 0)
		final := c1.SpawnNamed("get-n3-healed", kv, "get", "-addr", "{{n3.addr}}:7000", "color")
		p.Wait(final, 0)
		p.ExpectStdout(final, "^green$")

		for _, f := range followers {
			p.Kill(f, f.Exits(0))
		}
		p.Kill(leader, leader.Exits(0))
	})
}
