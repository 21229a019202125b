package proctest

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"
)

// DefaultTimeout is how long a wait step waits unless the plan or the step
// says otherwise.
const DefaultTimeout = 20 * time.Second

// A Plan is a list of steps over processes: spawn these, wait for that one
// to exit 0, kill this one. Building a plan runs nothing; [Plan.Execute]
// (or [Run]) checks the whole plan, then runs it.
//
// While a plan runs, every process exit must be one a step is waiting for:
// any other exit fails the plan at once. At its end, whatever still runs
// is stopped and reported, and nothing the plan started is left behind.
//
// A Plan is built by one goroutine and executed once.
type Plan struct {
	// Env holds environment variables ("KEY=value") added for every
	// process, after the environment of the running program. With Env
	// nil processes inherit that environment unchanged.
	Env []string
	// Dir is the working directory of processes that set none. With Dir
	// empty they run in the current directory.
	Dir string

	name     string
	cfg      config
	timeout  time.Duration
	steps    []*Step
	procs    []*Proc
	names    names
	errs     []error
	executed bool
	vars     map[string]*Var // by name
	defined  map[string]bool // variables set by the steps built so far
	ports    []*Var          // variables FreePort allocates
	hosts    []*Host
	netSteps bool // whether a step changes the network
	// reportNotes are lines the failure report adds, set when it fails
	reportNotes []string
	rand        *rand.Rand
	seed        uint64
	seeded      bool
	at          string          // set by At: the file:line of the steps built
	helpers     map[string]bool // functions marked by Helper, by name
	// timeoutSig is what a process a wait gave up on gets first: 0 for
	// SIGTERM (see SetTimeoutSignal).
	timeoutSig syscall.Signal
	// session is the backend opened for the plan while it runs, for the
	// readiness checks.
	session Session
}

// New returns an empty plan named name. The name appears in reports and in
// the name of the plan's log directory.
func New(name string, opts ...Option) *Plan {
	p := &Plan{name: name, cfg: defaultConfig(), timeout: DefaultTimeout}
	for _, o := range opts {
		o.apply(&p.cfg)
	}
	return p
}

// Procs returns the plan's processes, in the order they were added.
func (p *Plan) Procs() []*Proc { return append([]*Proc(nil), p.procs...) }

// Name returns the plan's name.
func (p *Plan) Name() string { return p.name }

// SetTimeout sets how long each wait of the plan waits, unless the step
// sets its own with [Step.Timeout]. The default is [DefaultTimeout].
func (p *Plan) SetTimeout(d time.Duration) {
	if d <= 0 {
		p.misuse("set timeout", "timeout must be positive, got %v", d)
		return
	}
	p.timeout = d
}

// stepKind says what kind a step is. What a step checks and does is in
// its check and run functions; the kind is for the code that treats
// kinds alike: which steps await exits, and how a step that names a
// process through a variable is checked and resolved (procvar.go).
type stepKind int

const (
	stepSpawn   stepKind = iota // start programs
	stepGo                      // start a Go function
	stepWait                    // wait for ends
	stepKill                    // send a signal, then wait for the end
	stepSignal                  // send a signal
	stepSleep                   // let time pass
	stepReady                   // wait for readiness
	stepRestart                 // start ended programs again
	stepExpect                  // check the output of an ended process
	stepHost                    // act on a host
	stepCommand                 // run a command to its end (Exec, Retry)
	stepFile                    // write a file
)

// A Step is one operation of a plan. The methods that add a step return
// it, so that its settings can follow, as in
//
//	p.Wait(server, 0).Timeout(5 * time.Second)
type Step struct {
	plan    *Plan
	kind    stepKind
	name    string // as in "wait server"
	where   string // file:line of the test code
	procs   []*Proc
	exits   []Exit
	sig     syscall.Signal
	timeout time.Duration // 0: the plan's
	sleep   time.Duration
	pause   int          // for signal steps: 1 pauses, -1 resumes
	ready   *readiness   // for readiness steps
	expect  *expectation // for output checks
	host    *Host        // for host steps
	needs   Feature      // what the step needs of the backend, beyond hosts
	cmd     *cmdSpec     // for Exec and Retry steps
	// dyn is set for a step checked again when it runs: it names a
	// process through a variable, or one that such a step may have
	// ended or restarted. orig is, for the copy of a step made when it
	// runs, with its processes resolved, the step of the plan.
	dyn  bool
	orig *Step

	// Each step carries its code, set by the method that adds it: check,
	// if not nil, checks it in order with the others before the plan
	// runs (in validate), and run runs it (in runStep). A step that
	// names a process through a variable, or one such a step made
	// uncertain, is checked by walk.dynamic instead of check, and runs
	// with its processes resolved.
	check func(w *walk, s *Step, bad func(format string, args ...any))
	run   func(e *executor, s *Step) error
}

