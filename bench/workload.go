package bench

import (
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"time"
)

// The variants each workload can run as, by their short names.
const (
	// Proctest builds and executes plans with the proctest API.
	Proctest = "proctest"
	// OSExec is the hand-written os/exec baseline.
	OSExec = "osexec"
	// Floor is the C posix_spawn and waitpid program, floor.c.
	Floor = "floor"
	// Testscript runs a generated testscript script.
	Testscript = "testscript"
)

// Variants lists the variants in the order tables show them.
var Variants = []string{Proctest, OSExec, Floor, Testscript}

// VariantTitle returns how tables name variant v.
func VariantTitle(v string) string {
	switch v {
	case OSExec:
		return "os/exec"
	case Floor:
		return "C floor"
	}
	return v
}

// A Size gives the parameters of one run of a workload.
type Size struct {
	// N is the number of processes, or of samples for the readiness
	// workload.
	N int `json:"n,omitempty"`
	// Sleep is how long each sleeping process sleeps.
	Sleep time.Duration `json:"sleep,omitempty"`
	// Bytes is how much output the output workloads write.
	Bytes int64 `json:"bytes,omitempty"`
	// ScriptBytes replaces Bytes for testscript, which keeps a
	// command's whole output in memory.
	ScriptBytes int64 `json:"script_bytes,omitempty"`
	// Window is, for the scale workload, how many processes are timed
	// at each end.
	Window int `json:"window,omitempty"`
	// Idle is, for the plan-end workloads, how many unrelated idle
	// processes run on the machine while the loaded samples are taken.
	Idle int `json:"idle,omitempty"`
}

// Raw is what one run of one variant measured.
type Raw struct {
	// Elapsed is the wall time of the measured part: from just before the
	// first process starts to the end of cleanup, logs removed.
	Elapsed time.Duration `json:"elapsed"`
	// First and Last are, for the scale workload, the time the first
	// and the last Window processes took.
	First time.Duration `json:"first,omitempty"`
	Last  time.Duration `json:"last,omitempty"`
	// Bytes is how much output went through, for the output workloads.
	Bytes int64 `json:"bytes,omitempty"`
	// Latencies holds the samples of the readiness workload: from the
	// line printed to the next step started.
	Latencies []time.Duration `json:"latencies,omitempty"`
	// Noticed holds the samples of the readiness workload up to when
	// the orchestrator noticed the line (for proctest, its ready event),
	// before it starts the next step.
	Noticed []time.Duration `json:"noticed,omitempty"`
	// Ends holds the samples of the plan-end workloads: from the end of
	// a plan's last step to the return of Execute. EndsIdle holds those
	// taken while Size.Idle idle processes ran.
	Ends     []time.Duration `json:"ends,omitempty"`
	EndsIdle []time.Duration `json:"ends_idle,omitempty"`
	// Plans holds the samples of the docker-hosts workload: each plan
	// from the start of building it to the return of Execute. HostsUp
	// holds, for each, the time from the start of Execute until its
	// hosts were up.
	Plans   []time.Duration `json:"plans,omitempty"`
	HostsUp []time.Duration `json:"hosts_up,omitempty"`
	// InHost and Local are, for the docker-spawn workload, the time
	// its processes took on a container host and on this machine.
	InHost time.Duration `json:"in_host,omitempty"`
	Local  time.Duration `json:"local,omitempty"`
	// PeakKiB is the peak resident memory (VmHWM) of the process that
	// ran the variant.
	PeakKiB int64 `json:"peak_kib,omitempty"`
}

// A SkipError says why a variant cannot run a workload here.
type SkipError struct {
	// Reason says why, as in "needs WaitStdout".
	Reason string
}

// Error returns the reason with a "skipped: " prefix.
func (e *SkipError) Error() string { return "skipped: " + e.Reason }

// skip returns a *SkipError.
func skip(format string, args ...any) error {
	return &SkipError{Reason: fmt.Sprintf(format, args...)}
}

// IsSkip reports whether err says a variant was skipped, and why.
func IsSkip(err error) (reason string, ok bool) {
	var s *SkipError
	if errors.As(err, &s) {
		return s.Reason, true
	}
	return "", false
}

// A Metric is one number a workload reports, one table row per variant.
type Metric struct {
	// Name labels the table row, as in "serial".
	Name string
	// Unit is the unit of Value, as in "µs/proc".
	Unit string
	// HigherIsBetter is set for throughputs.
	HigherIsBetter bool
	// Value computes the metric from a run.
	Value func(r Raw, s Size) float64
}

