package proctest_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
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
	return strings.Contains(layers, "cgroup ")
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
		if l.Descendant && l.Name != sh.proc {
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
		n = 200
	}
	loopEscapes(t, escapeShapes[:1], n, 16)
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
		n = 20
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
	args := []string{"-test.run=^(TestHostileLeftovers|TestBackgroundAndExit|TestEightPlansEachItsOwn)$", "-test.count=1"}
	if testing.Short() {
		args = append(args, "-test.short")
	}
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
