package docker_test

import (
	"testing"

	"github.com/proctest/proctest"
)

// TestIsolateBlockHeal: the network faults behave as on namespace hosts
// (network_test.go of the proctest package). Isolate cuts a host both
// ways and Heal mends it; Block cuts one way only, at the packet level:
// none of n1's datagrams reach n3, all of n3's reach n1.
func TestIsolateBlockHeal(t *testing.T) {
	t.Parallel()
	err := execute(t, func(p *proctest.Plan) {
		n1, n2, n3 := p.Host("n1"), p.Host("n2"), p.Host("n3")
		var servers []*proctest.Proc
		for _, h := range []*proctest.Host{n1, n2, n3} {
			srv := h.SpawnNamed("srv-"+h.Name(), "testprog", "listen", "{{"+h.Name()+".addr}}:7000")
			p.WaitPort(srv, "{{"+h.Name()+".addr}}:7000")
			servers = append(servers, srv)
		}
		get := func(name string, from *proctest.Host, to string, code int) {
			g := from.SpawnNamed(name, "testprog", "get", "http://{{"+to+".addr}}:7000/"+name, "300")
			p.Wait(g, code)
		}
		p.Isolate(n3)
		get("n1-n3-isolated", n1, "n3", 2)
		get("n3-n1-isolated", n3, "n1", 2)
		get("n1-n2-isolated", n1, "n2", 0)
		get("n2-n1-isolated", n2, "n1", 0)
		p.Heal()
		get("n1-n3-healed", n1, "n3", 0)
		get("n3-n1-healed", n3, "n1", 0)

		p.Block(n1, n3)
		for _, c := range []struct {
			from, to *proctest.Host
			want     string
		}{{n1, n3, "^got 0$"}, {n3, n1, "^got 200$"}} {
			count := c.to.SpawnNamed("count-on-"+c.to.Name(), "testprog", "udp-count", "{{"+c.to.Name()+".addr}}:9000")
			p.WaitStdout(count, "^listening$")
			send := c.from.SpawnNamed("send-from-"+c.from.Name(), "testprog", "udp-send", "{{"+c.to.Name()+".addr}}:9000", "200")
			p.Wait(send, 0)
			p.Wait(count, 0)
			p.ExpectStdout(count, c.want)
		}
		p.Heal()
		get("n1-n3-unblocked", n1, "n3", 0)
		for _, srv := range servers {
			p.Kill(srv)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
}
