package proctest_test

// TestStress runs randomly generated plans and checks that each ends
// exactly as its processes' behaviours say it must, and that nothing the
// plan started survives it.
//
// Behaviours. Each process of a plan is a helper program of this file
// (stress-exit, stress-hang, ...) or a Go step:
//
//   - short-lived: exit with a code after a random delay (stress-exit;
//     go-exit returns nil, an error or panics), kill itself with a signal
//     (stress-die: SIGKILL and SIGTERM directly, SIGSEGV, SIGABRT, SIGBUS
//     and SIGUSR1 through a shell with default dispositions), write a few
//     MB to stdout (stress-flood); each may say it is ready, by a stdout
//     line or by creating a file (a flood before or after its flood);
//   - long-lived, ending only when the plan ends them: hang (dies by the
//     signal it gets), graceful (exits 0 on SIGTERM), stubborn (ignores
//     SIGTERM), forker (starts 1-3 "sleep" children in its process group,
//     which may share its stdout, and prints their pids), daemon (starts
//     a setsid "sleep" and prints its pid), go-block (a Go step blocked
//     until killed);
//   - forker and daemon may also exit once their children run, leaving
//     them behind.
//
// Plans. A plan is a random sequence of segments, each correct on its
// own: start 1-3 short-lived processes, perhaps signal, pause and resume
// them, wait for their readiness (at once or after all the spawns), sleep
// a little or start a long-lived one meanwhile, then wait for them all in
// one WaitPar, or each just after its spawn; start a long-lived process
// and wait until it is ready; end one (Kill with SIGTERM or SIGKILL and
// the status that follows, after a Pause sometimes, maybe Restart it;
// or SIGTERM then Wait for a graceful one); wait for a process, restart
// it and wait again; pause, resume or signal a long-lived one; run a
// forker or daemon to its exit. At the end the long-lived processes still
// running are ended.
//
// Faults. At most one is put in a plan, at a random place, so that the
// outcome follows from the behaviours alone, without asking the library:
//
//   - exit-code: a wait or kill expects another status than the one the
//     process ends with (also after a restart);
//   - unexpected: a short-lived process ends while the plan waits (or
//     sleeps, waits for readiness, or kills a stubborn process) on
//     long-lived ones, which cannot end meanwhile; or a process ends
//     without printing the line (making the file) its readiness wait
//     expects;
//   - timeout: a short timeout on a wait, a readiness wait or a SIGTERM
//     Kill of a process that cannot end meanwhile;
//   - still-running: a long-lived process is left running at the end, or
//     a forker or daemon leaves children behind without AllowDaemons.
//
// Steps after the faulty one never run, but keep the plan valid. The
// check: the plan passes, or fails with exactly the expected error for
// the expected process (and status, timeout, leftover pids). All of the
// plan's processes get an environment variable unique to the plan:
// afterwards no live process may have it, and none of the pids learned
// (spawns, children printed by forkers and daemons) may be alive. The log
// directory of a passing plan must be gone, and a kept one must hold the
// whole output of the floods.
//
// Running. Each plan has its own random source, made from the seed and
// its number, so that one plan reproduces alone. By default TestStress
// runs 60 plans, 6 at a time, with a seed from the clock, which it logs;
// a failed plan logs its steps and the command that runs it again. To
// reproduce, or to run long:
//
//	PROCTEST_STRESS_SEED=1234 go test -race -run 'TestStress/^0017-' .
//	PROCTEST_STRESS_PLANS=2000 go test -race -run TestStress -timeout 30m .
//
// (or -args -stress.seed=1234 -stress.plans=2000). PROCTEST_STRESS_WORKERS
// sets how many plans run at once.

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/proctest/proctest"
	"golang.org/x/sys/unix"
)

var (
	stressSeedFlag  = flag.String("stress.seed", "", "seed of TestStress (default $PROCTEST_STRESS_SEED, else the clock)")
	stressPlansFlag = flag.Int("stress.plans", 0, "number of plans TestStress runs (default $PROCTEST_STRESS_PLANS, else 60)")
)

const (
	stressDefaultPlans   = 60
	stressDefaultWorkers = 6
	// stressLong is the timeout of steps expected to succeed, or to be
	// cut short by an unexpected exit: generous, for a loaded machine.
	stressLong = 30 * time.Second
	// stressGrace is the plans' StopGrace.
	stressGrace = 200 * time.Millisecond
	// stressMark is the environment variable that tells a plan's
	// processes, and their descendants, from any other.
	stressMark = "PROCTEST_STRESS_MARK"
)

// Helper programs, one per behaviour, so that a process's name in a report
// says what it does. Their arguments are key=value pairs.
var stressHelpers = func() map[string]*proctest.HelperFunc {
	m := map[string]*proctest.HelperFunc{}
	for _, kind := range []string{"exit", "die", "flood", "hang", "graceful", "stubborn", "forker", "daemon"} {
		m[kind] = proctest.Helper("stress-"+kind, func(args []string) int { return stressProgram(kind, args) })
	}
	return m
}()

// stressProgram is the helper program of a behaviour.
func stressProgram(kind string, args []string) int {
	opts := map[string]string{}
	for _, a := range args {
		k, v, _ := strings.Cut(a, "=")
		opts[k] = v
	}
	num := func(key string) int {
		n, _ := strconv.Atoi(opts[key])
		return n
	}
	ready := func() {
		switch r := opts["ready"]; {
		case r == "line":
			fmt.Println("ready")
		case strings.HasPrefix(r, "file:"):
			if err := os.WriteFile(strings.TrimPrefix(r, "file:"), nil, 0o644); err != nil {
				fmt.Fprintln(os.Stderr, err)
			}
		}
	}
	delay := time.Duration(num("delay")) * time.Millisecond
	switch kind {
	case "exit":
		ready()
		time.Sleep(delay)
		return num("code")
	case "die":
		ready()
		time.Sleep(delay)
		stressDie(syscall.Signal(num("sig")))
		return 99
	case "flood":
		if opts["early"] == "1" {
			ready()
		}
		line := strings.Repeat("x", 1023) + "\n"
		buf := []byte(strings.Repeat(line, 64))
		for n := num("bytes"); n > 0; n -= len(buf) {
			os.Stdout.Write(buf[:min(n, len(buf))])
		}
		if opts["early"] != "1" {
			ready()
		}
		fmt.Println("flooded")
		return num("code")
	case "hang":
		ready()
	case "graceful":
		c := make(chan os.Signal, 1)
		signal.Notify(c, syscall.SIGTERM)
		ready()
		<-c
		return 0
	case "stubborn":
		signal.Ignore(syscall.SIGTERM)
		ready()
	case "forker", "daemon":
		var pids []string
		for range num("kids") {
			cmd := exec.Command("sleep", "3600")
			if kind == "daemon" {
				cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
			}
			if opts["share"] == "1" {
				cmd.Stdout = os.Stdout
			}
			if err := cmd.Start(); err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 98
			}
			pids = append(pids, strconv.Itoa(cmd.Process.Pid))
		}
		fmt.Println("kids " + strings.Join(pids, " "))
		if opts["then"] == "exit" {
			return num("code")
		}
	}
	for {
		time.Sleep(time.Hour)
	}
}

