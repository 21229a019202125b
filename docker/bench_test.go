package docker_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/proctest/proctest"
	"github.com/proctest/proctest/docker"
)

// BenchmarkThreeHostPlan times a whole plan of three hosts, each running
// one process that exits 0: the containers made and started, the
// processes run, everything removed. hosts-up/op is the part until the
// three agents are ready.
func BenchmarkThreeHostPlan(b *testing.B) {
	needEngine(b)
	var up time.Duration
	for b.Loop() {
		var last time.Duration
		p := proctest.New("three-hosts", proctest.LogDir(b.TempDir()),
			proctest.WithBackend(docker.New(docker.Image(testImage))),
			proctest.OnEvent(func(e proctest.Event) {
				if e.Kind == proctest.EventHost && strings.HasPrefix(e.Detail, "up at ") {
					last = e.Elapsed
				}
			}))
		for _, name := range []string{"n1", "n2", "n3"} {
			p.Wait(p.Host(name).Spawn("testprog", "exit", "0"), 0)
		}
		if err := p.Execute(context.Background()); err != nil {
			b.Fatal(err)
		}
		up += last
	}
	b.ReportMetric(float64(up.Milliseconds())/float64(b.N), "ms-hosts-up/op")
}

// BenchmarkSpawnWait times the spawn and wait of one process that exits
// 0, on a container host and on this machine, with the same static
// program, in one plan per benchmark.
func BenchmarkSpawnWait(b *testing.B) {
	needEngine(b)
	local := filepath.Join(b.TempDir(), "testprog")
	build := exec.Command("go", "build", "-o", local, "./internal/testprog")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	for _, where := range []string{"container", "local"} {
		b.Run(where, func(b *testing.B) {
			p := proctest.New("spawn-wait", proctest.LogDir(b.TempDir()),
				proctest.WithBackend(docker.New(docker.Image(testImage))))
			h := p.Host("n1")
			var start time.Time
			p.Wait(p.Go("start", func(ctx context.Context) error {
				b.ResetTimer()
				start = time.Now()
				return nil
			}), 0)
			for range b.N {
				if where == "container" {
					p.Wait(h.Spawn("testprog", "exit", "0"), 0)
				} else {
					p.Wait(p.Spawn(local, "exit", "0"), 0)
				}
			}
			var took time.Duration
			p.Wait(p.Go("stop", func(ctx context.Context) error {
				took = time.Since(start)
				b.StopTimer()
				return nil
			}), 0)
			if err := p.Execute(context.Background()); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(took.Microseconds())/float64(b.N), "µs-spawn-wait/op")
		})
	}
}
