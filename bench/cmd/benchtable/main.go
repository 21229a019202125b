// Command benchtable runs the proctest benchmarks and prints a markdown
// table of the results.
//
// Each variant of each workload runs in a process of its own, the program
// started again with -one, so that its peak memory (VmHWM) is its own. The
// runs are repeated, interleaving the variants in an order that changes
// from one round to the next, and the table shows the medians, with each
// variant's ratio to the os/exec baseline and to the C floor.
//
// Usage:
//
//	benchtable [-quick] [-reps N] [-only w1,w2] [-variants v1,v2] [-logdir DIR]
//
// -quick runs small sizes, three times each. Logs go under -logdir, by
// default the system's temporary directory. The C floor is compiled with
// gcc at the start; without gcc its rows say so.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/proctest/proctest/bench"
)

// outcome is what a child run prints: its measurement, or why it has none.
type outcome struct {
	Raw   bench.Raw `json:"raw"`
	Skip  string    `json:"skip,omitempty"`
	Error string    `json:"error,omitempty"`
}

func main() {
	quick := flag.Bool("quick", false, "run small sizes, 3 times each, quickly")
	reps := flag.Int("reps", 0, "runs of each variant (default 5, or 3 with -quick)")
	only := flag.String("only", "", "comma-separated workloads to run (default all)")
	variants := flag.String("variants", "", "comma-separated variants to run (default all: "+strings.Join(bench.Variants, ",")+")")
	logDir := flag.String("logdir", "", "directory for the logs (default the system's temporary directory)")
	one := flag.String("one", "", "internal: run this workload once, in this process")
	variant := flag.String("variant", "", "internal: the variant for -one")
	size := flag.String("size", "", "internal: the size for -one, as JSON")
	floor := flag.String("floor", "", "internal: the compiled C floor for -one")
	floorMissing := flag.String("floor-missing", "", "internal: why -floor is empty")
	dockerImage := flag.String("docker-image", "", "internal: the image of the docker workloads for -one")
	dockerMissing := flag.String("docker-missing", "", "internal: why -docker-image is empty")
	exit0 := flag.String("exit0", "", "internal: the docker workloads' program on this machine, for -one")
	prefault := flag.Int("prefault", 0, "internal: touch this many MiB of fresh memory, then exit")
	flag.Parse()

	if *prefault > 0 {
		touch(*prefault)
		return
	}
	if *one != "" {
		os.Exit(runOne(*one, *variant, *size, *logDir, &bench.Env{
			FloorProg: *floor, FloorMissing: *floorMissing,
			DockerImage: *dockerImage, DockerMissing: *dockerMissing, Exit0: *exit0,
		}))
	}
	if *reps == 0 {
		*reps = 5
		if *quick {
			*reps = 3
		}
	}
	h := &harness{quick: *quick, reps: *reps, logDir: *logDir, out: os.Stdout}
	if *only != "" {
		for _, name := range strings.Split(*only, ",") {
			w := bench.Lookup(name)
			if w == nil {
				fmt.Fprintf(os.Stderr, "benchtable: no workload %q\n", name)
				os.Exit(2)
			}
			h.workloads = append(h.workloads, w)
		}
	} else {
		h.workloads = bench.Workloads()
	}
	h.variants = bench.Variants
	if *variants != "" {
		h.variants = strings.Split(*variants, ",")
		for _, v := range h.variants {
			if !slices.Contains(bench.Variants, v) {
				fmt.Fprintf(os.Stderr, "benchtable: no variant %q\n", v)
				os.Exit(2)
			}
		}
	}
	if err := h.run(); err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(1)
	}
}

// touch allocates mib MiB and writes to each page.
func touch(mib int) {
	b := make([]byte, mib<<20)
	for i := 0; i < len(b); i += 4096 {
		b[i] = 1
	}
	runtime.KeepAlive(b)
}