// A Workload is one thing to measure, which each variant does its own way.
type Workload struct {
	// Name identifies the workload, as in "serial".
	Name string
	// Doc says what it does.
	Doc string
	// Full and Quick are its sizes in a full run and in a quick one.
	Full, Quick Size
	// Metrics are the numbers it reports.
	Metrics []Metric
	// Notes holds remarks for the table, by variant.
	Notes map[string]string
	// Env holds the environment variables ("KEY=value") of the process
	// that runs the workload, for the settings proctest reads once per
	// program, such as PROCTEST_CGROUP=0; none if empty. A workload run
	// in a process without them fails or is skipped.
	Env []string
	// Docker is set for the workloads whose hosts are containers of
	// the Docker engine: they need [Env.DockerImage], and are skipped
	// where there is none.
	Docker bool

	run map[string]func(e *Env, s Size) (Raw, error)
}

// Has reports whether the workload has variant v at all.
func (w *Workload) Has(v string) bool { return w.run[v] != nil }

// EnvHolds reports whether this process's environment has w.Env.
func (w *Workload) EnvHolds() bool {
	for _, kv := range w.Env {
		k, v, _ := strings.Cut(kv, "=")
		if got, ok := os.LookupEnv(k); !ok || got != v {
			return false
		}
	}
	return true
}

// Run runs variant v of the workload once with size s, after a small
// warm-up run of the same variant that starts what a program starts once
// (proctest's guard process, the Go runtime's threads). It returns a
// *SkipError if the variant cannot run here.
func (w *Workload) Run(e *Env, v string, s Size) (Raw, error) {
	fn := w.run[v]
	if fn == nil {
		return Raw{}, skip("no %s variant", VariantTitle(v))
	}
	if err := warmUp(e, v); err != nil {
		return Raw{}, err
	}
	r, err := fn(e, s)
	if err != nil {
		return r, err
	}
	if v != Floor {
		r.PeakKiB = PeakKiB()
	}
	return r, nil
}

// Lookup returns the workload named name, or nil.
func Lookup(name string) *Workload {
	for _, w := range Workloads() {
		if w.Name == name {
			return w
		}
	}
	return nil
}

// perProc returns a metric of elapsed time per process, in µs.
func perProc(name string) Metric {
	return Metric{Name: name, Unit: "µs/proc", Value: func(r Raw, s Size) float64 {
		return us(r.Elapsed) / float64(s.N)
	}}
}

// total returns a metric of the whole elapsed time, in ms.
func total(name string) Metric {
	return Metric{Name: name, Unit: "ms", Value: func(r Raw, s Size) float64 {
		return float64(r.Elapsed) / 1e6
	}}
}

// throughput returns a metric of output throughput, in MB/s (10^6 bytes).
func throughput(name string) Metric {
	return Metric{Name: name, Unit: "MB/s", HigherIsBetter: true, Value: func(r Raw, s Size) float64 {
		return float64(r.Bytes) / 1e6 / r.Elapsed.Seconds()
	}}
}

// planEnd returns the metrics of a plan-end workload: the median end of a
// plan without and with the idle processes, in µs.
func planEnd(name string) []Metric {
	return []Metric{
		{Name: name, Unit: "µs", Value: func(r Raw, s Size) float64 { return us(medianDuration(r.Ends)) }},
		{Name: name + " +idle", Unit: "µs", Value: func(r Raw, s Size) float64 { return us(medianDuration(r.EndsIdle)) }},
	}
}

// us returns d in microseconds.
func us(d time.Duration) float64 { return float64(d) / 1e3 }

// ms returns d in milliseconds.
func ms(d time.Duration) float64 { return float64(d) / 1e6 }