// Timeout sets how long this step waits, instead of the plan's timeout.
func (s *Step) Timeout(d time.Duration) *Step {
	if d <= 0 {
		s.plan.errs = append(s.plan.errs, &BuildError{Where: s.plan.caller(), Step: s.name,
			Err: fmt.Errorf("timeout must be positive, got %v", d)})
		return s
	}
	s.timeout = d
	return s
}

// String names the step, as in "wait server".
func (s *Step) String() string { return s.name }

// awaitsExits reports whether the step waits for processes to end. An exit
// is expected if a step up to the next such step awaits it: so a process
// may end while another is spawned, or during a readiness wait or a sleep,
// as long as a wait for it comes before a wait for something else.
func (s *Step) awaitsExits() bool {
	return s.kind == stepWait || s.kind == stepKill
}

// awaits reports whether the step waits for p to end.
func (s *Step) awaits(p *Proc) bool {
	for _, x := range s.exits {
		if x.proc == p || x.proc != nil && x.proc.ref != nil && x.proc.ref.names(p) {
			return true
		}
	}
	return false
}

// Spawn adds a step that starts command with args, and returns the process.
// The command is looked up in PATH when the plan is executed, as os/exec
// does; its stdout and stderr go to the log files <name>.stdout and
// <name>.stderr, where name is [Proc.Name].
func (p *Plan) Spawn(command string, args ...string) *Proc {
	return p.spawn("spawn", [][]string{append([]string{command}, args...)})[0]
}

// SpawnNamed is like [Plan.Spawn], naming the process name instead of
// after the command. The name must be unused in the plan.
func (p *Plan) SpawnNamed(name, command string, args ...string) *Proc {
	proc := p.spawn("spawn", [][]string{append([]string{command}, args...)})[0]
	s := p.steps[len(p.steps)-1]
	p.rename(s, proc, name)
	s.name = "spawn " + proc.name
	return proc
}

// rename names proc, just spawned by step s, name instead of what spawn
// chose, if name is a good name and free.
func (p *Plan) rename(s *Step, proc *Proc, name string) {
	// The name spawn gave it is free again: it may be name itself.
	delete(p.names.used, proc.name)
	switch {
	case len(name) > maxNameLen:
		p.misuse(s.name, "name %q is too long: at most %d bytes", name, maxNameLen)
	case safeName(name) != name:
		p.misuse(s.name, "name %q is not a plain file name (letters, digits, '.', '_', '+', '-')", name)
	case p.names.used[name]:
		p.misuse(s.name, "name %q is already used in the plan", name)
	default:
		proc.name = name
	}
	p.names.used[proc.name] = true
}

// SpawnPar adds a step that starts several programs at once, each given
// as its command and arguments, and returns them in order.
func (p *Plan) SpawnPar(argvs ...[]string) []*Proc {
	return p.spawn("spawn-par", argvs)
}

// SpawnParNamed is like [Plan.SpawnPar], naming the processes: names[i]
// is the name of the process of argvs[i], and must be unused in the plan;
// an empty name keeps the one SpawnPar would give.
func (p *Plan) SpawnParNamed(names []string, argvs ...[]string) []*Proc {
	procs := p.spawn("spawn-par", argvs)
	s := p.steps[len(p.steps)-1]
	if len(names) != len(argvs) {
		p.misuse(s.name, "%d names for %d commands", len(names), len(argvs))
		return procs
	}
	var got []string
	for i, proc := range procs {
		if names[i] != "" {
			p.rename(s, proc, names[i])
		}
		got = append(got, proc.name)
	}
	s.name = "spawn-par " + strings.Join(got, " ")
	return procs
}