// runOne runs one variant of one workload and prints its outcome as JSON.
// prepared holds what the harness made for the runs: the C floor and the
// docker workloads' image and program.
func runOne(name, variant, sizeJSON, logDir string, prepared *bench.Env) int {
	w := bench.Lookup(name)
	if w == nil {
		fmt.Fprintf(os.Stderr, "no workload %q\n", name)
		return 2
	}
	var s bench.Size
	if err := json.Unmarshal([]byte(sizeJSON), &s); err != nil {
		fmt.Fprintf(os.Stderr, "bad -size: %v\n", err)
		return 2
	}
	var o outcome
	root, err := os.MkdirTemp(logDir, "ptbench-run-")
	if err == nil {
		defer os.RemoveAll(root)
		var e *bench.Env
		e, err = bench.NewEnv(root, prepared.FloorProg)
		if err == nil {
			if prepared.FloorMissing != "" {
				e.FloorMissing = prepared.FloorMissing
			}
			e.DockerImage, e.Exit0 = prepared.DockerImage, prepared.Exit0
			if prepared.DockerMissing != "" {
				e.DockerMissing = prepared.DockerMissing
			}
			o.Raw, err = w.Run(e, variant, s)
		}
	}
	if reason, ok := bench.IsSkip(err); ok {
		o.Skip = reason
	} else if err != nil {
		o.Error = err.Error()
	}
	if err := json.NewEncoder(os.Stdout).Encode(o); err != nil {
		return 1
	}
	return 0
}

// harness runs the workloads and prints the table.
type harness struct {
	quick     bool
	reps      int
	logDir    string
	workloads []*bench.Workload
	variants  []string
	out       io.Writer

	floor, floorMissing string
	// The docker workloads' image and program, or why there are none.
	dockerImage, dockerMissing, exit0 string
}

// cell holds the runs of one variant of one workload.
type cell struct {
	raws  []bench.Raw
	skip  string
	error string
}

func (h *harness) run() error {
	h.header()
	work, err := os.MkdirTemp(h.logDir, "ptbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	if slices.Contains(h.variants, bench.Floor) {
		h.floor, err = bench.CompileFloor(work)
		if reason, ok := bench.IsSkip(err); ok {
			h.floorMissing = reason
		} else if err != nil {
			return err
		}
	}
	if h.needDocker() {
		fmt.Fprintln(os.Stderr, "docker: building the image of the docker workloads")
		h.dockerImage, h.exit0, err = bench.PrepareDocker(work)
		if reason, ok := bench.IsSkip(err); ok {
			h.dockerMissing = reason
			fmt.Fprintln(os.Stderr, "docker:", reason)
		} else if err != nil {
			return err
		} else {
			defer bench.RemoveDockerImage(h.dockerImage)
		}
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	results := map[string]map[string]*cell{}
	start := time.Now()
	for _, w := range h.workloads {
		size := w.Full
		if h.quick {
			size = w.Quick
		}
		results[w.Name] = map[string]*cell{}
		for rep := 1; rep <= h.reps; rep++ {
			for _, v := range roundOrder(h.variants, rep-1) {
				if !w.Has(v) {
					continue
				}
				c := results[w.Name][v]
				if c == nil {
					c = &cell{}
					results[w.Name][v] = c
				}
				if c.skip != "" || c.error != "" {
					continue
				}
				if size.Bytes > 0 {
					h.prefault(self, 2*max(size.Bytes, size.ScriptBytes))
				}
				o := h.child(self, w, v, size)
				switch {
				case o.Skip != "":
					c.skip = o.Skip
				case o.Error != "":
					c.error = o.Error
				default:
					c.raws = append(c.raws, o.Raw)
				}
				fmt.Fprintf(os.Stderr, "%6.1fs %-12s %-10s run %d/%d: %s\n",
					time.Since(start).Seconds(), w.Name, v, rep, h.reps, summary(w, size, o))
				h.settle()
			}
		}
	}
	h.table(results)
	fmt.Fprintf(h.out, "\nTotal time %.0f s. Load average at the end: %s.\n", time.Since(start).Seconds(), loadAvg())
	return nil
}

// needDocker reports whether a workload of the run needs Docker.
func (h *harness) needDocker() bool {
	for _, w := range h.workloads {
		for _, v := range h.variants {
			if w.Docker && w.Has(v) {
				return true
			}
		}
	}
	return false
}

// roundOrder returns the order of the variants in round r: the rows of a
// Williams design, in which each variant follows each other one once in
// len(variants) rounds, so that none is always measured after the same
// one.
func roundOrder(variants []string, r int) []string {
	n := len(variants)
	order := make([]string, n)
	lo, hi := 0, n-1
	for i := range order {
		var k int
		switch {
		case i == 0:
			k, lo = 0, 1
		case i%2 == 1:
			k, lo = lo, lo+1
		default:
			k, hi = hi, hi-1
		}
		order[i] = variants[(k+r)%n]
	}
	return order
}

// prefault has a process of its own write to n bytes of fresh memory,
// then exit. On a virtual machine whose host takes back the memory the
// guest frees, the first process to use that memory again pays for it:
// after a run that freed a gigabyte, the next run writing a gigabyte of
// log was up to twice as slow. Touching the memory first puts that cost
// outside the measurement.
func (h *harness) prefault(self string, n int64) {
	cmd := exec.Command(self, "-prefault", strconv.FormatInt(n>>20, 10))
	cmd.Env = withoutEnv(os.Environ(), bench.HelperEnv)
	if out, err := cmd.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "prefault: %v: %s\n", err, out)
	}
}