// Workloads returns the workloads, in the order tables show them.
func Workloads() []*Workload {
	return []*Workload{
		{
			Name:    "serial",
			Doc:     "spawn /bin/true and wait for exit 0, N times in a row, in one plan or loop",
			Full:    Size{N: 500},
			Quick:   Size{N: 50},
			Metrics: []Metric{perProc("serial")},
			run: map[string]func(*Env, Size) (Raw, error){
				Proctest: proctestSerial, OSExec: osexecSerial, Floor: floorSerial, Testscript: testscriptSerial,
			},
		},
		{
			Name:    "fan-out",
			Doc:     "spawn N /bin/true at once, then wait for all",
			Full:    Size{N: 500},
			Quick:   Size{N: 50},
			Metrics: []Metric{total("fan-out")},
			run: map[string]func(*Env, Size) (Raw, error){
				Proctest: proctestFanOut, OSExec: osexecFanOut, Floor: floorFanOut, Testscript: testscriptFanOut,
			},
		},
		{
			Name:    "concurrency",
			Doc:     "spawn N `sleep 2` at once, then wait for all: wall time and peak memory",
			Full:    Size{N: 1000, Sleep: 2 * time.Second},
			Quick:   Size{N: 100, Sleep: 500 * time.Millisecond},
			Metrics: []Metric{total("concurrency")},
			run: map[string]func(*Env, Size) (Raw, error){
				Proctest: proctestConcurrency, OSExec: osexecConcurrency, Floor: floorConcurrency, Testscript: testscriptConcurrency,
			},
		},
		{
			Name:    "output",
			Doc:     "one child writes Bytes of 64-byte lines to stdout, which is its log file",
			Full:    Size{Bytes: 1 << 30, ScriptBytes: 256 << 20},
			Quick:   Size{Bytes: 32 << 20, ScriptBytes: 32 << 20},
			Metrics: []Metric{throughput("output")},
			Notes: map[string]string{
				Testscript: "output kept in memory (and copied into the script log): size capped",
			},
			run: map[string]func(*Env, Size) (Raw, error){
				Proctest: proctestOutput, OSExec: osexecOutput, Floor: floorOutput, Testscript: testscriptOutput,
			},
		},
		{
			Name:    "output-watch",
			Doc:     "as output, while the orchestrator watches stdout for a marker line printed at the end",
			Full:    Size{Bytes: 1 << 30, ScriptBytes: 256 << 20},
			Quick:   Size{Bytes: 32 << 20, ScriptBytes: 32 << 20},
			Metrics: []Metric{throughput("output-watch")},
			Notes: map[string]string{
				OSExec:     "pipe read by a goroutine, copied to the file, lines matched",
				Floor:      "pipe read and copied to the file, marker searched",
				Testscript: "marker matched in memory after exit (stdout command): size capped",
			},
			run: map[string]func(*Env, Size) (Raw, error){
				Proctest: proctestOutputWatch, OSExec: osexecOutputWatch, Floor: floorOutputWatch, Testscript: testscriptOutputWatch,
			},
		},
		{
			Name:  "exit-detect",
			Doc:   "spawn `sleep 0.01` and wait for it, N times in a row: overhead per process beyond the 10 ms",
			Full:  Size{N: 200},
			Quick: Size{N: 20},
			Metrics: []Metric{{Name: "exit-detect", Unit: "µs/proc over 10ms", Value: func(r Raw, s Size) float64 {
				return us(r.Elapsed)/float64(s.N) - 10000
			}}},
			run: map[string]func(*Env, Size) (Raw, error){
				Proctest: proctestExitDetect, OSExec: osexecExitDetect, Floor: floorExitDetect, Testscript: testscriptExitDetect,
			},
		},
		{
			Name:    "kill",
			Doc:     "spawn N `sleep 60` at once, then kill each (SIGTERM) and wait for its death",
			Full:    Size{N: 200},
			Quick:   Size{N: 20},
			Metrics: []Metric{total("kill")},
			Notes: map[string]string{
				Testscript: "kill -INT: testscript's kill sends only INT or KILL",
			},
			run: map[string]func(*Env, Size) (Raw, error){
				Proctest: proctestKill, OSExec: osexecKill, Floor: floorKill, Testscript: testscriptKill,
			},
		},
		{
			Name:  "readiness",
			Doc:   "a child prints its CLOCK_REALTIME in a line; latency from then to the next step starting, N samples",
			Full:  Size{N: 50},
			Quick: Size{N: 5},
			Metrics: []Metric{
				{Name: "readiness", Unit: "µs", Value: func(r Raw, s Size) float64 {
					return us(medianDuration(r.Latencies))
				}},
				{Name: "readiness noticed", Unit: "µs", Value: func(r Raw, s Size) float64 {
					return us(medianDuration(r.Noticed))
				}},
			},
			Notes: map[string]string{
				Proctest: "next step is a Go step recording time.Now(); noticed is the plan's ready event",
				OSExec:   "pipe read by a goroutine, line matched, channel to the waiting goroutine",
				Floor:    "pipe read until the line is in",
			},
			run: map[string]func(*Env, Size) (Raw, error){
				Proctest: proctestReadiness, OSExec: osexecReadiness, Floor: floorReadiness,
			},
		},
		{
			Name:  "scale",
			Doc:   "one plan of N sequential /bin/true: time per process of the first and of the last Window",
			Full:  Size{N: 10000, Window: 1000},
			Quick: Size{N: 500, Window: 50},
			Metrics: []Metric{
				{Name: "scale first", Unit: "µs/proc", Value: func(r Raw, s Size) float64 { return us(r.First) / float64(s.Window) }},
				{Name: "scale last", Unit: "µs/proc", Value: func(r Raw, s Size) float64 { return us(r.Last) / float64(s.Window) }},
			},
			run: map[string]func(*Env, Size) (Raw, error){
				Proctest: proctestScale, OSExec: osexecScale, Floor: floorScale, Testscript: testscriptScale,
			},
		},
		{
			Name:    "plan-end",
			Doc:     "plans of one /bin/true (spawn, wait for exit 0), proctest's cgroup layer: time from the end of the last step to Execute's return, median of N plans without and of N with Idle unrelated `sleep 3600` processes running",
			Full:    Size{N: 200, Idle: 2000},
			Quick:   Size{N: 20, Idle: 200},
			Metrics: planEnd("plan-end cgroup"),
			Notes: map[string]string{
				Proctest: "a cgroup per plan and per process; the idle processes are not the program's children",
			},
			run: map[string]func(*Env, Size) (Raw, error){Proctest: proctestPlanEnd(layerCgroup)},
		},
		{
			Name:    "plan-end-subreaper",
			Doc:     "as plan-end, with PROCTEST_CGROUP=0: the program as child subreaper",
			Full:    Size{N: 200, Idle: 2000},
			Quick:   Size{N: 20, Idle: 200},
			Metrics: planEnd("plan-end subreaper"),
			Notes: map[string]string{
				Proctest: "PROCTEST_CGROUP=0, in a process of its own: leftovers are looked for among the program's children",
			},
			Env: []string{"PROCTEST_CGROUP=0"},
			run: map[string]func(*Env, Size) (Raw, error){Proctest: proctestPlanEnd(layerSubreaper)},
		},
		{
			Name:  "docker-hosts",
			Doc:   "plans of three container hosts on Docker, each running a static exit0 once: each plan from the start of building it to the return of Execute (containers made, started and removed), and until its hosts are up; median of N plans",
			Full:  Size{N: 5},
			Quick: Size{N: 1},
			Metrics: []Metric{
				{Name: "docker three-host plan", Unit: "ms", Value: func(r Raw, s Size) float64 { return ms(medianDuration(r.Plans)) }},
				{Name: "docker hosts up", Unit: "ms", Value: func(r Raw, s Size) float64 { return ms(medianDuration(r.HostsUp)) }},
			},
			Notes: map[string]string{
				Proctest: "the docker backend; skipped where no Docker engine answers",
			},
			Docker: true,
			run:    map[string]func(*Env, Size) (Raw, error){Proctest: proctestDockerHosts},
		},
		{
			Name:  "docker-spawn",
			Doc:   "in one plan on Docker, spawn a static exit0 and wait for exit 0, N times in a row on a container host, then N times on this machine",
			Full:  Size{N: 200},
			Quick: Size{N: 20},
			Metrics: []Metric{
				{Name: "docker spawn-wait in container", Unit: "µs/proc", Value: func(r Raw, s Size) float64 { return us(r.InHost) / float64(s.N) }},
				{Name: "docker spawn-wait local", Unit: "µs/proc", Value: func(r Raw, s Size) float64 { return us(r.Local) / float64(s.N) }},
			},
			Notes: map[string]string{
				Proctest: "the same static program in the container (started by its agent) and here; skipped where no Docker engine answers",
			},
			Docker: true,
			run:    map[string]func(*Env, Size) (Raw, error){Proctest: proctestDockerSpawn},
		},
	}
}

// medianDuration returns the median of ds, or 0.
func medianDuration(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// Median returns the median of xs, or NaN if xs is empty.
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// windows times the first and the last Window of N sequential processes.
type windows struct {
	n, w                                int
	start, firstEnd, lastStart, lastEnd time.Time
}

// newWindows returns the windows of size s.
func newWindows(s Size) *windows { return &windows{n: s.N, w: min(s.Window, s.N)} }

// done records that process i ended; i = -1 means the first is about to
// start.
func (x *windows) done(i int) {
	now := time.Now()
	if i == -1 {
		x.start = now
	}
	if i == x.w-1 {
		x.firstEnd = now
	}
	if i == x.n-x.w-1 {
		x.lastStart = now
	}
	if i == x.n-1 {
		x.lastEnd = now
	}
}

// raw returns the measurement of a run that took elapsed.
func (x *windows) raw(elapsed time.Duration) Raw {
	return Raw{Elapsed: elapsed, First: x.firstEnd.Sub(x.start), Last: x.lastEnd.Sub(x.lastStart)}
}