func (p *Plan) spawn(verb string, argvs [][]string) []*Proc {
	where := p.caller()
	s := &Step{plan: p, kind: stepSpawn, where: where, check: checkStart, run: runStart}
	var names []string
	for _, argv := range argvs {
		proc := &Proc{plan: p, where: where, args: argv}
		if len(argv) == 0 || argv[0] == "" {
			p.errs = append(p.errs, &BuildError{Where: where, Step: verb, Err: errors.New("empty command")})
			proc.name = p.names.unique("proc")
		} else {
			proc.name = p.names.unique(safeName(filepath.Base(argv[0])))
			p.checkRefs(where, verb+" "+proc.name, argv...)
			for _, a := range argv {
				if strings.IndexByte(a, 0) >= 0 {
					p.errs = append(p.errs, &BuildError{Where: where, Step: verb + " " + proc.name,
						Err: fmt.Errorf("argument %q contains a NUL byte", a)})
				}
			}
		}
		p.procs = append(p.procs, proc)
		s.procs = append(s.procs, proc)
		names = append(names, proc.name)
	}
	if len(argvs) == 0 {
		p.errs = append(p.errs, &BuildError{Where: where, Step: verb, Err: errors.New("no command given")})
	}
	s.name = verb + " " + strings.Join(names, " ")
	p.steps = append(p.steps, s)
	return s.procs
}

// checkStart checks a spawn or go step: a process cannot start on a host
// that is down, and each one starts a run.
func checkStart(w *walk, s *Step, bad func(string, ...any)) {
	w.checkHostsUp(s, bad)
	for _, proc := range s.procs {
		proc.addRun(s)
	}
}

// runStart starts the processes of a spawn, go or restart step.
func runStart(e *executor, s *Step) error {
	for _, p := range s.procs {
		if err := e.startProc(s, p); err != nil {
			return err
		}
	}
	return nil
}

// Go adds a step that runs fn in a goroutine as a process of the plan,
// named name. It takes part like any process: it must be waited for or
// killed. Returning nil counts as exit 0; returning an error counts as
// exit 1, with the error's text in its stderr log and the report; a panic
// counts as exit 2, with the panic and stack in its stderr log; ending
// the goroutine with runtime.Goexit, as t.Fatal, t.FailNow and testify's
// require do, counts as exit 1 at once, with where it was called in its
// stderr log (what the test said is in the test's own log). [Plan.Kill]
// cancels ctx and counts as death by the signal; fn must then return
// soon. [Stdout] and [Stderr] give fn writers to its log files.
func (p *Plan) Go(name string, fn func(ctx context.Context) error) *Proc {
	where := p.caller()
	proc := &Proc{plan: p, where: where, fn: fn, name: p.names.unique(safeName(name))}
	if fn == nil {
		p.errs = append(p.errs, &BuildError{Where: where, Step: "go " + proc.name, Err: errors.New("nil function")})
	}
	p.procs = append(p.procs, proc)
	p.steps = append(p.steps, &Step{plan: p, kind: stepGo, where: where, name: "go " + proc.name, procs: []*Proc{proc},
		check: checkStart, run: runStart})
	return proc
}

// Wait adds a step that waits for proc to exit with code.
func (p *Plan) Wait(proc *Proc, code int) *Step {
	return p.addWait("wait", p.caller(), []Exit{{proc: proc, want: Status{Code: code}}})
}

// WaitPar adds a step that waits for several processes at once, each to
// end as given, as in p.WaitPar(a.Exits(0), b.Exits(1)). One timeout
// covers them all.
func (p *Plan) WaitPar(exits ...Exit) *Step {
	return p.addWait("wait-par", p.caller(), exits)
}

// WaitExit adds a step that waits for one process to end as x says, as
// in p.WaitExit(server.Dies(syscall.SIGTERM)). [Plan.Wait] is the short
// form for an exit code.
func (p *Plan) WaitExit(x Exit) *Step {
	return p.addWait("wait", p.caller(), []Exit{x})
}

