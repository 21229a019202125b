package proctest_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/proctest/proctest"
)

// Hostile descendants: each helper below leaves something behind in a way
// real programs do, and the tests check that every plan reports it, names
// the process it came from, and leaves nothing running.

func init() {
	// title-daemon MARKER starts a copy of itself in a session of its
	// own and exits 0; the copy overwrites its command line and
	// environment, as setproctitle does (redis, nginx), then waits.
	helpers["title-daemon"] = func(args []string) {
		if os.Getenv("TITLE_STAGE") == "" {
			daemonize(args, append(os.Environ(), "TITLE_STAGE=1"))
			return
		}
		if err := setTitle("proctest-title " + args[0]); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		select {}
	}
	// fork-chain N MARKER starts a copy of itself with N-1 and an empty
	// environment, in a session of its own, and exits; at 0 it waits.
	helpers["fork-chain"] = func(args []string) {
		n, _ := strconv.Atoi(args[0])
		if n == 0 {
			select {}
		}
		daemonize([]string{strconv.Itoa(n - 1), args[1]}, []string{})
	}
	// reexec-daemon MARKER starts a copy of itself in a session of its
	// own with an empty environment, and exits; the copy executes itself
	// again and again.
	helpers["reexec-daemon"] = func(args []string) {
		if len(args) == 1 {
			daemonize([]string{args[0], "loop"}, []string{})
			return
		}
		exe, _ := os.Executable()
		for {
			syscall.Exec(exe, []string{"reexec-daemon", args[0], "loop"}, []string{})
		}
	}
	// fork-storm MARKER starts "linger MARKER" in a new session every
	// millisecond until it is killed.
	helpers["fork-storm"] = func(args []string) {
		fmt.Println("storming")
		for {
			cmd := exec.Command("linger", args[0])
			cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
			cmd.Start()
			time.Sleep(time.Millisecond)
		}
	}
	// run-hostile-plan MARKER runs a plan whose processes leave behind
	// an environment-clearing setsid grandchild, a title-rewriting daemon
	// and a fork chain, all marked, prints "ready" and blocks; its parent
	// test then kills it.
	helpers["run-hostile-plan"] = func(args []string) {
		m := args[0]
		p := proctest.New("run-hostile-plan", proctest.AllowDaemons())
		p.Wait(p.Spawn("sh", "-c", "env -i setsid -f sleep "+m+"; exit 0"), 0)
		p.Wait(p.Spawn("title-daemon", m), 0)
		p.Wait(p.Spawn("fork-chain", "5", m), 0)
		p.Go("report", func(ctx context.Context) error {
			fmt.Println("ready")
			<-ctx.Done()
			return nil
		})
		p.Sleep(time.Hour)
		p.Execute(context.Background())
		os.Exit(0)
	}
	// ticker FILE appends a line to FILE every 5 ms.
	helpers["ticker"] = func(args []string) {
		f, err := os.OpenFile(args[0], os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		for {
			fmt.Fprintln(f, time.Now().UnixNano())
			time.Sleep(5 * time.Millisecond)
		}
	}
	// linger MARKER waits to be killed.
	helpers["linger"] = func(args []string) { select {} }
}

// daemonize starts this helper again with args and env in a session of its
// own, and exits 0 without waiting for it.
func daemonize(args, env []string) {
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	cmd := &exec.Cmd{Path: exe, Args: append([]string{filepathBase(os.Args[0])}, args...), Env: env,
		SysProcAttr: &syscall.SysProcAttr{Setsid: true}}
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(0)
}

func filepathBase(s string) string { return s[strings.LastIndexByte(s, '/')+1:] }

// setTitle overwrites the memory the kernel shows as this process's
// command line and environment, as setproctitle does.
func setTitle(title string) error {
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return err
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	// Fields 48 to 51 of stat: arg_start, arg_end, env_start, env_end;
	// f starts at field 3.
	argStart, _ := strconv.ParseUint(f[45], 10, 64)
	envEnd, _ := strconv.ParseUint(f[48], 10, 64)
	mem, err := os.OpenFile("/proc/self/mem", os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer mem.Close()
	buf := make([]byte, envEnd-argStart)
	copy(buf, title)
	_, err = mem.WriteAt(buf, int64(argStart))
	return err
}

// escapeShape is a way of leaving a process behind.
type escapeShape struct {
	name string
	// proc is the plan process's name that leaves it.
	proc string
	// build spawns the process that leaves something behind, marked
	// with marker, and returns the steps until the plan's end.
	build func(p *proctest.Plan, marker string)
	// cgroupOnly is set for the shapes that only a cgroup catches: a
	// session of its own and no environment left to tell where it
	// comes from.
	cgroupOnly bool
}

var escapeShapes = []escapeShape{
	{name: "background and exit", proc: "sh", build: func(p *proctest.Plan, m string) {
		p.Wait(p.Spawn("sh", "-c", "sleep "+m+" & exit 0"), 0)
	}},
	{name: "stopped leftover", proc: "sh", build: func(p *proctest.Plan, m string) {
		// It stops itself in a session of its own: a stopped process left
		// in an orphaned process group gets SIGHUP from the kernel.
		p.Wait(p.Spawn("sh", "-c", "setsid sh -c 'kill -STOP $$; exec sleep "+m+"' & exit 0"), 0)
	}},
	{name: "env -i setsid -f", proc: "sh", cgroupOnly: true, build: func(p *proctest.Plan, m string) {
		p.Wait(p.Spawn("sh", "-c", "env -i setsid -f sleep "+m+"; exit 0"), 0)
	}},
	{name: "title rewriting daemon", proc: "title-daemon", cgroupOnly: true, build: func(p *proctest.Plan, m string) {
		p.Wait(p.Spawn("title-daemon", m), 0)
	}},
	{name: "fork chain", proc: "fork-chain", cgroupOnly: true, build: func(p *proctest.Plan, m string) {
		p.Wait(p.Spawn("fork-chain", "5", m), 0)
	}},
	{name: "re-exec loop", proc: "reexec-daemon", cgroupOnly: true, build: func(p *proctest.Plan, m string) {
		p.Wait(p.Spawn("reexec-daemon", m), 0)
	}},
	{name: "fork storm", proc: "fork-storm", cgroupOnly: true, build: func(p *proctest.Plan, m string) {
		s := p.Spawn("fork-storm", m)
		p.WaitStdout(s, "^storming$")
		p.Sleep(20 * time.Millisecond)
	}},
}

// markers makes each marker unique: sleep takes it as its duration.
var markers atomic.Int64

func newMarker() string { return fmt.Sprintf("600.%d%06d", os.Getpid(), markers.Add(1)) }

// withMarker returns the live processes whose command line holds marker.
func withMarker(marker string) []string {
	ents, _ := os.ReadDir("/proc")
	var found []string
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err == nil && strings.Contains(string(b), marker) && alive(pid) {
			found = append(found, fmt.Sprintf("%d %q", pid, b))
		}
	}
	return found
}

// cgroupsInForce reports whether plans of this test binary get a cgroup.
func cgroupsInForce(t *testing.T) bool {
	t.Helper()
	return planCgroup(t) != ""
}

// planCgroup returns the cgroup a plan of this test binary gets, or "".
func planCgroup(t *testing.T) string {
	t.Helper()
	var layers string
	p := proctest.New("probe", proctest.LogDir(t.TempDir()), proctest.OnEvent(func(e proctest.Event) {
		if e.Kind == proctest.EventInfo && strings.HasPrefix(e.Detail, "containment: ") {
			layers = e.Detail
		}
	}))
	p.Wait(p.Spawn("true"), 0)
	if err := p.Execute(context.Background()); err != nil {
		t.Fatal(err)
	}
	if layers == "" {
		t.Fatal("no containment event at the plan's start")
	}
	_, dir, ok := strings.Cut(layers, "cgroup ")
	if !ok {
		return ""
	}
	dir, _, _ = strings.Cut(dir, ",")
	return dir
}

// checkEscape runs one plan of shape and checks that it failed naming
// what was left behind and that nothing with its marker runs.
func checkEscape(t *testing.T, sh escapeShape, logs string) error {
	m := newMarker()
	p := proctest.New(sh.name, proctest.LogDir(logs), proctest.StopGrace(100*time.Millisecond))
	sh.build(p, m)
	err := p.Execute(context.Background())
	if left := withMarker(m); len(left) > 0 {
		return fmt.Errorf("%s: still running after the plan: %v", sh.name, left)
	}
	sr, ok := err.(*proctest.PlanError)
	if !ok {
		return fmt.Errorf("%s: plan passed (err %v), want a leftover reported", sh.name, err)
	}
	var still *proctest.StillRunningError
	for _, e := range sr.Errors {
		if s, ok := e.(*proctest.StillRunningError); ok && still == nil {
			still = s
		}
	}
	if still == nil {
		return fmt.Errorf("%s: plan failed without a StillRunningError:\n%v", sh.name, err)
	}
	for _, l := range still.Procs {
		// What left its session and cleared its environment is known to
		// come from the plan, not from which process.
		if l.Descendant && l.Name != sh.proc && !(sh.cgroupOnly && l.Name == "") {
			return fmt.Errorf("%s: leftover %+v attributed to %q, want %q", sh.name, l, l.Name, sh.proc)
		}
	}
	return nil
}

// loopEscapes runs n plans of each shape, at most par at a time, and
// fails at the first miss.
func loopEscapes(t *testing.T, shapes []escapeShape, n, par int) {
	logs := t.TempDir()
	sem := make(chan struct{}, par)
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	for _, sh := range shapes {
		for range n {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				if err := checkEscape(t, sh, logs); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}()
		}
	}
	wg.Wait()
	for i, err := range errs {
		if i == 5 {
			t.Errorf("... and %d more", len(errs)-5)
			break
		}
		t.Error(err)
	}
}