// stressDie kills the calling process with sig. The Go runtime dies by
// SIGKILL and SIGTERM, but turns a SIGSEGV sent by kill into a crash with
// exit code 2 and ignores SIGUSR1: for those a shell, which has the
// default dispositions, takes the process's place and kills itself.
func stressDie(sig syscall.Signal) {
	switch sig {
	case syscall.SIGKILL, syscall.SIGTERM:
		syscall.Kill(os.Getpid(), sig)
	default:
		name := strings.TrimPrefix(unix.SignalName(sig), "SIG")
		err := syscall.Exec("/bin/sh", []string{"sh", "-c", "ulimit -c 0; kill -" + name + " $$"}, os.Environ())
		fmt.Fprintln(os.Stderr, err)
		return
	}
	time.Sleep(10 * time.Second)
}

// stressDieSignals are the signals stress-die kills itself with. SIGINT
// and SIGHUP are left out: a test run in the background or under nohup
// may hand them down ignored.
var stressDieSignals = []syscall.Signal{syscall.SIGKILL, syscall.SIGTERM, syscall.SIGSEGV,
	syscall.SIGABRT, syscall.SIGBUS, syscall.SIGUSR1}

// A stressProc is a process of a generated plan, as the generator sees it.
type stressProc struct {
	id    int    // pN in the plan's description
	kind  string // exit, die, flood, go-exit, hang, graceful, stubborn, forker, daemon, go-block
	delay int    // milliseconds before a short-lived one ends
	code  int    // exit code of a short-lived one
	sig   syscall.Signal
	ready string // how it says it is ready: "", "line" or "file"
	bytes int    // flood: how much it writes before "flooded"
	early bool   // flood: ready before the flood rather than after
	kids  int    // forker, daemon: children started
	share bool   // forker: the children write to its stdout
	exits bool   // forker, daemon: exit with code once the children run
}

func (p *stressProc) isGo() bool { return strings.HasPrefix(p.kind, "go-") }

// end returns how a short-lived process ends by itself.
func (p *stressProc) end() proctest.Status {
	if p.kind == "die" {
		return proctest.Status{Signal: p.sig}
	}
	return proctest.Status{Code: p.code}
}

// kidsVar names the variable that captures a forker's or daemon's children.
func (p *stressProc) kidsVar() string { return "kids" + strconv.Itoa(p.id) }

// readyFile is where p says it is ready, under dir.
func (p *stressProc) readyFile(dir string) string {
	return filepath.Join(dir, fmt.Sprintf("p%d.ready", p.id))
}

// args returns the helper's arguments.
func (p *stressProc) args(dir string) []string {
	a := []string{"delay=" + strconv.Itoa(p.delay), "code=" + strconv.Itoa(p.code)}
	switch p.ready {
	case "line":
		a = append(a, "ready=line")
	case "file":
		a = append(a, "ready=file:"+p.readyFile(dir))
	}
	if p.sig != 0 {
		a = append(a, "sig="+strconv.Itoa(int(p.sig)))
	}
	if p.bytes != 0 {
		a = append(a, "bytes="+strconv.Itoa(p.bytes))
	}
	if p.early {
		a = append(a, "early=1")
	}
	if p.kids != 0 {
		a = append(a, "kids="+strconv.Itoa(p.kids))
	}
	if p.share {
		a = append(a, "share=1")
	}
	if p.exits {
		a = append(a, "then=exit")
	}
	return a
}

func (p *stressProc) String() string {
	s := fmt.Sprintf("p%d %s", p.id, p.kind)
	switch p.kind {
	case "exit", "go-exit":
		s += fmt.Sprintf(" after %dms code %d", p.delay, p.code)
	case "die":
		s += fmt.Sprintf(" after %dms by %s", p.delay, unix.SignalName(p.sig))
	case "flood":
		s += fmt.Sprintf(" %d bytes code %d", p.bytes, p.code)
		if p.early && p.ready != "" {
			s += ", ready before the flood"
		}
	case "forker", "daemon":
		s += fmt.Sprintf(" kids %d", p.kids)
		if p.share {
			s += " sharing stdout"
		}
		if p.exits {
			s += fmt.Sprintf(" then exit %d", p.code)
		}
	}
	if p.ready != "" {
		s += " ready by " + p.ready
	}
	return s
}

// A stressOp is a step of a generated plan.
type stressOp struct {
	kind    string // spawn, ready, never, capture, wait, kill, signal, pause, resume, sleep, restart
	p       *stressProc
	exits   []stressExit   // wait
	sig     syscall.Signal // kill, signal
	want    proctest.Status
	file    bool          // ready, never: a file rather than a stdout line
	timeout time.Duration // 0: the plan's
	sleep   time.Duration
	fault   bool // the plan is expected to fail here
	dead    bool // after the fault: never runs
}

// A stressExit is an expected end of a process.
type stressExit struct {
	p  *stressProc
	st proctest.Status
}

