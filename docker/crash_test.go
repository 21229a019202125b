package docker_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/proctest/proctest"
	"github.com/proctest/proctest/docker"
)

// crashChildEnv makes the test binary run crashChild, with the image it
// names.
const crashChildEnv = "PROCTEST_DOCKER_TEST_CRASH"

// crashChild runs a plan with two hosts running a process each, prints
// "running" once they run, and waits to be killed.
func crashChild() {
	p := proctest.New("crash", proctest.WithBackend(docker.New(docker.Image(os.Getenv(crashChildEnv)))))
	for _, name := range []string{"n1", "n2"} {
		h := p.Host(name)
		p.WaitStdout(h.Spawn("testprog", "listen", "{{"+name+".addr}}:7000"), "listening")
	}
	p.Go("report", func(ctx context.Context) error {
		fmt.Println("running")
		<-ctx.Done()
		return nil
	})
	p.Sleep(time.Hour)
	err := p.Execute(context.Background())
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}

// TestCrash kills a test binary with SIGKILL in the middle of a plan with
// two hosts: the guard's reaper removes every container and network
// labelled with the binary's run.
func TestCrash(t *testing.T) {
	needEngine(t)
	t.Parallel()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), crashChildEnv+"="+testImage, "PROCTEST_LOGDIR="+t.TempDir())
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if line != "running\n" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("the plan printed %q, %v; stderr:\n%s", line, err, stderr.String())
	}
	prefix := strconv.Itoa(cmd.Process.Pid) + "-"
	left := func() []string { return labelled(t, prefix) }
	if l := left(); len(l) != 3 {
		t.Errorf("before the kill: %q, want two containers and a network", l)
	}
	cmd.Process.Kill()
	cmd.Wait()
	killed := time.Now()
	for {
		l := left()
		if len(l) == 0 {
			break
		}
		if time.Since(killed) > time.Minute {
			t.Fatalf("%v after SIGKILL of the plan's program, still there: %q", time.Since(killed), l)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("all gone %v after SIGKILL", time.Since(killed).Round(time.Millisecond))
}

// labelled lists the containers and networks whose LabelRun starts with
// prefix: made by the program of that pid.
func labelled(t *testing.T, prefix string) []string {
	t.Helper()
	c, err := client.New(client.FromEnv)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	f := make(client.Filters).Add("label", docker.LabelRun)
	var found []string
	cs, err := c.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		t.Fatal(err)
	}
	for _, ct := range cs.Items {
		if strings.HasPrefix(ct.Labels[docker.LabelRun], prefix) {
			found = append(found, "container "+strings.Join(ct.Names, ","))
		}
	}
	ns, err := c.NetworkList(ctx, client.NetworkListOptions{Filters: f})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range ns.Items {
		if strings.HasPrefix(n.Labels[docker.LabelRun], prefix) {
			found = append(found, "network "+n.Name)
		}
	}
	return found
}

// TestCancelWhileHostsStart cancels plans of three hosts at moments
// spread over the start of their containers, which start at once: each
// plan fails, and none leaves a container or a network. (Not parallel:
// it counts everything this program made.)
func TestCancelWhileHostsStart(t *testing.T) {
	needEngine(t)
	prefix := strconv.Itoa(os.Getpid()) + "-"
	for i := range 8 {
		ctx, cancel := context.WithTimeout(context.Background(), time.Duration(i)*150*time.Millisecond)
		p := proctest.New("cancel", proctest.LogDir(t.TempDir()), proctest.WithBackend(docker.New(docker.Image(testImage))))
		for _, name := range []string{"n1", "n2", "n3"} {
			p.Wait(p.Host(name).Spawn("testprog", "sleep"), 0)
		}
		err := p.Execute(ctx)
		cancel()
		if err == nil {
			t.Fatalf("round %d: the plan passed, want it cancelled", i)
		}
		if l := labelled(t, prefix); len(l) > 0 {
			t.Errorf("round %d (cancelled after %v): left %q", i, time.Duration(i)*150*time.Millisecond, l)
		}
	}
}
