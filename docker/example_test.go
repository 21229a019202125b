package docker_test

import (
	"context"
	"fmt"

	"github.com/proctest/proctest"
	"github.com/proctest/proctest/docker"
)

// A server on one host, a client on another reaching it by its address,
// then the server's host killed: the server dies by SIGKILL. (Not run:
// it needs a Docker engine.)
func ExampleNew() {
	ctx := context.Background()
	if err := docker.BuildImage(ctx, "example:test", docker.File{Path: "/bin/testprog", Package: "./internal/testprog"}); err != nil {
		fmt.Println(err)
		return
	}
	defer docker.RemoveImage(ctx, "example:test")
	p := proctest.New("example", proctest.WithBackend(docker.New(docker.Image("example:test"))))
	n1, n2 := p.Host("n1"), p.Host("n2")
	srv := n1.Spawn("testprog", "listen", "{{n1.addr}}:7000")
	p.WaitPort(srv, "{{n1.addr}}:7000")
	get := n2.Spawn("testprog", "get", "http://{{n1.addr}}:7000/hello")
	p.Wait(get, 0)
	p.ExpectStdout(get, "^ok /hello from n1$")
	p.KillHost(n1)
	fmt.Println(p.Execute(ctx))
}
