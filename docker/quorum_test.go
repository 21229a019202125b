package docker_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/proctest/proctest"
	"github.com/proctest/proctest/docker"
)

// TestQuorumPartitions is the quorum example of examples/kv
// (TestQuorumPartitions there) on containers: the same plan, but for the
// backend option and the program's path in the image, which the test
// builds from scratch with the kv program, nothing pulled.
func TestQuorumPartitions(t *testing.T) {
	needEngine(t)
	ctx := context.Background()
	image := fmt.Sprintf("proctest-kv-test:%d", os.Getpid())
	if err := docker.BuildImage(ctx, image, docker.File{Path: "/bin/kv", Package: "github.com/proctest/proctest/examples/kv"}); err != nil {
		t.Fatal(err)
	}
	defer docker.RemoveImage(ctx, image)
	const kv = "/bin/kv"
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

		p.Partition(proctest.Hosts{n1, n2}, proctest.Hosts{n3})
		ok := c1.SpawnNamed("put-majority", kv, "put", "-addr", "{{n1.addr}}:7000", "color", "blue")
		p.Wait(ok, 0)
		p.ExpectStdout(ok, "^ok version 1$")
		p.Heal()
		p.Wait(c1.SpawnNamed("wait-n3-v1", kv, "wait", "-addr", "{{n3.addr}}:7000", "-version", "1"), 0)

		p.Partition(proctest.Hosts{n1}, proctest.Hosts{n2, n3})
		refused := c1.SpawnNamed("put-minority", kv, "put", "-addr", "{{n1.addr}}:7000", "color", "red")
		p.Wait(refused, 1).Timeout(3 * time.Second)
		p.ExpectStderr(refused, "no majority")
		read := c1.SpawnNamed("get-n3", kv, "get", "-addr", "{{n3.addr}}:7000", "color")
		p.Wait(read, 0)
		p.ExpectStdout(read, "^blue$")

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
	}, proctest.LogDir(t.TempDir()), proctest.WithBackend(docker.New(docker.Image(image))))
}