// settle lets what a run left (proctest's guard process) end before the
// next run starts.
func (h *harness) settle() {
	if h.quick {
		time.Sleep(20 * time.Millisecond)
	} else {
		time.Sleep(100 * time.Millisecond)
	}
}

// child runs one variant of workload w in a process of its own.
func (h *harness) child(self string, w *bench.Workload, v string, size bench.Size) outcome {
	sj, _ := json.Marshal(size)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, self, "-one", w.Name, "-variant", v, "-size", string(sj),
		"-floor", h.floor, "-floor-missing", h.floorMissing,
		"-docker-image", h.dockerImage, "-docker-missing", h.dockerMissing, "-exit0", h.exit0,
		"-logdir", h.logDir)
	cmd.Env = withoutEnv(os.Environ(), bench.HelperEnv)
	if h.logDir != "" {
		// testscript makes its work directories in TMPDIR.
		cmd.Env = append(withoutEnv(cmd.Env, "TMPDIR"), "TMPDIR="+h.logDir)
	}
	// Settings proctest reads once per program, such as PROCTEST_CGROUP.
	cmd.Env = append(cmd.Env, w.Env...)
	// The child and what it started go in a process group of their own,
	// killed whole at the timeout.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var o outcome
	if err == nil {
		err = json.Unmarshal(out, &o)
	}
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if len(msg) > 2000 {
			msg = "..." + msg[len(msg)-2000:]
		}
		return outcome{Error: fmt.Sprintf("%v: %s", err, msg)}
	}
	return o
}

// withoutEnv returns env without the variable key.
func withoutEnv(env []string, key string) []string {
	return slices.DeleteFunc(slices.Clone(env), func(kv string) bool { return strings.HasPrefix(kv, key+"=") })
}

// summary describes a run's outcome in one line, for the progress log.
func summary(w *bench.Workload, s bench.Size, o outcome) string {
	switch {
	case o.Skip != "":
		return "skipped: " + o.Skip
	case o.Error != "":
		first, _, _ := strings.Cut(o.Error, "\n")
		return "error: " + first
	}
	var parts []string
	for _, m := range w.Metrics {
		parts = append(parts, fmt.Sprintf("%s %s %s", m.Name, format(m.Value(o.Raw, s)), m.Unit))
	}
	return fmt.Sprintf("%s, peak %.1f MiB", strings.Join(parts, ", "), float64(o.Raw.PeakKiB)/1024)
}