// TestBackgroundAndExit is the commonest leak: a shell starts a server in
// the background and exits at once. Not one of 2,000 plans may pass.
func TestBackgroundAndExit(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("descendants that leave their process group are tracked on Linux only")
	}
	n := 2000
	if testing.Short() {
		n = 300
	}
	loopEscapes(t, escapeShapes[:1], n, 32)
}

// TestHostileLeftovers runs every hostile shape hundreds of times. Where
// cgroups are writable all are caught; without, the shapes that clear
// their environment in a session of their own are not tried (see the
// package documentation, "Containment").
func TestHostileLeftovers(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("descendants that leave their process group are tracked on Linux only")
	}
	n := 200
	if testing.Short() {
		n = 100
	}
	shapes := escapeShapes
	if !cgroupsInForce(t) {
		shapes = nil
		for _, sh := range escapeShapes {
			if !sh.cgroupOnly {
				shapes = append(shapes, sh)
			}
		}
	}
	loopEscapes(t, shapes, n, 8)
}

// TestHostileLeftoversWithoutCgroup runs the same without the cgroup
// layer, in a copy of the test binary.
func TestHostileLeftoversWithoutCgroup(t *testing.T) {
	if runtime.GOOS != "linux" || os.Getenv("PROCTEST_CGROUP") == "0" {
		t.Skip("Linux only; already without the cgroup layer")
	}
	// The fallback is tried less than the layer in force here.
	args := []string{"-test.run=^(TestHostileLeftovers|TestBackgroundAndExit|TestEightPlansEachItsOwn)$", "-test.count=1", "-test.short"}
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "PROCTEST_CGROUP=0")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("without the cgroup layer: %v\n%s", err, out)
	}
}

