package bench

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/proctest/proctest"
)

// The benchmarks run the variants under go test, for profiling, as in
//
//	go test -run '^$' -bench 'Serial/proctest' -cpuprofile cpu.prof
//
// One op is one process (one sample for readiness, one output for the
// output benchmarks). ns/op is the variant's own measurement, without its
// warm-up; the C floor, run as a program of its own, is in the table of
// cmd/benchtable only.

// goVariants are the variants that run in the test binary.
var goVariants = []string{Proctest, OSExec, Testscript}

// What the tests prepare once: the C floor, and the docker workloads'
// image and program.
var (
	prepareOnce   sync.Once
	prepareDir    string
	floorProg     string
	dockerImage   string
	dockerMissing string
	exit0         string
	prepareErr    error
)

// TestMain removes what the tests prepared.
func TestMain(m *testing.M) {
	code := m.Run()
	if dockerImage != "" {
		RemoveDockerImage(dockerImage)
	}
	if prepareDir != "" {
		os.RemoveAll(prepareDir)
	}
	os.Exit(code)
}

// testEnv returns an Env logging in a temporary directory of the test,
// with the C floor compiled if gcc is there and the docker workloads'
// image built if a Docker engine answers.
func testEnv(tb testing.TB) *Env {
	tb.Helper()
	prepareOnce.Do(func() {
		dir, err := os.MkdirTemp("", "ptbench-prepared-")
		if err != nil {
			return
		}
		prepareDir = dir
		floorProg, _ = CompileFloor(dir)
		dockerImage, exit0, err = PrepareDocker(dir)
		if reason, ok := IsSkip(err); ok {
			dockerMissing = reason
		} else {
			prepareErr = err
		}
	})
	if prepareErr != nil {
		tb.Fatal(prepareErr)
	}
	e, err := NewEnv(tb.TempDir(), floorProg)
	if err != nil {
		tb.Fatal(err)
	}
	e.DockerImage, e.Exit0 = dockerImage, exit0
	if dockerMissing != "" {
		e.DockerMissing = dockerMissing
	}
	e.Timeout = time.Minute
	return e
}

// benchmark runs workload name for each variant that has it, as a
// sub-benchmark, with the size sizeOf(b.N), and reports its elapsed time
// per op and the metrics extra returns.
func benchmark(b *testing.B, name string, sizeOf func(n int) Size, extra func(b *testing.B, r Raw)) {
	w := Lookup(name)
	for _, v := range goVariants {
		if !w.Has(v) {
			continue
		}
		b.Run(v, func(b *testing.B) {
			e := testEnv(b)
			if err := warmUp(e, v); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			r, err := w.run[v](e, sizeOf(b.N))
			b.StopTimer()
			if reason, ok := IsSkip(err); ok {
				b.Skip(reason)
			}
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(r.Elapsed)/float64(b.N), "ns/op")
			if extra != nil {
				extra(b, r)
			}
		})
	}
}

// BenchmarkSerial spawns /bin/true and waits for it, b.N times in a row.
func BenchmarkSerial(b *testing.B) {
	benchmark(b, "serial", func(n int) Size { return Size{N: n} }, nil)
}

// BenchmarkFanOut spawns b.N /bin/true at once and waits for them all.
func BenchmarkFanOut(b *testing.B) {
	benchmark(b, "fan-out", func(n int) Size { return Size{N: n} }, nil)
}

// BenchmarkExitDetect runs `sleep 0.01` b.N times in a row, and reports
// the time per process beyond the 10 ms.
func BenchmarkExitDetect(b *testing.B) {
	benchmark(b, "exit-detect", func(n int) Size { return Size{N: n} }, func(b *testing.B, r Raw) {
		b.ReportMetric(us(r.Elapsed)/float64(b.N)-10000, "µs-over-10ms/op")
	})
}

// BenchmarkKill spawns b.N `sleep 60` at once, then kills and waits for
// each.
func BenchmarkKill(b *testing.B) {
	benchmark(b, "kill", func(n int) Size { return Size{N: n} }, nil)
}

// outputBytes is the output of one op of the output benchmarks.
const outputBytes = 64 << 20

// BenchmarkOutput has one child write 64 MiB to its log file per op.
func BenchmarkOutput(b *testing.B) {
	b.SetBytes(outputBytes)
	benchmark(b, "output", func(n int) Size {
		return Size{Bytes: int64(n) * outputBytes, ScriptBytes: int64(n) * outputBytes}
	}, nil)
}

// BenchmarkOutputWatch is BenchmarkOutput with the output watched for a
// marker line at its end.
func BenchmarkOutputWatch(b *testing.B) {
	b.SetBytes(outputBytes)
	benchmark(b, "output-watch", func(n int) Size {
		return Size{Bytes: int64(n) * outputBytes, ScriptBytes: int64(n) * outputBytes}
	}, nil)
}

// BenchmarkReadiness takes b.N samples of the readiness latency, and
// reports their median.
func BenchmarkReadiness(b *testing.B) {
	benchmark(b, "readiness", func(n int) Size { return Size{N: n} }, func(b *testing.B, r Raw) {
		b.ReportMetric(us(medianDuration(r.Latencies)), "µs-latency")
	})
}