func (op stressOp) String() string {
	var s string
	switch op.kind {
	case "spawn":
		s = "spawn " + op.p.String()
	case "ready", "never":
		what := `stdout ^ready$`
		switch {
		case op.kind == "ready" && op.file:
			what = "its ready file"
		case op.kind == "never" && op.file:
			what = "a file never made"
		case op.kind == "never":
			what = "stdout ^never$"
		}
		s = fmt.Sprintf("wait until p%d is ready: %s", op.p.id, what)
	case "capture":
		s = fmt.Sprintf("wait for the kids line of p%d", op.p.id)
	case "wait":
		var ws []string
		for _, x := range op.exits {
			ws = append(ws, fmt.Sprintf("p%d %s", x.p.id, x.st))
		}
		s = "wait " + strings.Join(ws, ", ")
	case "kill":
		s = fmt.Sprintf("kill p%d with %s, want %s", op.p.id, unix.SignalName(op.sig), op.want)
	case "signal":
		s = fmt.Sprintf("signal p%d %s", op.p.id, unix.SignalName(op.sig))
	case "pause", "resume", "restart":
		s = fmt.Sprintf("%s p%d", op.kind, op.p.id)
	case "sleep":
		s = fmt.Sprintf("sleep %v", op.sleep)
	}
	if op.timeout != 0 {
		s += fmt.Sprintf(" (timeout %v)", op.timeout)
	}
	if op.fault {
		s += "   <- fails here"
	}
	if op.dead {
		s = "(never runs) " + s
	}
	return s
}

// A stressWant is the outcome a plan must have.
type stressWant struct {
	what    string // pass, exit-code, unexpected, timeout, still-running
	p       *stressProc
	got     proctest.Status // exit-code, unexpected: how p ended
	want    proctest.Status // exit-code: what the step expected
	awaited string          // timeout: what the step waited for, a prefix
	timeout time.Duration   // timeout: the step's
	stopped string          // still-running, p itself: how the plan stopped it
	kids    bool            // still-running: p's children were left behind
}

func (w stressWant) String() string {
	switch w.what {
	case "pass":
		return "pass"
	case "exit-code":
		return fmt.Sprintf("ExitCodeError for p%d: want %s, got %s", w.p.id, w.want, w.got)
	case "unexpected":
		return fmt.Sprintf("UnexpectedExitError for p%d, %s", w.p.id, w.got)
	case "timeout":
		return fmt.Sprintf("TimeoutError for p%d after %v awaiting %q", w.p.id, w.timeout, w.awaited)
	case "still-running":
		if w.kids {
			return fmt.Sprintf("StillRunningError for the %d children of p%d", w.p.kids, w.p.id)
		}
		return fmt.Sprintf("StillRunningError for p%d, stopped by %s", w.p.id, w.stopped)
	}
	return w.what
}

// A stressPlan is a generated plan.
type stressPlan struct {
	index        int
	procs        []*stressProc
	ops          []stressOp
	allowDaemons bool
	keepLogs     bool
	want         stressWant
	floods       []*stressProc // floods waited for before any fault
}

func (s *stressPlan) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "plan %04d (AllowDaemons %v, KeepLogs %v), expected outcome: %v\n", s.index, s.allowDaemons, s.keepLogs, s.want)
	for i, op := range s.ops {
		fmt.Fprintf(&b, "  %2d. %v\n", i+1, op)
	}
	return b.String()
}

// stressGen generates one plan.
type stressGen struct {
	r         *rand.Rand
	s         *stressPlan
	bg        []*stressProc // long-lived processes running at this point of the plan
	daemonsOK bool          // processes may leave children behind
	faulted   bool          // the fault is in: later steps never run
	ending    bool          // ending the processes still running
}

func stressPick[T any](r *rand.Rand, xs ...T) T { return xs[r.IntN(len(xs))] }

// genStressPlan generates plan number index of the run with seed.
func genStressPlan(seed uint64, index int) *stressPlan {
	g := &stressGen{r: rand.New(rand.NewPCG(seed, uint64(index))), s: &stressPlan{index: index}}
	fault := stressPick(g.r, "pass", "pass", "pass", "exit-code", "exit-code", "unexpected", "unexpected", "timeout", "timeout", "still-running")
	g.s.keepLogs = g.r.IntN(4) == 0
	g.s.allowDaemons = fault != "still-running" && g.r.IntN(2) == 0
	// A plan that fails in a step ignores what is left behind.
	g.daemonsOK = g.s.allowDaemons || fault != "pass" && fault != "still-running"
	segs := 1 + g.r.IntN(5)
	at := g.r.IntN(segs + 1)
	for i := 0; i <= segs; i++ {
		if i == at {
			switch fault {
			case "exit-code":
				g.exitCodeFault()
			case "unexpected":
				g.unexpectedFault()
			case "timeout":
				g.timeoutFault()
			case "still-running":
				g.stillRunningFault()
			}
		}
		if i < segs {
			g.segment()
		}
	}
	g.ending = true
	for _, p := range g.shuffled(g.bg) {
		g.end(p)
	}
	if fault == "pass" {
		g.s.want = stressWant{what: "pass"}
	}
	return g.s
}

func (g *stressGen) add(op stressOp) {
	op.dead = g.faulted
	g.s.ops = append(g.s.ops, op)
}

// fail adds op as the step where the plan fails.
func (g *stressGen) fail(op stressOp, want stressWant) {
	op.fault = true
	g.add(op)
	g.faulted = true
	g.s.want = want
}

func (g *stressGen) shuffled(ps []*stressProc) []*stressProc {
	ps = slices.Clone(ps)
	g.r.Shuffle(len(ps), func(i, j int) { ps[i], ps[j] = ps[j], ps[i] })
	return ps
}

func (g *stressGen) newProc(kind string) *stressProc {
	p := &stressProc{id: len(g.s.procs), kind: kind}
	g.s.procs = append(g.s.procs, p)
	return p
}