// TestEightPlansEachItsOwn runs eight plans at once, each leaving one of
// the hostile shapes behind: each must report exactly its own.
func TestEightPlansEachItsOwn(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("descendants that leave their process group are tracked on Linux only")
	}
	shapes := escapeShapes
	if !cgroupsInForce(t) {
		shapes = nil
		for _, sh := range escapeShapes {
			if !sh.cgroupOnly {
				shapes = append(shapes, sh)
			}
		}
	}
	for round := range 20 {
		var wg sync.WaitGroup
		errs := make([]error, 8)
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				sh := shapes[(round+i)%len(shapes)]
				m := newMarker()
				p := proctest.New(fmt.Sprint("own-", i), proctest.LogDir(t.TempDir()), proctest.StopGrace(100*time.Millisecond))
				sh.build(p, m)
				err := p.Execute(context.Background())
				var still *proctest.StillRunningError
				if pe, ok := err.(*proctest.PlanError); ok {
					for _, e := range pe.Errors {
						if s, ok := e.(*proctest.StillRunningError); ok {
							still = s
						}
					}
				}
				if still == nil {
					errs[i] = fmt.Errorf("plan %d (%s): no leftover reported: %v", i, sh.name, err)
					return
				}
				for _, l := range still.Procs {
					// A process caught in exec has no command line yet:
					// its name says where it comes from.
					if l.Descendant && l.Command == "" && (l.Name == sh.proc || l.Name == "") {
						continue
					}
					if l.Descendant && !strings.Contains(l.Command, m) && !strings.Contains(l.Command, "proctest-title") &&
						!strings.Contains(l.Command, "fork-chain") && !strings.Contains(l.Command, "reexec-daemon") {
						errs[i] = fmt.Errorf("plan %d (%s, marker %s) reported %+v, not its own\n%v", i, sh.name, m, l, err)
					}
				}
				if left := withMarker(m); len(left) > 0 {
					errs[i] = fmt.Errorf("plan %d (%s): still running: %v", i, sh.name, left)
				}
			}()
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Error(err)
			}
		}
	}
}

