package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/proctest/proctest"
	"github.com/proctest/proctest/docker"
)

// The docker workloads run plans whose hosts are containers of the
// Docker engine of this machine (package docker), as proctest only.

// exit0Package is the program the docker workloads spawn.
const exit0Package = "github.com/proctest/proctest/bench/internal/exit0"

// exit0Path is where the image has it.
const exit0Path = "/bin/exit0"

// PrepareDocker readies what the docker workloads need, where a Docker
// engine answers: exit0 built static into dir, and an image of it, named
// after this process, that the caller removes with [RemoveDockerImage]
// (or that is removed when this program has ended). It returns the image
// and the program. Where no engine answers it returns a *SkipError saying
// why. It runs the go command in the current directory, which must be in
// the bench module.
func PrepareDocker(dir string) (image, prog string, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := docker.Available(ctx); err != nil {
		return "", "", skip("no Docker engine: %v", err)
	}
	prog = filepath.Join(dir, "exit0")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", prog, exit0Package)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", "", fmt.Errorf("go build %s: %v: %s", exit0Package, err, strings.TrimSpace(string(out)))
	}
	image = fmt.Sprintf("proctest-bench:%d", os.Getpid())
	if err := docker.BuildImage(ctx, image, docker.File{Path: exit0Path, Source: prog}); err != nil {
		return "", "", err
	}
	return image, prog, nil
}

// RemoveDockerImage removes an image of [PrepareDocker].
func RemoveDockerImage(image string) error {
	return docker.RemoveImage(context.Background(), image)
}

// dockerPlan returns a plan on the docker backend with e.DockerImage,
// logging under e.LogRoot, or a *SkipError where there is no image.
func (e *Env) dockerPlan(name string, opts ...proctest.Option) (*proctest.Plan, error) {
	if e.DockerImage == "" {
		return nil, skip("%s", e.DockerMissing)
	}
	opts = append([]proctest.Option{proctest.WithBackend(docker.New(docker.Image(e.DockerImage)))}, opts...)
	return e.newPlan(name, opts...), nil
}

// dockerWarmUp runs a plan of one container host, untimed, so that what
// the docker backend does once per program (building its agent) and the
// engine's first container of the run are not counted.
func (e *Env) dockerWarmUp() error {
	p, err := e.dockerPlan("docker-warm-up")
	if err != nil {
		return err
	}
	p.Wait(p.Host("n1").Spawn(exit0Path), 0)
	if err := p.Execute(context.Background()); err != nil {
		return fmt.Errorf("warm-up: %w", err)
	}
	return nil
}

// proctestDockerHosts executes s.N plans of three container hosts, each
// running exit0 once, and measures each from the start of building it to
// the return of Execute, containers removed, and until its three hosts
// are up.
func proctestDockerHosts(e *Env, s Size) (Raw, error) {
	if err := e.dockerWarmUp(); err != nil {
		return Raw{}, err
	}
	var r Raw
	for range s.N {
		var up time.Duration
		start := time.Now()
		p, err := e.dockerPlan("docker-hosts", proctest.OnEvent(func(ev proctest.Event) {
			if ev.Kind == proctest.EventHost && strings.HasPrefix(ev.Detail, "up at ") {
				up = ev.Elapsed
			}
		}))
		if err != nil {
			return Raw{}, err
		}
		for _, name := range []string{"n1", "n2", "n3"} {
			p.Wait(p.Host(name).Spawn(exit0Path), 0)
		}
		if err := p.Execute(context.Background()); err != nil {
			return Raw{}, err
		}
		took := time.Since(start)
		r.Elapsed += took
		r.Plans = append(r.Plans, took)
		r.HostsUp = append(r.HostsUp, up)
	}
	return r, nil
}

// proctestDockerSpawn spawns exit0 and waits for its exit 0, s.N times
// in a row on a container host, then s.N times on this machine, in one
// plan, and times each series.
func proctestDockerSpawn(e *Env, s Size) (Raw, error) {
	if err := e.dockerWarmUp(); err != nil {
		return Raw{}, err
	}
	p, err := e.dockerPlan("docker-spawn")
	if err != nil {
		return Raw{}, err
	}
	h := p.Host("n1")
	var marks [3]time.Time
	mark := func(i int) {
		p.Wait(p.Go("mark", func(ctx context.Context) error {
			marks[i] = time.Now()
			return nil
		}), 0)
	}
	mark(0)
	for range s.N {
		p.Wait(h.Spawn(exit0Path), 0)
	}
	mark(1)
	for range s.N {
		p.Wait(p.Spawn(e.Exit0), 0)
	}
	mark(2)
	if err := p.Execute(context.Background()); err != nil {
		return Raw{}, err
	}
	return Raw{Elapsed: marks[2].Sub(marks[0]), InHost: marks[1].Sub(marks[0]), Local: marks[2].Sub(marks[1])}, nil
}