// short adds a short-lived process of one of kinds (any by default), with
// random settings, and spawns it.
func (g *stressGen) short(kinds ...string) *stressProc {
	if len(kinds) == 0 {
		kinds = []string{"exit", "exit", "die", "flood", "go-exit"}
	}
	p := g.newProc(stressPick(g.r, kinds...))
	p.delay = g.r.IntN(80)
	switch p.kind {
	case "exit":
		p.code = g.r.IntN(6)
	case "die":
		p.sig = stressPick(g.r, stressDieSignals...)
	case "flood":
		p.code = g.r.IntN(3)
		p.bytes = (1 + g.r.IntN(8)) << 19
		p.early = g.r.IntN(2) == 0
	case "go-exit":
		p.code = g.r.IntN(3)
	}
	if p.isGo() {
		p.ready = stressPick(g.r, "", "file")
	} else {
		p.ready = stressPick(g.r, "", "line", "file")
	}
	g.add(stressOp{kind: "spawn", p: p})
	return p
}

// stressReadyOp returns the wait for p's readiness.
func stressReadyOp(p *stressProc) stressOp {
	return stressOp{kind: "ready", p: p, file: p.ready == "file"}
}

// wait adds a wait for the processes to end as they do by themselves.
func (g *stressGen) wait(ps ...*stressProc) {
	op := stressOp{kind: "wait"}
	for _, p := range g.shuffled(ps) {
		op.exits = append(op.exits, stressExit{p, p.end()})
		if p.kind == "flood" && !g.faulted {
			g.s.floods = append(g.s.floods, p)
		}
	}
	g.add(op)
}

// longKinds are the kinds of long-lived processes a plan may start.
func (g *stressGen) longKinds() []string {
	kinds := []string{"hang", "hang", "graceful", "stubborn", "go-block"}
	kinds = append(kinds, "forker")
	if g.daemonsOK {
		kinds = append(kinds, "daemon")
	}
	return kinds
}

// start spawns a long-lived process of kind and waits until it is ready
// when it must be; the caller decides whether it joins g.bg.
func (g *stressGen) start(kind string) *stressProc {
	p := g.newProc(kind)
	switch kind {
	case "hang":
		p.ready = stressPick(g.r, "", "line", "file")
	case "graceful", "stubborn": // the handler must be in place before a signal
		p.ready = stressPick(g.r, "line", "file")
	case "go-block":
		p.ready = stressPick(g.r, "", "file")
	case "forker":
		p.kids = 1 + g.r.IntN(3)
		p.share = g.r.IntN(2) == 0
	case "daemon":
		p.kids = 1
	}
	g.add(stressOp{kind: "spawn", p: p})
	switch {
	case p.kids > 0:
		g.add(stressOp{kind: "capture", p: p})
	case p.ready != "" && (kind != "hang" || g.r.IntN(3) > 0):
		g.add(stressReadyOp(p))
	}
	return p
}

// hanger returns a long-lived process running at this point, other than
// those in not, of one of kinds (any by default), starting one if need be.
func (g *stressGen) hanger(not []*stressProc, kinds ...string) *stressProc {
	if len(kinds) == 0 {
		kinds = g.longKinds()
	}
	var ok []*stressProc
	for _, p := range g.bg {
		if slices.Contains(kinds, p.kind) && !slices.Contains(not, p) {
			ok = append(ok, p)
		}
	}
	if len(ok) > 0 && g.r.IntN(3) > 0 {
		return stressPick(g.r, ok...)
	}
	p := g.start(stressPick(g.r, kinds...))
	g.bg = append(g.bg, p)
	return p
}

// ended removes p from the running long-lived processes.
func (g *stressGen) ended(p *stressProc) {
	g.bg = slices.DeleteFunc(g.bg, func(q *stressProc) bool { return q == p })
}

// stressKillWays returns the signals that end a long-lived process, each with
// the status it then ends with.
func stressKillWays(p *stressProc) []stressExit {
	term := stressExit{p, proctest.Status{Signal: syscall.SIGTERM}}
	kill := stressExit{p, proctest.Status{Signal: syscall.SIGKILL}}
	switch p.kind {
	case "graceful":
		return []stressExit{{p, proctest.Status{}}, kill}
	case "stubborn":
		return []stressExit{kill}
	}
	return []stressExit{term, kill}
}

// stressKillSignal returns the signal of a way to end a process.
func stressKillSignal(x stressExit) syscall.Signal {
	if x.st.Signal == syscall.SIGKILL {
		return syscall.SIGKILL
	}
	return syscall.SIGTERM
}

// end adds the steps that end the long-lived process p.
func (g *stressGen) end(p *stressProc) {
	g.ended(p)
	way := stressPick(g.r, stressKillWays(p)...)
	if !p.isGo() && g.r.IntN(4) == 0 {
		g.add(stressOp{kind: "pause", p: p})
	}
	if p.kind == "graceful" && way.st == (proctest.Status{}) && g.r.IntN(3) == 0 {
		g.add(stressOp{kind: "signal", p: p, sig: syscall.SIGTERM})
		g.add(stressOp{kind: "wait", exits: []stressExit{way}})
		return
	}
	g.add(stressOp{kind: "kill", p: p, sig: stressKillSignal(way), want: way.st})
	// Started again, it must say it is ready again: a ready file is
	// already there, so only a line will do.
	if (p.kind == "hang" || p.ready == "line" && (p.kind == "graceful" || p.kind == "stubborn")) &&
		!g.ending && len(g.bg) < 3 && g.r.IntN(4) == 0 {
		g.add(stressOp{kind: "restart", p: p})
		if p.ready == "line" {
			g.add(stressReadyOp(p))
		}
		g.bg = append(g.bg, p)
	}
}

