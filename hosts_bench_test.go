package proctest_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/proctest/proctest"
)

// Benchmarks of hosts and network faults (BENCH.md, "Hosts"): each runs
// b.N plans or steps and reports per operation.

// benchPlan runs the plan build makes, failing the benchmark if it fails.
func benchPlan(b *testing.B, build func(p *proctest.Plan)) {
	b.Helper()
	p := proctest.New(b.Name(), proctest.LogDir(b.TempDir()))
	build(p)
	if err := p.Execute(context.Background()); err != nil {
		b.Fatal(err)
	}
}

func needHostsB(b *testing.B) {
	if ok, why := proctest.Supported(proctest.FeatureHosts); !ok {
		b.Skip("hosts are not supported here:", why)
	}
}

// BenchmarkHostSetup is the cost of a plan of three hosts that runs one
// program on each, against BenchmarkHostSetupNone, the same without hosts.
func BenchmarkHostSetup(b *testing.B) {
	needHostsB(b)
	for b.Loop() {
		benchPlan(b, func(p *proctest.Plan) {
			for _, name := range []string{"n1", "n2", "n3"} {
				p.Wait(p.Host(name).Spawn("true"), 0)
			}
		})
	}
}

func BenchmarkHostSetupNone(b *testing.B) {
	for b.Loop() {
		benchPlan(b, func(p *proctest.Plan) {
			for range 3 {
				p.Wait(p.Spawn("true"), 0)
			}
		})
	}
}

// BenchmarkSpawnWait is spawn and wait of /bin/true on a host and on this
// machine, 500 a plan.
func BenchmarkSpawnWait(b *testing.B) {
	for _, onHost := range []bool{false, true} {
		name := "local"
		if onHost {
			name = "host"
		}
		b.Run(name, func(b *testing.B) {
			if onHost {
				needHostsB(b)
			}
			const per = 500
			for b.Loop() {
				benchPlan(b, func(p *proctest.Plan) {
					spawn := p.Spawn
					if onHost {
						spawn = p.Host("n1").Spawn
					}
					for range per {
						p.Wait(spawn("true"), 0)
					}
				})
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*per), "µs/proc")
		})
	}
}

// BenchmarkKillRestartHost is KillHost then RestartHost of a host running
// one program, 20 a plan.
func BenchmarkKillRestartHost(b *testing.B) {
	needHostsB(b)
	const per = 20
	for b.Loop() {
		benchPlan(b, func(p *proctest.Plan) {
			n1 := p.Host("n1")
			s := n1.Spawn("sleep", "60")
			for range per {
				p.KillHost(n1)
				p.RestartHost(n1)
				p.Restart(s)
			}
			p.Kill(s)
		})
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*per), "µs/kill+restart")
}

// BenchmarkApply is the time to apply a network state (a partition, then
// a heal) to 3 and to 9 hosts: from the step's start to its net event.
func BenchmarkApply(b *testing.B) {
	needHostsB(b)
	for _, n := range []int{3, 9} {
		b.Run(fmt.Sprint(n, "hosts"), func(b *testing.B) {
			const per = 50
			var total time.Duration
			applies := 0
			for b.Loop() {
				var stepAt time.Duration
				p := proctest.New(b.Name(), proctest.LogDir(b.TempDir()), proctest.OnEvent(func(e proctest.Event) {
					switch e.Kind {
					case proctest.EventStep:
						stepAt = e.Elapsed
					case proctest.EventNet:
						total += e.Elapsed - stepAt
						applies++
					}
				}))
				var hs proctest.Hosts
				for i := range n {
					hs = append(hs, p.Host(fmt.Sprint("n", i+1)))
				}
				for range per {
					p.Partition(hs[:n/2], hs[n/2:])
					p.Heal()
				}
				if err := p.Execute(context.Background()); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(total.Microseconds())/float64(applies), "µs/apply")
		})
	}
}
