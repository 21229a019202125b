package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/proctest/proctest/docker"
	"github.com/proctest/proctest/internal/cli"
)

// TestRunPlanOnContainers runs a plan script with hosts through the
// command: the hosts are containers of an image built here. A script's
// processes run in $WORK, which containers do not have: those on hosts
// name their directory. Then the same through proctest run -backend.
func TestRunPlanOnContainers(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := docker.Available(ctx); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("no Docker engine, in CI: %v", err)
		}
		t.Skip("no Docker engine:", err)
	}
	image := fmt.Sprintf("proctest-docker-cmd-test:%d", os.Getpid())
	if err := docker.BuildImage(ctx, image, docker.File{Path: "/bin/testprog", Package: "github.com/proctest/proctest/docker/internal/testprog"}); err != nil {
		t.Fatal(err)
	}
	defer docker.RemoveImage(context.Background(), image)
	dir := t.TempDir()
	plan := filepath.Join(dir, "hosts.plan")
	os.WriteFile(plan, []byte(`host n1 n2
spawn -host n2 -dir / -name srv /bin/testprog listen ${n2.addr}:7000
wait-stdout srv '^listening'
spawn -host n1 -dir / -name get /bin/testprog get http://${n2.addr}:7000/x
wait get 0
expect-stdout get '^ok /x from n2'
partition n1 / n2
spawn -host n1 -dir / -name cut /bin/testprog get http://${n2.addr}:7000/y 300
wait cut 2
heal
kill srv
`), 0o644)
	var stdout, stderr strings.Builder
	code := run([]string{"-image", image, "run", "-logdir", filepath.Join(dir, "logs"), plan}, &stdout, &stderr)
	if code != 0 || !strings.Contains(stdout.String(), "--- PASS: "+plan) {
		t.Errorf("proctest-docker run = %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}

	// The same through proctest run -backend, with this command
	// installed in PATH.
	bin := filepath.Join(dir, "bin")
	if out, err := exec.Command("go", "build", "-o", filepath.Join(bin, "proctest-docker"), ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	t.Setenv("PATH", bin+":"+os.Getenv("PATH"))
	stdout.Reset()
	stderr.Reset()
	code = cli.Main([]string{"run", "-backend", "docker -image " + image, "-logdir", filepath.Join(dir, "logs"), plan}, &stdout, &stderr)
	if code != 0 || !strings.Contains(stdout.String(), "--- PASS: "+plan) {
		t.Errorf("proctest run -backend docker = %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
}

// TestUsage checks that the command says how it is used.
func TestUsage(t *testing.T) {
	var stdout, stderr strings.Builder
	if code := run(nil, &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), "usage: proctest-docker -image IMAGE") {
		t.Errorf("run() = %d, stderr %q, want 2 and the usage", code, stderr.String())
	}
}