// header prints the title, the date and the machine line.
func (h *harness) header() {
	mode := "full"
	if h.quick {
		mode = "quick"
	}
	fmt.Fprintf(h.out, "# proctest benchmarks (%s run, %d runs each)\n\n", mode, h.reps)
	fmt.Fprintf(h.out, "Date: %s\n\n", time.Now().UTC().Format("2006-01-02 15:04:05 MST"))
	fmt.Fprintf(h.out, "Machine: %s, %d cores, Linux %s, %s/%s, %s\n\n",
		cpuModel(), runtime.NumCPU(), kernel(), runtime.GOOS, runtime.GOARCH, runtime.Version())
	logs := h.logDir
	if logs == "" {
		logs = os.TempDir()
	}
	fmt.Fprintf(h.out, "Logs under %s. Load average at the start: %s.\n\n", logs, loadAvg())
}

// loadAvg returns the 1, 5 and 15 minute load averages.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// cpuModel returns the CPU's model name from /proc/cpuinfo.
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

// kernel returns the kernel's release.
func kernel() string {
	var u syscall.Utsname
	if err := syscall.Uname(&u); err != nil {
		return "?"
	}
	var b strings.Builder
	for _, c := range u.Release {
		if c == 0 {
			break
		}
		b.WriteByte(byte(c))
	}
	return b.String()
}

// table prints the results.
func (h *harness) table(results map[string]map[string]*cell) {
	fmt.Fprintln(h.out, "| workload | variant | median | unit | × os/exec | × C floor | min – max | peak RSS (MiB) | peak × os/exec | runs |")
	fmt.Fprintln(h.out, "|---|---|--:|---|--:|--:|--:|--:|--:|--:|")
	var notes []string
	var problems []string
	var skips []string
	for _, w := range h.workloads {
		size := w.Full
		if h.quick {
			size = w.Quick
		}
		for _, m := range w.Metrics {
			medians := map[string]float64{}
			peaks := map[string]float64{}
			for v, c := range results[w.Name] {
				medians[v] = median(c.raws, func(r bench.Raw) float64 { return m.Value(r, size) })
				peaks[v] = median(c.raws, func(r bench.Raw) float64 { return float64(r.PeakKiB) / 1024 })
			}
			for _, v := range h.variants {
				c := results[w.Name][v]
				if c == nil {
					continue
				}
				title := bench.VariantTitle(v)
				switch {
				case c.skip != "":
					reason := c.skip
					if len(reason) > 60 {
						// The first clause in the row, the whole reason
						// once below the table.
						reason, _, _ = strings.Cut(reason, ": ")
						reason += " (see below)"
						if m.Name == w.Metrics[0].Name {
							skips = append(skips, fmt.Sprintf("- %s, %s: %s", w.Name, title, oneLine(c.skip)))
						}
					}
					fmt.Fprintf(h.out, "| %s | %s | skipped: %s | | | | | | | |\n", m.Name, title, reason)
					continue
				case c.error != "":
					fmt.Fprintf(h.out, "| %s | %s | error (see below) | | | | | | | |\n", m.Name, title)
					problems = append(problems, fmt.Sprintf("- %s, %s: %s", m.Name, title, oneLine(c.error)))
					continue
				}
				vals := values(c.raws, func(r bench.Raw) float64 { return m.Value(r, size) })
				med := medians[v]
				fmt.Fprintf(h.out, "| %s | %s | %s | %s | %s | %s | %s – %s | %.1f | %s | %d |\n",
					m.Name, title, format(med), m.Unit,
					ratio(med, medians[bench.OSExec]), ratio(med, medians[bench.Floor]),
					format(slices.Min(vals)), format(slices.Max(vals)),
					peaks[v], ratio(peaks[v], peaks[bench.OSExec]), len(vals))
				if note := w.Notes[v]; note != "" && m.Name == w.Metrics[0].Name {
					notes = append(notes, fmt.Sprintf("- %s, %s: %s", w.Name, title, note))
				}
			}
		}
	}
	if len(problems) > 0 {
		fmt.Fprintf(h.out, "\nErrors:\n\n%s\n", strings.Join(problems, "\n"))
	}
	if len(skips) > 0 {
		fmt.Fprintf(h.out, "\nSkipped:\n\n%s\n", strings.Join(skips, "\n"))
	}
	fmt.Fprintln(h.out, "\nWorkloads and sizes:")
	fmt.Fprintln(h.out)
	for _, w := range h.workloads {
		size := w.Full
		if h.quick {
			size = w.Quick
		}
		fmt.Fprintf(h.out, "- %s: %s (%s)\n", w.Name, w.Doc, describe(size))
	}
	if len(notes) > 0 {
		fmt.Fprintf(h.out, "\nNotes:\n\n%s\n", strings.Join(notes, "\n"))
	}
	fmt.Fprintln(h.out, `
Times run from just before the first process starts to the end of the
run, logs removed; proctest's include building the plan. Each run is a
process of its own, after a one-process warm-up of the same variant (which
starts proctest's guard process). The variants take turns, in an order
that changes from one round to the next so that each follows each other
one as often. Before each run of the output workloads, a throwaway
process touches twice the output's size of memory, so that no run pays
for memory the virtual machine's host took back after the previous one.
Ratios divide medians: below 1 is faster for times, above 1 is faster for
MB/s. Peak RSS is the VmHWM of the process orchestrating the children
(the C program itself for the floor). The plan-end workloads are
proctest's alone: compare each row with its +idle row. So are the docker
workloads, whose hosts are containers of the Docker engine (skipped, and
said so, where none answers): compare the container row with the local
one.`)
}