func (p *Plan) addWait(verb, where string, exits []Exit) *Step {
	s := &Step{plan: p, kind: stepWait, where: where, exits: exits, check: checkEnds,
		run: func(e *executor, s *Step) error { return e.wait(s) }}
	var names []string
	for _, x := range exits {
		if x.proc != nil {
			names = append(names, x.proc.name)
		}
	}
	s.name = strings.TrimSpace(verb + " " + strings.Join(names, " "))
	if len(exits) == 0 {
		p.errs = append(p.errs, &BuildError{Where: where, Step: s.name, Err: errors.New("no process to wait for")})
	}
	seen := map[*Proc]bool{}
	for _, x := range exits {
		p.checkStatus(s, x.want)
		if p.checkProc(s, x.proc) && seen[x.proc] {
			p.errs = append(p.errs, &BuildError{Where: where, Step: s.name,
				Err: fmt.Errorf("%s is waited for twice in one step", x.proc.name)})
		}
		seen[x.proc] = true
	}
	p.steps = append(p.steps, s)
	return s
}

// checkEnds checks a wait or kill step: the processes it waits for must
// still be running, and have ended after it.
func checkEnds(w *walk, s *Step, bad func(string, ...any)) {
	for _, x := range s.exits {
		if x.proc == nil || x.proc.plan != s.plan {
			continue // reported when the step was built
		}
		if w.alive(x.proc, bad) {
			w.ended[x.proc] = s
		}
	}
}

// checkProc records an error if proc cannot be used by step s, and reports
// whether it can.
func (p *Plan) checkProc(s *Step, proc *Proc) bool {
	switch {
	case proc == nil:
		p.errs = append(p.errs, &BuildError{Where: s.where, Step: s.name, Err: errors.New("nil process")})
		return false
	case proc.plan != p:
		p.errs = append(p.errs, &BuildError{Where: s.where, Step: s.name,
			Err: fmt.Errorf("%s belongs to plan %q, not %q", proc.name, proc.plan.name, p.name)})
		return false
	}
	return true
}

// A KillArg changes what [Plan.Kill] sends or expects: [Using] sets the
// signal, an [Exit] sets the expected end.
type KillArg interface {
	killArg()
}

// signalArg is the KillArg made by Using.
type signalArg syscall.Signal

func (signalArg) killArg() {}

// Using makes [Plan.Kill] send sig instead of SIGTERM.
func Using(sig syscall.Signal) KillArg { return signalArg(sig) }

// Kill adds a step that sends SIGTERM to proc (and its process group),
// then waits for it to end. With no further argument it expects death by
// that signal; Using(sig) sends another signal, and an Exit, such as
// proc.Exits(0) for a graceful shutdown, sets what is expected. For a Go
// step, Kill cancels its context.
func (p *Plan) Kill(proc *Proc, args ...KillArg) *Step {
	where := p.caller()
	s := &Step{plan: p, kind: stepKill, where: where, sig: syscall.SIGTERM, check: checkEnds, run: runKill}
	if proc != nil {
		s.name = "kill " + proc.name
	} else {
		s.name = "kill"
	}
	var want *Exit
	for _, a := range args {
		switch a := a.(type) {
		case signalArg:
			s.sig = syscall.Signal(a)
		case Exit:
			if a.proc == nil {
				p.errs = append(p.errs, &BuildError{Where: where, Step: s.name, Err: errors.New("nil process in the expected exit")})
				continue
			}
			if a.proc != proc {
				p.errs = append(p.errs, &BuildError{Where: where, Step: s.name,
					Err: fmt.Errorf("expected exit is for %s, not the process killed", a.proc.label())})
			}
			want = &a
		}
	}
	if want != nil {
		p.checkStatus(s, want.want)
	}
	if proc != nil && proc.plan == p {
		if want == nil {
			want = &Exit{proc: proc, want: Status{Signal: s.sig}}
		}
		s.exits = []Exit{*want}
	} else {
		p.checkProc(s, proc)
	}
	p.checkSignal(s, s.sig)
	p.steps = append(p.steps, s)
	return s
}

// runKill sends the signal of a kill step, if its process is still
// running, and waits for the end.
func runKill(e *executor, s *Step) error {
	p := s.exits[0].proc
	if p.running {
		e.signal(p, s.sig)
	}
	return e.wait(s)
}

