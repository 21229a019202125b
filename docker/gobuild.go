package docker

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
)

// AgentEnv, if set in the environment, is the path of a proctest-agent
// binary to use instead of building one. The binary must be static (built
// with CGO_ENABLED=0) for the engine's platform.
const AgentEnv = "PROCTEST_DOCKER_AGENT"

// agentPackage is the agent's command, built for each program that makes
// container hosts.
const agentPackage = "github.com/proctest/proctest/docker/cmd/proctest-agent"

var agentBin struct {
	once sync.Once
	data []byte
	err  error
}

// agentBinary returns the agent program: the file named by AgentEnv, or
// the agent built once per program with the go command. It is kept in
// memory: nothing is left on disk.
func agentBinary(ctx context.Context) ([]byte, error) {
	agentBin.once.Do(func() {
		if path := os.Getenv(AgentEnv); path != "" {
			agentBin.data, agentBin.err = os.ReadFile(path)
			if agentBin.err != nil {
				agentBin.err = fmt.Errorf("docker: agent (%s): %w", AgentEnv, agentBin.err)
			}
			return
		}
		agentBin.data, agentBin.err = goBuild(ctx, startDir, agentPackage)
		if agentBin.err != nil {
			agentBin.err = fmt.Errorf("docker: the container agent: %w (or set %s to a proctest-agent built with CGO_ENABLED=0)", agentBin.err, AgentEnv)
		}
	})
	return agentBin.data, agentBin.err
}

// startDir is the directory the program started in: for a test, its
// package's, in a module that requires this one. The agent is built
// there, so that a test that changes its working directory still finds
// it.
var startDir, _ = os.Getwd()

// goBuild builds the Go command pkg static (CGO_ENABLED=0) for Linux on
// this machine's architecture, in the module of dir (the current
// directory's if dir is ""), and returns the binary.
func goBuild(ctx context.Context, dir, pkg string) ([]byte, error) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		return nil, fmt.Errorf("go build %s: %w", pkg, err)
	}
	tmp, err := os.MkdirTemp("", "proctest-docker-build-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	out := filepath.Join(tmp, "bin")
	cmd := exec.CommandContext(ctx, goTool, "build", "-trimpath", "-ldflags=-s -w", "-o", out, pkg)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stdout = &stderr
	cmd.Stderr = &stderr
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH, "GOFLAGS="+goFlags())
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("go build %s: %w: %s", pkg, err, strings.TrimSpace(stderr.String()))
	}
	return os.ReadFile(out)
}

// goFlags returns GOFLAGS without the flags a static build cannot take.
func goFlags() string {
	var keep []string
	for f := range strings.FieldsSeq(os.Getenv("GOFLAGS")) {
		if f == "-race" || f == "-msan" || f == "-asan" || strings.HasPrefix(f, "-cover") {
			continue
		}
		keep = append(keep, f)
	}
	return strings.Join(keep, " ")
}