// segment adds a random correct piece of plan.
func (g *stressGen) segment() {
	var pokable []*stressProc
	for _, p := range g.bg {
		if !p.isGo() {
			pokable = append(pokable, p)
		}
	}
	for {
		switch g.r.IntN(10) {
		case 0, 1, 2, 3:
			g.shorts()
			return
		case 4, 5:
			if len(g.bg) < 3 {
				g.bg = append(g.bg, g.start(stressPick(g.r, g.longKinds()...)))
				return
			}
		case 6:
			if len(g.bg) > 0 {
				g.end(stressPick(g.r, g.bg...))
				return
			}
		case 7:
			p := g.short("exit", "die", "flood")
			if p.ready != "" && g.r.IntN(2) == 0 {
				g.add(stressReadyOp(p))
			}
			g.wait(p)
			g.add(stressOp{kind: "restart", p: p})
			if p.ready != "" && g.r.IntN(2) == 0 {
				g.add(stressReadyOp(p))
			}
			g.wait(p)
			return
		case 8:
			if g.daemonsOK {
				p := g.start(stressPick(g.r, "forker", "daemon"))
				p.exits, p.code = true, g.r.IntN(3)
				g.wait(p)
				return
			}
		case 9:
			if len(pokable) > 0 {
				p := stressPick(g.r, pokable...)
				switch g.r.IntN(4) {
				case 0:
					g.add(stressOp{kind: "pause", p: p})
					g.add(stressOp{kind: "resume", p: p})
				case 1:
					g.add(stressOp{kind: "pause", p: p})
				case 2:
					g.add(stressOp{kind: "signal", p: p, sig: syscall.SIGCONT})
				case 3:
					if p.kind == "stubborn" {
						g.add(stressOp{kind: "signal", p: p, sig: syscall.SIGTERM})
					} else {
						g.add(stressOp{kind: "signal", p: p, sig: syscall.SIGWINCH})
					}
				}
				return
			}
		}
	}
}

// shorts adds 1-3 short-lived processes and their waits: each waited for
// after its spawn, or all at once after they all started.
func (g *stressGen) shorts() {
	n := 1 + g.r.IntN(3)
	oneByOne := n > 1 && g.r.IntN(3) == 0
	var ps, later []*stressProc
	for range n {
		p := g.short()
		g.poke(p)
		if p.ready != "" && g.r.IntN(2) == 0 {
			if oneByOne || g.r.IntN(2) == 0 {
				g.add(stressReadyOp(p))
			} else {
				later = append(later, p)
			}
		}
		if oneByOne {
			g.wait(p)
		}
		ps = append(ps, p)
	}
	if oneByOne {
		return
	}
	// Readiness waits after all the spawns: a process may have ended
	// before its readiness wait starts.
	for _, p := range g.shuffled(later) {
		g.add(stressReadyOp(p))
	}
	if len(g.bg) < 3 && g.r.IntN(4) == 0 {
		// A server starts while they run: their ends, expected by the
		// next wait, come during its spawn and readiness wait.
		g.bg = append(g.bg, g.start(stressPick(g.r, g.longKinds()...)))
	}
	if g.r.IntN(4) == 0 {
		g.add(stressOp{kind: "sleep", sleep: time.Duration(g.r.IntN(30)) * time.Millisecond})
	}
	g.wait(ps...)
}

// poke sometimes signals a short-lived program, or pauses and resumes it,
// while it runs or as it ends.
func (g *stressGen) poke(p *stressProc) {
	if p.isGo() {
		return
	}
	switch g.r.IntN(8) {
	case 0:
		g.add(stressOp{kind: "signal", p: p, sig: stressPick(g.r, syscall.SIGCONT, syscall.SIGWINCH)})
	case 1:
		g.add(stressOp{kind: "pause", p: p})
		g.add(stressOp{kind: "resume", p: p})
	}
}

// otherStatus returns a status other than st.
func (g *stressGen) otherStatus(st proctest.Status) proctest.Status {
	for {
		o := stressPick(g.r, proctest.Status{}, proctest.Status{Code: 1}, proctest.Status{Code: 3},
			proctest.Status{Signal: syscall.SIGTERM}, proctest.Status{Signal: syscall.SIGKILL})
		if o != st {
			return o
		}
	}
}

// exitCodeFault adds a wait or kill that expects a wrong status.
func (g *stressGen) exitCodeFault() {
	switch g.r.IntN(3) {
	case 0: // short-lived processes, one of which ends otherwise
		n := 1 + g.r.IntN(3)
		var ps []*stressProc
		for range n {
			p := g.short()
			if p.ready != "" && g.r.IntN(2) == 0 {
				g.add(stressReadyOp(p))
			}
			ps = append(ps, p)
		}
		bad := ps[g.r.IntN(n)]
		want := g.otherStatus(bad.end())
		op := stressOp{kind: "wait"}
		for _, p := range g.shuffled(ps) {
			x := stressExit{p, p.end()}
			if p == bad {
				x.st = want
			}
			op.exits = append(op.exits, x)
		}
		g.fail(op, stressWant{what: "exit-code", p: bad, got: bad.end(), want: want})
	case 1: // a long-lived process killed, expecting another end
		h := g.hanger(nil)
		g.ended(h)
		way := stressPick(g.r, stressKillWays(h)...)
		want := g.otherStatus(way.st)
		g.fail(stressOp{kind: "kill", p: h, sig: stressKillSignal(way), want: want},
			stressWant{what: "exit-code", p: h, got: way.st, want: want})
	case 2: // right the first time, wrong after a restart
		p := g.short("exit", "die")
		g.wait(p)
		g.add(stressOp{kind: "restart", p: p})
		want := g.otherStatus(p.end())
		g.fail(stressOp{kind: "wait", exits: []stressExit{{p, want}}},
			stressWant{what: "exit-code", p: p, got: p.end(), want: want})
	}
}

// unexpectedFault adds a process that ends while no step awaits it.
func (g *stressGen) unexpectedFault() {
	if g.r.IntN(3) == 0 {
		// It ends without ever being ready.
		p := g.short("exit", "die", "flood", "go-exit")
		p.ready = ""
		op := stressOp{kind: "ready", p: p, file: p.isGo() || g.r.IntN(2) == 0}
		g.fail(op, stressWant{what: "unexpected", p: p, got: p.end()})
		g.wait(p)
		return
	}
	// It ends while the plan waits on a process that never ends by itself.
	h := g.hanger(nil)
	b := g.short()
	if g.r.IntN(2) == 0 { // it says it is ready and ends at once
		b.delay = 0
		if b.ready == "" || b.isGo() {
			b.ready = "file"
		}
		g.add(stressReadyOp(b))
	}
	if g.r.IntN(4) == 0 {
		g.add(stressOp{kind: "sleep", sleep: time.Duration(g.r.IntN(20)) * time.Millisecond})
	}
	want := stressWant{what: "unexpected", p: b, got: b.end()}
	switch g.r.IntN(5) {
	case 0:
		g.ended(h)
		g.fail(stressOp{kind: "wait", exits: []stressExit{{h, proctest.Status{}}}}, want)
	case 1:
		h2 := g.hanger([]*stressProc{h})
		g.ended(h)
		g.ended(h2)
		g.fail(stressOp{kind: "wait", exits: []stressExit{{h, proctest.Status{}}, {h2, proctest.Status{}}}}, want)
	case 2:
		g.fail(stressOp{kind: "sleep", sleep: stressLong}, want)
		g.end(h)
	case 3:
		g.fail(stressOp{kind: "never", p: h, file: h.isGo() || g.r.IntN(2) == 0}, want)
		g.end(h)
	case 4:
		s := g.hanger(nil, "stubborn")
		g.ended(s)
		g.fail(stressOp{kind: "kill", p: s, sig: syscall.SIGTERM, want: proctest.Status{Signal: syscall.SIGTERM}}, want)
	}
	g.wait(b)
}