// Signal adds a step that sends sig to proc and its process group, without
// waiting. The process must be running; a Go step cannot be signalled.
func (p *Plan) Signal(proc *Proc, sig syscall.Signal) *Step {
	s := &Step{plan: p, kind: stepSignal, where: p.caller(), sig: sig, name: "signal",
		check: checkSignalled, run: runSignal}
	if proc != nil {
		s.name = fmt.Sprintf("signal %s %s", proc.name, signalName(sig))
	}
	if p.checkProc(s, proc) {
		s.procs = []*Proc{proc}
		if proc.isGo() {
			p.errs = append(p.errs, &BuildError{Where: s.where, Step: s.name,
				Err: fmt.Errorf("%s is a Go step: it can be killed but not signalled", proc.name)})
		}
	}
	p.checkSignal(s, sig)
	p.steps = append(p.steps, s)
	return s
}

// checkSignalled checks a signal, pause or resume step: its process must
// still be running.
func checkSignalled(w *walk, s *Step, bad func(string, ...any)) {
	for _, proc := range s.procs {
		w.alive(proc, bad)
	}
}

// runSignal sends the signal of a signal step to its process, or pauses
// or resumes it, if it is still running.
func runSignal(e *executor, s *Step) error {
	p := s.procs[0]
	if p.running && s.pause != 0 {
		e.pause(p, s.pause > 0)
	} else if p.running {
		e.signal(p, s.sig)
	}
	return nil
}

// checkStatus records an error if no process can end with st.
func (p *Plan) checkStatus(s *Step, st Status) {
	if st.Signal == 0 && (st.Code < 0 || st.Code > 255) {
		p.errs = append(p.errs, &BuildError{Where: s.where, Step: s.name,
			Err: fmt.Errorf("exit code %d is not between 0 and 255", st.Code)})
	}
	if st.Signal != 0 {
		p.checkSignal(s, st.Signal)
	}
}

// checkSignal records an error if sig is not a signal one can send.
func (p *Plan) checkSignal(s *Step, sig syscall.Signal) {
	if sig <= 0 || sig > 64 {
		p.errs = append(p.errs, &BuildError{Where: s.where, Step: s.name, Err: fmt.Errorf("invalid signal %d", int(sig))})
	}
}

// Sleep adds a step that lets d pass. A process may end during it only
// if a step after it awaits that end before any other (as during a
// readiness wait): any other exit fails the plan at once. Prefer a
// readiness wait: a sleep is either too long or, on a loaded machine,
// too short.
func (p *Plan) Sleep(d time.Duration) *Step {
	s := &Step{plan: p, kind: stepSleep, where: p.caller(), sleep: d, name: fmt.Sprintf("sleep %v", d),
		run: func(e *executor, s *Step) error { return e.sleep(s) }}
	if d < 0 {
		p.errs = append(p.errs, &BuildError{Where: s.where, Step: s.name, Err: errors.New("negative duration")})
	}
	p.steps = append(p.steps, s)
	return s
}

// misuse records a build error at the caller's line.
func (p *Plan) misuse(step, format string, args ...any) {
	p.errs = append(p.errs, &BuildError{Where: p.caller(), Step: step, Err: fmt.Errorf(format, args...)})
}

// caller returns where the step being built comes from: the line of the
// script being read, or the line of the test code calling the plan.
func (p *Plan) caller() string {
	if p.at != "" {
		return p.at
	}
	return callerWhere(p.helpers)
}

// Helper marks the function calling it as a helper that builds steps, as
// testing.T.Helper does for failures: the steps built inside it (and the
// mistakes found in them) are reported at the line that called it, not
// at lines of the helper. A helper called by another marked helper is
// reported at the outer caller's line.
//
//	func addNode(p *proctest.Plan, name string) *proctest.Proc {
//		p.Helper()
//		n := p.SpawnNamed(name, "kv", "serve", "-name", name)
//		p.WaitStdout(n, "listening") // reported at the line calling addNode
//		return n
//	}
func (p *Plan) Helper() {
	pc, _, _, ok := runtime.Caller(1)
	if !ok {
		return
	}
	if p.helpers == nil {
		p.helpers = map[string]bool{}
	}
	p.helpers[runtime.FuncForPC(pc).Name()] = true
}

// callerWhere returns the file:line of the first caller outside this
// package's non-test files and outside the functions marked helpers: the
// line of the test that built a step.
func callerWhere(helpers map[string]bool) string {
	var pcs [32]uintptr
	n := runtime.Callers(2, pcs[:])
	frames := runtime.CallersFrames(pcs[:n])
	for {
		f, more := frames.Next()
		inPkg := strings.HasPrefix(f.Function, pkgPath+".") && !strings.HasSuffix(f.File, "_test.go")
		if !inPkg && !helpers[f.Function] {
			return fmt.Sprintf("%s:%d", filepath.Base(f.File), f.Line)
		}
		if !more {
			return ""
		}
	}
}