// BenchmarkReadinessPort takes b.N samples of the time from a helper's
// listen(2) to the plan's next step starting, through WaitPort, and
// reports their median. The helper listens 20 ms after it starts, so the
// plan's polling has reached its steady pace.
func BenchmarkReadinessPort(b *testing.B) {
	self, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	p := proctest.New("readiness-port") // logs where they go by default
	seen := make([]time.Time, b.N)
	stamps := make([]string, b.N)
	for i := range b.N {
		port := p.FreePort(fmt.Sprintf("port%d", i))
		stamps[i] = filepath.Join(dir, fmt.Sprintf("stamp%d", i))
		r := p.Spawn(self, stamps[i], "127.0.0.1:"+port.String())
		r.Env = []string{HelperEnv + "=listen"}
		p.WaitPort(r, "127.0.0.1:"+port.String())
		mark := p.Go("mark", func(ctx context.Context) error {
			seen[i] = time.Now()
			return nil
		})
		p.Wait(mark, 0)
		p.Kill(r, r.Exits(0))
	}
	b.ResetTimer()
	if err := p.Execute(context.Background()); err != nil {
		b.Fatal(err)
	}
	lat := make([]time.Duration, b.N)
	for i := range b.N {
		listened, err := readStamp(stamps[i])
		if err != nil {
			b.Fatal(err)
		}
		lat[i] = seen[i].Sub(listened)
	}
	b.ReportMetric(us(medianDuration(lat)), "µs-latency")
}

// BenchmarkDockerHosts executes b.N plans of three container hosts on
// Docker, each running exit0 once, and reports the time until the hosts
// were up. One op is one plan. It is skipped where no Docker engine
// answers.
func BenchmarkDockerHosts(b *testing.B) {
	benchmark(b, "docker-hosts", func(n int) Size { return Size{N: n} }, func(b *testing.B, r Raw) {
		var up time.Duration
		for _, d := range r.HostsUp {
			up += d
		}
		b.ReportMetric(ms(up)/float64(b.N), "ms-hosts-up/op")
	})
}

// BenchmarkDockerSpawn spawns exit0 and waits for it b.N times on a
// container host, then b.N times on this machine, in one plan on Docker,
// and reports the time per process of each. One op is one process of
// each. It is skipped where no Docker engine answers.
func BenchmarkDockerSpawn(b *testing.B) {
	benchmark(b, "docker-spawn", func(n int) Size { return Size{N: n} }, func(b *testing.B, r Raw) {
		b.ReportMetric(us(r.InHost)/float64(b.N), "µs-in-container/op")
		b.ReportMetric(us(r.Local)/float64(b.N), "µs-local/op")
	})
}

// BenchmarkPlanEnd executes b.N plans of one /bin/true, without and then
// with 2,000 unrelated idle processes on the machine, and reports the
// median time from the end of a plan's last step to the return of
// Execute. It measures the containment in force, which names the
// sub-benchmarks; PROCTEST_CGROUP is read once per program, so the layer
// without cgroups needs a run of its own:
//
//	PROCTEST_CGROUP=0 go test -run '^$' -bench PlanEnd
func BenchmarkPlanEnd(b *testing.B) {
	e := testEnv(b)
	_, layers, _, err := e.planEnds(1) // and a warm-up
	if err != nil {
		b.Fatal(err)
	}
	layer, _, _ := strings.Cut(layers, ", ")
	layer, _, _ = strings.Cut(layer, " /") // "cgroup /sys/fs/cgroup/..."
	layer = strings.ReplaceAll(layer, " ", "-")
	run := func(idle int) {
		b.Run(fmt.Sprintf("%s/idle=%d", layer, idle), func(b *testing.B) {
			b.ResetTimer()
			ends, _, _, err := e.planEnds(b.N)
			b.StopTimer()
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(us(medianDuration(ends)), "µs-end")
		})
	}
	run(0)
	idle, err := e.StartIdle(2000)
	if err != nil {
		b.Fatal(err)
	}
	defer func() {
		if err := idle.Stop(); err != nil {
			b.Error(err)
		}
	}()
	run(2000)
}

// TestWorkloads runs every variant of every workload once with tiny sizes,
// checking that each runs, not how fast. A workload that needs settings
// proctest reads once per program runs in a test binary of its own.
func TestWorkloads(t *testing.T) {
	e := testEnv(t)
	tiny := Size{N: 3, Sleep: 50 * time.Millisecond, Bytes: 1 << 20, ScriptBytes: 1 << 20, Window: 1, Idle: 20}
	for _, w := range Workloads() {
		for _, v := range Variants {
			if !w.Has(v) {
				continue
			}
			t.Run(w.Name+"/"+v, func(t *testing.T) {
				if !w.EnvHolds() {
					runAgainWith(t, w.Env)
					return
				}
				r, err := w.Run(e, v, tiny)
				if reason, ok := IsSkip(err); ok {
					t.Skip(reason)
				}
				if err != nil {
					t.Fatal(err)
				}
				if r.Elapsed <= 0 {
					t.Errorf("elapsed %v", r.Elapsed)
				}
				for _, m := range w.Metrics {
					t.Logf("%s: %.2f %s", m.Name, m.Value(r, tiny), m.Unit)
				}
			})
		}
	}
}

// runAgainWith runs the running test in a test binary of its own, with env
// added to its environment, and passes, fails or skips as it does.
func runAgainWith(t *testing.T, env []string) {
	t.Helper()
	var pattern []string
	for _, part := range strings.Split(t.Name(), "/") {
		pattern = append(pattern, "^"+regexp.QuoteMeta(part)+"$")
	}
	cmd := exec.Command(os.Args[0], "-test.run="+strings.Join(pattern, "/"), "-test.v")
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	t.Logf("%s %s:\n%s", strings.Join(env, " "), strings.Join(cmd.Args, " "), out)
	switch {
	case err != nil:
		t.Fatalf("%s: %v", strings.Join(env, " "), err)
	case bytes.Contains(out, []byte("--- SKIP: "+t.Name()+" ")):
		t.Skip("skipped")
	case !bytes.Contains(out, []byte("--- PASS: "+t.Name()+" ")):
		t.Fatalf("%s: the test did not run", strings.Join(env, " "))
	}
}