// timeoutFault adds a step with a short timeout on a process that does
// not end, or does not become ready, meanwhile.
func (g *stressGen) timeoutFault() {
	short := time.Duration(200+g.r.IntN(200)) * time.Millisecond
	switch g.r.IntN(4) {
	case 0:
		h := g.hanger(nil)
		g.ended(h)
		g.fail(stressOp{kind: "wait", exits: []stressExit{{h, proctest.Status{}}}, timeout: short},
			stressWant{what: "timeout", p: h, awaited: "exit 0", timeout: short})
	case 1: // with a process that does end in time
		h := g.hanger(nil)
		g.ended(h)
		x := g.short("exit", "die", "go-exit")
		x.ready = ""
		const timeout = 1500 * time.Millisecond
		g.fail(stressOp{kind: "wait", exits: g.shuffledExits(stressExit{h, proctest.Status{}}, stressExit{x, x.end()}), timeout: timeout},
			stressWant{what: "timeout", p: h, awaited: "exit 0", timeout: timeout})
	case 2:
		s := g.hanger(nil, "stubborn")
		g.ended(s)
		g.fail(stressOp{kind: "kill", p: s, sig: syscall.SIGTERM, want: proctest.Status{Signal: syscall.SIGTERM}, timeout: short},
			stressWant{what: "timeout", p: s, awaited: "signal SIGTERM", timeout: short})
	case 3:
		h := g.hanger(nil)
		op := stressOp{kind: "never", p: h, file: h.isGo() || g.r.IntN(2) == 0, timeout: short}
		awaited := `stdout to match "^never$"`
		if op.file {
			awaited = "file "
		}
		g.fail(op, stressWant{what: "timeout", p: h, awaited: awaited, timeout: short})
		g.end(h)
	}
}

func (g *stressGen) shuffledExits(xs ...stressExit) []stressExit {
	g.r.Shuffle(len(xs), func(i, j int) { xs[i], xs[j] = xs[j], xs[i] })
	return xs
}

// stillRunningFault leaves something running at the end of the plan.
func (g *stressGen) stillRunningFault() {
	switch g.r.IntN(3) {
	case 0: // a process the plan never ends
		p := g.start(stressPick(g.r, "hang", "graceful", "stubborn", "go-block"))
		stopped := "SIGTERM"
		if p.kind == "stubborn" {
			stopped = "SIGKILL after " + stressGrace.String()
		}
		g.s.want = stressWant{what: "still-running", p: p, stopped: stopped}
	case 1: // children in its group, after it exits
		p := g.start("forker")
		p.exits, p.code = true, g.r.IntN(3)
		g.wait(p)
		g.s.want = stressWant{what: "still-running", p: p, kids: true}
	case 2: // a daemon, after it exits or is killed
		p := g.start("daemon")
		if g.r.IntN(2) == 0 {
			p.exits, p.code = true, g.r.IntN(3)
			g.wait(p)
		} else {
			g.bg = append(g.bg, p)
		}
		g.s.want = stressWant{what: "still-running", p: p, kids: true}
	}
}

// stressSettings returns the seed, the number of plans and the number of
// plans run at once.
func stressSettings(t *testing.T) (seed uint64, plans, workers int) {
	s := *stressSeedFlag
	if s == "" {
		s = os.Getenv("PROCTEST_STRESS_SEED")
	}
	if s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("bad stress seed %q: %v", s, err)
		}
	} else {
		seed = uint64(time.Now().UnixNano())
	}
	plans = *stressPlansFlag
	if v := os.Getenv("PROCTEST_STRESS_PLANS"); plans == 0 && v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			t.Fatalf("bad PROCTEST_STRESS_PLANS %q", v)
		}
		plans = n
	}
	if plans == 0 {
		plans = stressDefaultPlans
	}
	workers = stressDefaultWorkers
	if v := os.Getenv("PROCTEST_STRESS_WORKERS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("bad PROCTEST_STRESS_WORKERS %q", v)
		}
		workers = n
	}
	return seed, plans, workers
}

// stressStats counts what a run did.
type stressStats struct {
	mu       sync.Mutex
	outcomes map[string]int
	procs    int // programs started
	goSteps  int
	kids     int // children and daemons the programs started
	failed   atomic.Int32
}

func TestStress(t *testing.T) {
	t.Parallel()
	seed, plans, workers := stressSettings(t)
	t.Logf("seed %d, %d plans, %d at once (PROCTEST_STRESS_SEED=%d PROCTEST_STRESS_PLANS=%d reproduces)",
		seed, plans, workers, seed, plans)
	env := fmt.Sprintf("PROCTEST_STRESS_SEED=%d PROCTEST_STRESS_PLANS=%d", seed, plans)
	start := time.Now()
	stats := &stressStats{outcomes: map[string]int{}}
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				s := genStressPlan(seed, i)
				t.Run(fmt.Sprintf("%04d-%s", i, s.want.what), func(t *testing.T) {
					runStressPlan(t, s, env, stats)
				})
			}
		}()
	}
	for i := range plans {
		if stats.failed.Load() >= 10 {
			t.Errorf("stopped after 10 failed plans")
			break
		}
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	t.Logf("seed %d: %d plans in %v: %v; %d programs, %d Go steps, %d children and daemons",
		seed, plans, time.Since(start).Round(time.Millisecond), stats.outcomes, stats.procs, stats.goSteps, stats.kids)
}