// pkgPath is this package's import path, as it appears in function names.
const pkgPath = "github.com/proctest/proctest"

// Validate checks the plan as [Plan.Execute] does before it runs anything,
// and returns what it finds as a *[PlanError], or nil. It starts nothing.
func (p *Plan) Validate() error {
	if errs := p.validate(); len(errs) > 0 {
		return newPlanError(p, errs, nil, nil, nil)
	}
	return nil
}

// validate checks the whole plan before it runs: the errors recorded while
// building it, that each program can be found, and that each step uses
// processes in an order that can work. It records the resolved paths.
func (p *Plan) validate() []error {
	errs := append([]error(nil), p.errs...)
	built := p.errs
	defer func() { p.errs = built }()
	for _, proc := range p.procs {
		proc.runs, proc.runFrom = nil, nil
	}
	paths := map[string]string{}
	for _, proc := range p.procs {
		if proc.isGo() || len(proc.args) == 0 || proc.args[0] == "" {
			continue
		}
		if proc.helper {
			path, err := helperPath()
			if err != nil {
				errs = append(errs, &CommandNotFoundError{Command: proc.args[0], Where: proc.where, Err: err})
			}
			proc.path = path
			continue
		}
		cmd := proc.args[0]
		path, ok := paths[cmd]
		if !ok {
			var err error
			path, err = p.cfg.backend.LookPath(cmd)
			if err != nil && strings.Contains(cmd, "/") && errors.Is(err, fs.ErrNotExist) {
				// A program the plan itself builds: looked up when it
				// starts.
				path, err = "", nil
			}
			if err != nil {
				errs = append(errs, &CommandNotFoundError{Command: cmd, Where: proc.where, Err: err})
				path = ""
			}
			paths[cmd] = path
		}
		proc.path = path
	}
	// Walk the steps in order, as they will run: a process must still be
	// running when a step waits for it, kills it or signals it, and must
	// have ended when it is restarted or its output checked. Each run of
	// a process gets the output waits up to its next restart.
	w := &walk{ended: map[*Proc]*Step{}, hostDown: map[*Host]*Step{}, errs: &errs,
		maybe: map[*Proc]*Step{}, restarted: map[*Proc]*Step{}}
	for _, s := range p.steps {
		bad := func(format string, args ...any) {
			errs = append(errs, &BuildError{Where: s.where, Step: s.name, Err: fmt.Errorf(format, args...)})
		}
		if s.pause > 0 {
			// A process the plan pauses is started so that its whole
			// tree can be frozen; a stand-in's candidates all are.
			for _, proc := range s.procs {
				if proc == nil {
					continue
				}
				proc.pausable = true
				if proc.ref != nil {
					for _, c := range proc.ref.among {
						c.pausable = true
					}
				}
			}
		}
		if w.dynamic(s, bad) {
			continue // checked for what is known now, the rest when it runs
		}
		if s.check != nil {
			s.check(w, s, bad)
		}
	}
	if err := p.checkHosts(); err != nil {
		errs = append(errs, err)
	}
	n := len(p.errs)
	for _, proc := range p.procs {
		p.checkRefs(proc.where, "spawn "+proc.name, proc.Env...)
		p.checkRefs(proc.where, "spawn "+proc.name, proc.Dir)
		for _, kv := range append([]string{proc.Dir}, proc.Env...) {
			if strings.IndexByte(kv, 0) >= 0 {
				p.errs = append(p.errs, &BuildError{Where: proc.where, Step: "spawn " + proc.name,
					Err: fmt.Errorf("the environment or directory %q contains a NUL byte", kv)})
			}
		}
	}
	for _, kv := range p.Env {
		if strings.IndexByte(kv, 0) >= 0 {
			p.errs = append(p.errs, &BuildError{Step: "plan", Err: fmt.Errorf("Plan.Env %q contains a NUL byte", kv)})
		}
	}
	errs = append(errs, p.errs[n:]...)
	return errs
}