// TestHostileLeftoversSurviveNoSIGKILL kills a program in the middle of a
// plan whose processes left hostile descendants: where cgroups are
// writable, the guard ends them all.
func TestHostileLeftoversSurviveNoSIGKILL(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the guard runs on Linux only")
	}
	cg := planCgroup(t)
	if cg == "" {
		t.Skip("without a cgroup, descendants that clear their environment in a session of their own survive a SIGKILL of the program (see the package documentation)")
	}
	base := filepath.Dir(cg)
	for i := range 10 {
		m := newMarker()
		cmd := exec.Command("run-hostile-plan", m)
		cmd.Env = append(os.Environ(), "PROCTEST_LOGDIR="+t.TempDir())
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		line := make([]byte, 6)
		if _, err := io.ReadFull(out, line); err != nil || string(line) != "ready\n" {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("run-hostile-plan said %q, %v", line, err)
		}
		if n := len(withMarker(m)); n < 3 {
			t.Errorf("round %d: %d marked processes before the kill, want at least 3", i, n)
		}
		cmd.Process.Kill()
		cmd.Wait()
		killed := time.Now()
		var left []string
		for time.Since(killed) < 10*time.Second {
			if left = withMarker(m); len(left) == 0 {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		if len(left) > 0 {
			t.Fatalf("round %d: still running 10s after the SIGKILL: %v", i, left)
		}
		groups := filepath.Join(base, fmt.Sprintf("proctest-%d.*", cmd.Process.Pid))
		for time.Since(killed) < 10*time.Second {
			if dirs, _ := filepath.Glob(groups); len(dirs) == 0 {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		if dirs, _ := filepath.Glob(groups); len(dirs) > 0 {
			t.Fatalf("round %d: cgroups left 10s after the SIGKILL: %v", i, dirs)
		}
		t.Logf("round %d: all gone %v after the SIGKILL", i, time.Since(killed).Round(time.Millisecond))
	}
}

// TestPauseFreezesTheTree pauses a process whose child, in a session of
// its own, keeps a ticker: the freeze stops both, which SIGSTOP to the
// process group could not.
func TestPauseFreezesTheTree(t *testing.T) {
	if runtime.GOOS != "linux" || !cgroupsInForce(t) {
		t.Skip("freezing a process tree needs a cgroup; without one Pause stops the process group")
	}
	t.Parallel()
	file := t.TempDir() + "/ticks"
	tk := ticks(file)
	size := tk.size
	proctest.Run(t, func(p *proctest.Plan) {
		sh := p.Spawn("sh", "-c", "setsid ticker "+file+" & echo started; wait")
		p.WaitStdout(sh, "^started$")
		p.WaitFunc(sh, "ticking", tk.ticking)
		p.Pause(sh)
		frozen := p.Go("frozen", tk.still("paused"))
		p.Wait(frozen, 0)
		p.Resume(sh)
		going := p.Go("going", func(ctx context.Context) error {
			before := size()
			for size() == before {
				select {
				case <-ctx.Done():
					return fmt.Errorf("no tick after the resume")
				case <-time.After(5 * time.Millisecond):
				}
			}
			return nil
		})
		p.Wait(going, 0)
		p.Kill(sh)
	}, proctest.AllowDaemons())
}

// ticks is the file a ticker helper appends to, for tests of pausing.
type ticks string

// size returns how many bytes of ticks there are; 0 before the first.
func (f ticks) size() int64 {
	st, err := os.Stat(string(f))
	if err != nil {
		return 0
	}
	return st.Size()
}

// ticking is a readiness check: the ticker has ticked once.
func (f ticks) ticking(ctx context.Context) error {
	if f.size() == 0 {
		return fmt.Errorf("no tick yet")
	}
	return nil
}

// still returns a Go step that fails if the ticker ticks within 300 ms.
func (f ticks) still(what string) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		before := f.size()
		time.Sleep(300 * time.Millisecond)
		if after := f.size(); after != before {
			return fmt.Errorf("ticks went from %d to %d bytes while %s", before, after, what)
		}
		return nil
	}
}

// TestRestartAfterDeathWhilePaused: a paused process killed by SIGKILL
// (which a frozen process still dies of) leaves its cgroup frozen; its
// restart, into the same group, must not be frozen as it is cloned,
// before it execs, which would hang the plan. 30 rounds in one plan,
// each restart printing and then stopped by SIGTERM.
func TestRestartAfterDeathWhilePaused(t *testing.T) {
	t.Parallel()
	p := proctest.New("restart-paused", proctest.LogDir(t.TempDir()))
	x := p.SpawnNamed("x", "sh", "-c", "sleep 60 & echo running; exec sleep 60")
	p.WaitStdout(x, "^running$")
	for range 30 {
		p.Pause(x)
		p.Signal(x, syscall.SIGKILL)
		p.WaitExit(x.Dies(syscall.SIGKILL))
		p.Restart(x)
		p.WaitStdout(x, "^running$")
	}
	p.Kill(x)
	done := make(chan error, 1)
	go func() { done <- p.Execute(context.Background()) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(2 * time.Minute):
		t.Fatal("the plan has not ended after 2 minutes: a restart hangs")
	}
}
