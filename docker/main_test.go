package docker_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/proctest/proctest"
	"github.com/proctest/proctest/docker"
)

// The tests run against the engine of the machine. Where none answers
// they skip, except in CI (CI set), where they fail. TestMain builds the
// image of their hosts, FROM scratch with the static testprog, and
// removes it at the end.

var (
	// engineErr says why no engine answers, if none does.
	engineErr error
	// testImage is the image of the tests' hosts.
	testImage = fmt.Sprintf("proctest-docker-test:%d", os.Getpid())
)

func TestMain(m *testing.M) {
	if os.Getenv(crashChildEnv) != "" {
		crashChild()
	}
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if engineErr = docker.Available(ctx); engineErr == nil {
		if err := docker.BuildImage(ctx, testImage, docker.File{Path: "/bin/testprog", Package: "./internal/testprog"}); err != nil {
			fmt.Fprintln(os.Stderr, "build the test image:", err)
			return 1
		}
		defer docker.RemoveImage(context.Background(), testImage)
		docker.TestImage = testImage
	}
	return m.Run()
}

// needEngine skips the test where no engine answers, or fails it in CI.
func needEngine(t testing.TB) {
	t.Helper()
	if engineErr != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("no Docker engine, in CI: %v", engineErr)
		}
		t.Skip("no Docker engine:", engineErr)
	}
}

// execute runs the plan built by build on the docker backend with the
// test image.
func execute(t *testing.T, build func(p *proctest.Plan), opts ...proctest.Option) error {
	t.Helper()
	needEngine(t)
	opts = append([]proctest.Option{proctest.LogDir(t.TempDir()), proctest.WithBackend(docker.New(docker.Image(testImage)))}, opts...)
	p := proctest.New(t.Name(), opts...)
	build(p)
	return p.Execute(context.Background())
}

// asError returns the failure of type E in err, or fails the test.
func asError[E error](t *testing.T, err error) E {
	t.Helper()
	var target E
	if err == nil {
		t.Fatalf("plan succeeded, want a %T", target)
	}
	if !errors.As(err, &target) {
		t.Fatalf("plan failed without a %T:\n%v", target, err)
	}
	return target
}

// TestThreeHosts runs a server on the same port on three hosts; a client
// on n1 reaches those of n2 and n3 by their addresses (and names), and
// n1's loopback is its own.
func TestThreeHosts(t *testing.T) {
	t.Parallel()
	err := execute(t, func(p *proctest.Plan) {
		var hosts []*proctest.Host
		var servers []*proctest.Proc
		for _, name := range []string{"n1", "n2", "n3"} {
			h := p.Host(name)
			srv := h.SpawnNamed("srv-"+name, "testprog", "listen", "{{"+name+".addr}}:7000")
			p.WaitPort(srv, "{{"+name+".addr}}:7000")
			hosts = append(hosts, h)
			servers = append(servers, srv)
		}
		n1 := hosts[0]
		for _, other := range hosts[1:] {
			get := n1.SpawnNamed("get-"+other.Name(), "testprog", "get", "http://{{"+other.Name()+".addr}}:7000/from-n1")
			p.Wait(get, 0)
			p.ExpectStdout(get, "^ok /from-n1 from "+other.Name()+"$")
		}
		// Docker's DNS knows the hosts by name.
		byName := n1.SpawnNamed("get-by-name", "testprog", "get", "http://n3:7000/by-name")
		p.Wait(byName, 0)
		p.ExpectStdout(byName, "^ok /by-name from n3$")
		local := n1.SpawnNamed("get-local", "testprog", "get", "http://127.0.0.1:7000/")
		p.Wait(local, 2)
		p.ExpectStderr(local, "connection refused")
		for _, srv := range servers {
			p.Kill(srv)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
}