// oneLine shortens an error to its first line.
func oneLine(s string) string {
	first, _, more := strings.Cut(s, "\n")
	if more {
		first += " ..."
	}
	return first
}

// describe formats a size.
func describe(s bench.Size) string {
	var parts []string
	if s.N > 0 {
		parts = append(parts, fmt.Sprintf("N=%d", s.N))
	}
	if s.Sleep > 0 {
		parts = append(parts, fmt.Sprintf("sleep %v", s.Sleep))
	}
	if s.Bytes > 0 {
		parts = append(parts, fmt.Sprintf("%d MiB", s.Bytes>>20))
	}
	if s.ScriptBytes > 0 && s.ScriptBytes != s.Bytes {
		parts = append(parts, fmt.Sprintf("testscript %d MiB", s.ScriptBytes>>20))
	}
	if s.Window > 0 {
		parts = append(parts, fmt.Sprintf("window %d", s.Window))
	}
	if s.Idle > 0 {
		parts = append(parts, fmt.Sprintf("Idle=%d", s.Idle))
	}
	return strings.Join(parts, ", ")
}

// values returns f of each run.
func values(raws []bench.Raw, f func(bench.Raw) float64) []float64 {
	vals := make([]float64, len(raws))
	for i, r := range raws {
		vals[i] = f(r)
	}
	return vals
}

// median returns the median of f over the runs, NaN if none.
func median(raws []bench.Raw, f func(bench.Raw) float64) float64 {
	return bench.Median(values(raws, f))
}

// ratio formats x/base, or "–" when there is no base.
func ratio(x, base float64) string {
	if math.IsNaN(x) || math.IsNaN(base) || base == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f", x/base)
}

// format formats a value with about three significant digits.
func format(x float64) string {
	switch a := math.Abs(x); {
	case math.IsNaN(x):
		return "–"
	case a >= 100:
		return fmt.Sprintf("%.0f", x)
	case a >= 10:
		return fmt.Sprintf("%.1f", x)
	default:
		return fmt.Sprintf("%.2f", x)
	}
}