// stressRun counts the plans run in this program, for unique marks.
var stressRun atomic.Int64

// runStressPlan builds plan s, executes it and checks how it went; env
// is what reproduces the run.
func runStressPlan(t *testing.T, s *stressPlan, env string, stats *stressStats) {
	defer func() {
		if t.Failed() {
			stats.failed.Add(1)
			t.Logf("reproduce: %s go test -race -run 'TestStress/^%04d-' .\n%v", env, s.index, s)
		}
	}()
	dir := t.TempDir()
	opts := []proctest.Option{proctest.LogDir(t.TempDir()), proctest.StopGrace(stressGrace)}
	if s.allowDaemons {
		opts = append(opts, proctest.AllowDaemons())
	}
	if s.keepLogs {
		opts = append(opts, proctest.KeepLogs())
	}
	var logDir string
	var spawned []int
	opts = append(opts, proctest.OnEvent(func(e proctest.Event) {
		switch e.Kind {
		case proctest.EventPlanStart:
			logDir = strings.TrimPrefix(e.Detail, "logs in ")
		case proctest.EventSpawn:
			spawned = append(spawned, e.Pid)
		}
	}))
	p := proctest.New(fmt.Sprintf("stress-%04d", s.index), opts...)
	p.SetTimeout(stressLong)
	mark := fmt.Sprintf("%d.%d.%d", os.Getpid(), s.index, stressRun.Add(1))
	// Under the race detector a program sleeps a second before it exits,
	// unless told otherwise: a graceful one would not end in its grace.
	p.Env = []string{stressMark + "=" + mark, strings.TrimSpace("GORACE=" + os.Getenv("GORACE") + " atexit_sleep_ms=0")}
	procs := buildStressPlan(p, s, dir)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	err := p.Execute(ctx)

	// Nothing of the plan survives it.
	leaked := stressMarked(mark)
	for _, pid := range leaked {
		t.Errorf("pid %d (%s) survived the plan", pid, stressCmdline(pid))
	}
	kids := map[*stressProc][]int{}
	for _, sp := range s.procs {
		if sp.kids == 0 {
			continue
		}
		for _, f := range strings.Fields(p.Var(sp.kidsVar()).Value()) {
			pid, _ := strconv.Atoi(f)
			kids[sp] = append(kids[sp], pid)
			if pid != 0 && alive(pid) && stressHasMark(pid, mark) {
				t.Errorf("child %d of p%d survived the plan", pid, sp.id)
			}
		}
	}
	for _, pid := range spawned {
		if pid != 0 && alive(pid) && stressHasMark(pid, mark) {
			t.Errorf("pid %d spawned by the plan survived it", pid)
		}
	}

	checkStressOutcome(t, s, procs, kids, err)

	var pe *proctest.PlanError
	switch {
	case err == nil && !s.keepLogs:
		if _, serr := os.Stat(logDir); !errors.Is(serr, os.ErrNotExist) {
			t.Errorf("log directory %s of a passing plan not removed: %v", logDir, serr)
		}
	case err != nil && (!errors.As(err, &pe) || pe.LogDir != logDir):
		t.Errorf("failed plan's log directory is not %s", logDir)
	default:
		runs := map[*stressProc]int{}
		for _, f := range s.floods {
			runs[f]++
		}
		for f, n := range runs {
			checkStressFlood(t, f, filepath.Join(logDir, procs[f].Name()+".stdout"), n)
		}
	}

	stats.mu.Lock()
	defer stats.mu.Unlock()
	stats.outcomes[s.want.what]++
	for _, pid := range spawned {
		if pid != 0 {
			stats.procs++
		} else {
			stats.goSteps++
		}
	}
	for _, pids := range kids {
		stats.kids += len(pids)
	}
}

// stressRestartMarker matches the line a log gets before a restart's output.
var stressRestartMarker = regexp.MustCompile(`(?m)^--- proctest: restart [0-9]+ at \+[0-9.]+s ---\n`)

// checkStressFlood checks that the log at path holds the whole output of the
// flood f's runs, in order, between restart markers.
func checkStressFlood(t *testing.T, f *stressProc, path string, runs int) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Errorf("log of flood p%d: %v", f.id, err)
		return
	}
	var out []byte
	if f.ready == "line" && f.early {
		out = append(out, "ready\n"...)
	}
	out = append(out, bytes.Repeat([]byte(strings.Repeat("x", 1023)+"\n"), f.bytes/1024)...)
	if f.ready == "line" && !f.early {
		out = append(out, "ready\n"...)
	}
	out = append(out, "flooded\n"...)
	parts := stressRestartMarker.Split(string(b), -1)
	if len(parts) != runs {
		t.Errorf("log of flood p%d: %d bytes in %d parts between restart markers, want %d runs of %d bytes",
			f.id, len(b), len(parts), runs, len(out))
		return
	}
	for i, part := range parts {
		if part != string(out) {
			t.Errorf("log of flood p%d: run %d wrote %d bytes, want %d", f.id, i, len(part), len(out))
		}
	}
}

// buildStressPlan adds the steps of s to p, with ready files under dir,
// and returns the processes.
func buildStressPlan(p *proctest.Plan, s *stressPlan, dir string) map[*stressProc]*proctest.Proc {
	procs := map[*stressProc]*proctest.Proc{}
	for _, op := range s.ops {
		proc := procs[op.p]
		var step *proctest.Step
		switch op.kind {
		case "spawn":
			if op.p.isGo() {
				procs[op.p] = p.Go(op.p.kind, stressGoFunc(op.p, dir))
			} else {
				procs[op.p] = p.SpawnHelper(stressHelpers[op.p.kind], op.p.args(dir)...)
			}
		case "ready":
			if op.file {
				step = p.WaitFile(proc, op.p.readyFile(dir))
			} else {
				step = p.WaitStdout(proc, "^ready$")
			}
		case "never":
			if op.file {
				step = p.WaitFile(proc, filepath.Join(dir, "never"))
			} else {
				step = p.WaitStdout(proc, "^never$")
			}
		case "capture":
			step = p.WaitStdout(proc, fmt.Sprintf(`^kids (?P<%s>[0-9 ]+)$`, op.p.kidsVar()))
		case "wait":
			if x := op.exits[0]; len(op.exits) == 1 && x.st.Signal == 0 {
				step = p.Wait(procs[x.p], x.st.Code)
				break
			}
			var exits []proctest.Exit
			for _, x := range op.exits {
				if x.st.Signal != 0 {
					exits = append(exits, procs[x.p].Dies(x.st.Signal))
				} else {
					exits = append(exits, procs[x.p].Exits(x.st.Code))
				}
			}
			step = p.WaitPar(exits...)
		case "kill":
			var args []proctest.KillArg
			if op.sig != syscall.SIGTERM {
				args = append(args, proctest.Using(op.sig))
			}
			if op.want != (proctest.Status{Signal: op.sig}) {
				if op.want.Signal != 0 {
					args = append(args, proc.Dies(op.want.Signal))
				} else {
					args = append(args, proc.Exits(op.want.Code))
				}
			}
			step = p.Kill(proc, args...)
		case "signal":
			step = p.Signal(proc, op.sig)
		case "pause":
			step = p.Pause(proc)
		case "resume":
			step = p.Resume(proc)
		case "sleep":
			step = p.Sleep(op.sleep)
		case "restart":
			step = p.Restart(proc)
		}
		if op.timeout != 0 {
			step.Timeout(op.timeout)
		}
	}
	return procs
}

// stressGoFunc returns the function of a Go step.
func stressGoFunc(p *stressProc, dir string) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		if p.ready == "file" {
			if err := os.WriteFile(p.readyFile(dir), nil, 0o644); err != nil {
				return err
			}
		}
		if p.kind == "go-block" {
			<-ctx.Done()
			return ctx.Err()
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(p.delay) * time.Millisecond):
		}
		switch p.code {
		case 0:
			return nil
		case 1:
			return errors.New("failing on purpose")
		}
		panic("panicking on purpose")
	}
}

// checkStressOutcome checks that err is the outcome s wants.
func checkStressOutcome(t *testing.T, s *stressPlan, procs map[*stressProc]*proctest.Proc, kids map[*stressProc][]int, err error) {
	t.Helper()
	w := s.want
	if w.what == "pass" {
		if err != nil {
			t.Errorf("plan failed, want it to pass:\n%v", err)
		}
		return
	}
	var pe *proctest.PlanError
	if !errors.As(err, &pe) {
		t.Errorf("Execute = %v, want a PlanError: %v", err, w)
		return
	}
	var errs []error
	for _, e := range pe.Errors {
		errs = append(errs, stressLeaves(e)...)
	}
	name := procs[w.p].Name()
	bad := func(format string, args ...any) {
		t.Helper()
		t.Errorf("want %v (%s), got: %s\n%v", w, name, fmt.Sprintf(format, args...), err)
	}
	if w.what == "still-running" {
		var left []proctest.Leftover
		for _, e := range errs {
			sr, ok := e.(*proctest.StillRunningError)
			if !ok {
				bad("a %T", e)
				return
			}
			left = append(left, sr.Procs...)
		}
		if w.kids {
			var pids []int
			for _, l := range left {
				if !l.Descendant || l.Name != name {
					bad("leftovers %+v", left)
					return
				}
				pids = append(pids, l.Pid)
			}
			slices.Sort(pids)
			want := slices.Sorted(slices.Values(kids[w.p]))
			if !slices.Equal(pids, want) {
				bad("leftover pids %v, want %v", pids, want)
			}
			return
		}
		if len(left) != 1 || left[0].Descendant || left[0].Name != name ||
			left[0].Pid != procs[w.p].Pid() || left[0].Stopped != w.stopped && !stressSlowToEnd(w.p, left[0]) {
			bad("leftovers %+v", left)
		}
		return
	}
	if len(errs) != 1 {
		bad("%d failures", len(errs))
		return
	}
	switch e := errs[0].(type) {
	case *proctest.ExitCodeError:
		if w.what != "exit-code" || e.Proc != name || e.Got != w.got || e.Want != w.want {
			bad("%+v", e)
		}
	case *proctest.UnexpectedExitError:
		if w.what != "unexpected" || e.Proc != name || e.Status != w.got {
			bad("%+v", e)
		}
	case *proctest.TimeoutError:
		if w.what != "timeout" || e.Proc != name || e.Timeout != w.timeout || e.Deadline ||
			!strings.HasPrefix(e.Awaited, w.awaited) {
			bad("%+v", e)
		}
	default:
		bad("a %T", e)
	}
}

// stressSlowToEnd reports whether l is a program that ends on SIGTERM but was
// killed because it did not end in its grace: rare, but a loaded machine
// may delay it that long.
func stressSlowToEnd(p *stressProc, l proctest.Leftover) bool {
	return (p.kind == "graceful" || p.kind == "hang") && l.Stopped == "SIGKILL after "+stressGrace.String()
}

// stressLeaves returns the failures in err, looking into joined errors.
func stressLeaves(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, stressLeaves(e)...)
		}
		return out
	}
	return []error{err}
}

// stressMarked returns the live processes whose environment has mark.
func stressMarked(mark string) []int {
	ents, _ := os.ReadDir("/proc")
	var pids []int
	for _, ent := range ents {
		pid, err := strconv.Atoi(ent.Name())
		if err == nil && pid != os.Getpid() && stressHasMark(pid, mark) && alive(pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// stressHasMark reports whether the environment of pid holds the plan's mark.
func stressHasMark(pid int, mark string) bool {
	env, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/environ")
	if err != nil {
		return false
	}
	want := []byte(stressMark + "=" + mark)
	for _, kv := range bytes.Split(env, []byte{0}) {
		if bytes.Equal(kv, want) {
			return true
		}
	}
	return false
}

// stressCmdline returns the command line of pid.
func stressCmdline(pid int) string {
	b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	return strings.TrimSpace(string(bytes.ReplaceAll(b, []byte{0}, []byte{' '})))
}
