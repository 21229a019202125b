package proctest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Execute checks the whole plan, then runs its steps in order, then stops
// whatever still runs and checks that nothing was left behind. It returns
// nil if every step went as expected, or a *[PlanError] with the failure
// report. An invalid plan starts nothing.
//
// ctx bounds the whole plan: when it is done, the plan stops its processes
// and fails. A plan is executed once.
func (p *Plan) Execute(ctx context.Context) error {
	if p.executed {
		return &PlanError{Plan: p.name, Errors: []error{errors.New("proctest: plan executed twice")},
			report: fmt.Sprintf("proctest: plan %s: executed twice", p.name)}
	}
	p.executed = true
	if errs := p.validate(); len(errs) > 0 {
		return newPlanError(p, errs, nil, nil, nil)
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	e := &executor{plan: p, cfg: &p.cfg, ctx: ctx, id: newPlanID()}
	unregister := watchInterrupts(e, cancel)
	err := e.run()
	if sig, last := unregister(); sig != nil {
		if err == nil {
			err = interruptedError(p, sig)
		}
		// The program is about to end: say what happened now.
		fmt.Fprintf(os.Stderr, "%v\n", err)
		if last {
			raise(sig.(syscall.Signal))
		}
	}
	return err
}

// planSeq numbers the plans of this program.
var planSeq atomic.Int64

// newPlanID returns an ID unique to a new plan on this machine: "PID.N".
func newPlanID() string {
	return fmt.Sprintf("%d.%d", os.Getpid(), planSeq.Add(1))
}

// exitEvent reports that a process of the plan ended.
type exitEvent struct {
	proc   *Proc
	status Status
	err    error // the backend could not tell how it ended
	at     time.Duration
}

// executor runs one plan. Its methods run on the goroutine that called
// Execute; the goroutines it starts only report exits on the exits
// channel.
type executor struct {
	plan    *Plan
	cfg     *config
	ctx     context.Context
	id      string  // unique on this machine
	session Session // the backend opened for the plan
	dir     string  // the plan's log directory, as first made
	logs    *planLogs
	mem     *memWatch // watches the memory the logs take, if they are in memory
	moveOut bool      // the logs are in /dev/shm, to be moved to disk if kept
	start   time.Time
	exits   chan exitEvent
	wg      sync.WaitGroup // the goroutines waiting for programs
	events  []Event
	step    int // index of the running step
	// the network between hosts: its state, the faults in force in
	// words, and since when
	net      NetState
	netWords []string
	netSince time.Duration
	// streams are the watched outputs, whose copies may fail.
	streams []*watchedStream
	// stdins are the copies of readers to the processes' stdin.
	stdins []*stdinCopy
	// live holds the processes that have not ended, for a second
	// interrupt to kill.
	live liveTasks
}

// run runs the plan, as described at Execute.
func (e *executor) run() error {
	notes, err := e.openLogs()
	if err != nil {
		return newPlanError(e.plan, []error{err}, nil, nil, nil)
	}
	dir := e.logs.path
	e.dir = dir
	e.start = time.Now()
	e.emit(Event{Kind: EventPlanStart, Detail: "logs in " + dir})
	session, err := e.cfg.backend.Open(e.ctx, PlanInfo{Name: e.plan.name, ID: e.id, LogDir: dir,
		Report: func(msg string, warning bool) {
			kind := EventInfo
			if warning {
				kind = EventWarning
			}
			notes = append(notes, Event{Kind: kind, Detail: msg})
		}})
	if err != nil {
		e.dropLogs()
		return newPlanError(e.plan, []error{fmt.Errorf("proctest: backend: %w", err)}, nil, nil, nil)
	}
	for _, ev := range notes {
		e.emit(ev)
	}
	e.session = session
	e.plan.session = session
	if err = e.plan.allocatePorts(session); err == nil {
		for _, v := range e.plan.ports {
			e.setVar(v.name, v.Value())
		}
		err = e.startHosts()
	}
	if err != nil {
		e.session.Close()
		e.dropLogs()
		return newPlanError(e.plan, []error{err}, nil, nil, nil)
	}
	starts := len(e.plan.procs)
	for _, s := range e.plan.steps {
		if s.kind == stepRestart {
			starts++
		}
	}
	e.exits = make(chan exitEvent, starts)

	var errs []error
	for i, s := range e.plan.steps {
		e.step = i
		e.emit(Event{Kind: EventStep, Step: i + 1, StepName: s.name, Where: s.where})
		if err := e.runStep(s); err != nil {
			errs = append(errs, err)
			e.emit(Event{Kind: EventFail, Step: i + 1, StepName: s.name, Detail: err.Error()})
			break
		}
		if !s.awaitsExits() {
			// Exits that came during a step that waits for no exit must
			// be awaited by the steps up to the next one that does.
			if err := e.drain(i + 1); err != nil {
				errs = append(errs, err)
				break
			}
		}
	}
	errs = append(errs, e.finish(len(errs) > 0)...)
	failed := len(errs) > 0
	e.endLogs(failed)
	if !failed && e.cfg.keepLogs {
		// A passing plan whose logs are kept says where.
		e.emit(Event{Kind: EventPlanEnd, Detail: keptNote(e.logs.path)})
		e.writeTimeline(false)
		e.logs.close()
		return nil
	}
	e.emit(Event{Kind: EventPlanEnd})

	if !failed {
		e.logs.remove()
		return nil
	}
	defer e.logs.close()
	e.plan.reportNotes = e.notes()
	pe := newPlanError(e.plan, errs, e.logs, e.events, e.plan.procs)
	if err := e.writeTimeline(true); err == nil {
		pe.report += "\ntimeline page: " + filepath.Join(e.logs.path, "timeline.html")
	}
	return pe
}

// writeTimeline writes the timeline page of the plan into its log
// directory.
func (e *executor) writeTimeline(failed bool) error {
	return e.logs.createNew("timeline.html", func(f *os.File) error {
		return WriteTimeline(f, Timeline{Plan: e.plan.name, Events: e.events, Failed: failed, LogDir: e.logs.path, LinkBase: "."})
	})
}

// emit records ev in the timeline and passes it to the OnEvent function.
func (e *executor) emit(ev Event) {
	ev.Time = time.Now()
	ev.Elapsed = ev.Time.Sub(e.start)
	ev.Plan = e.plan.name
	e.events = append(e.events, ev)
	for _, fn := range e.cfg.onEvent {
		fn(ev)
	}
}

// runStep runs one step.
func (e *executor) runStep(s *Step) error {
	if err := e.ctx.Err(); err != nil {
		return e.interrupted(s, err)
	}
	if s.dyn {
		rs, err := e.resolve(s)
		if err != nil {
			return err
		}
		s = rs
	}
	return s.run(e, s)
}

// interrupted turns the end of the plan's context into an error, saying
// why it ended.
func (e *executor) interrupted(s *Step, err error) error {
	return &interruptError{where: s.where, step: s.name, why: interruptReason(e.ctx, err), err: err}
}

// startProc starts p, a program or a Go step, with its log files: for a
// restart, appended to, after a marker line.
func (e *executor) startProc(s *Step, p *Proc) error {
	restart := p.starts > 0
	if restart {
		// Let the copy of the last run's output end first.
		p.waitStreams()
	}
	// What a start that fails has opened is closed in one place, fail.
	var opened []*os.File
	var release func()
	fail := func(err error) error {
		closeAll(opened)
		if release != nil {
			release()
		}
		p.running = false
		p.streams = [2]*watchedStream{}
		return &StartError{Proc: p.name, Step: s.name, Where: s.where, Err: err}
	}
	var logs [2]*os.File
	for i, name := range streamNames {
		f, err := openLog(e.logs, p.name, name, restart)
		if err != nil {
			return fail(err)
		}
		logs[i] = f
		opened = append(opened, f)
		if restart {
			f.WriteString(restartMarker(p.starts, time.Since(e.start).Seconds()))
		}
	}
	run := p.runIndex(s)
	restarts := p.starts
	p.starts++
	p.awaited = false
	p.exited = make(chan struct{})
	p.status = Status{}
	p.killedBy = "" // how an earlier run ended says nothing of this one
	p.running = true
	if p.isGo() {
		e.startGo(p, logs[0], logs[1])
		e.emit(Event{Kind: EventSpawn, Proc: p.name, Detail: "Go function"})
		return nil
	}
	// A watched stream goes through a pipe, copied to the log file.
	child := logs
	var readers [2]*os.File
	p.streams = [2]*watchedStream{}
	for i := range streamNames {
		if run < 0 || len(p.runs[run][i]) == 0 {
			continue
		}
		r, w, err := os.Pipe()
		if err != nil {
			return fail(err)
		}
		readers[i], child[i] = r, w
		opened = append(opened, r, w)
		p.streams[i] = &watchedStream{waits: p.runs[run][i], eof: make(chan struct{}), log: logs[i].Name(), r: r}
		e.streams = append(e.streams, p.streams[i])
	}
	dir := p.Dir
	if dir == "" {
		dir = e.plan.Dir
	}
	if p.path == "" {
		// Not there when the plan was checked: look again now.
		path, err := e.session.LookPath(p.args[0])
		if err != nil {
			return fail(&CommandNotFoundError{Command: p.args[0], Where: p.where, Err: err})
		}
		p.path = path
	}
	// A script's stdin file is opened now, so that a missing one is
	// named.
	if in, lazy := p.Stdin.(interface {
		open() error
		release()
	}); lazy {
		if err := in.open(); err != nil {
			return fail(err)
		}
		release = in.release
	}
	// A reader other than a file is copied to the process through a
	// pipe, by a copy the plan owns.
	stdin, sc, err := pipeStdin(p.Stdin)
	if err != nil {
		return fail(err)
	}
	env := append(e.plan.expandAll(e.plan.Env), e.plan.expandAll(p.Env)...)
	args, dir := e.plan.expandAll(p.args), e.plan.expand(dir)
	start := e.session.Start
	if p.host != nil {
		start = p.host.handle.Start
	}
	h, err := start(&Command{
		Name: p.name, Pausable: p.pausable, Path: p.path, Args: args, Env: env, Dir: dir,
		Stdin: stdin, Stdout: child[0], Stderr: child[1], Setup: p.Setup,
	})
	if sc != nil {
		e.stdins = append(e.stdins, sc.start(err == nil))
	}
	if err != nil {
		return fail(err)
	}
	// The program has its own copies of the descriptors it writes to.
	for i := range child {
		child[i].Close()
	}
	for i, ws := range p.streams {
		if ws != nil {
			e.wg.Add(1)
			go func() {
				defer e.wg.Done()
				ws.copyOutput(readers[i], logs[i])
			}()
		}
	}
	p.handle = h
	e.live.add(h)
	p.pid.Store(int64(h.Pid()))
	detail := ""
	if restart {
		detail = fmt.Sprintf("restart %d", restarts)
	}
	e.emit(Event{Kind: EventSpawn, Proc: p.name, Pid: h.Pid(), Host: p.hostName(), Detail: detail,
		Args: args, Dir: dir, Env: env})
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		st, err := h.Wait()
		e.exits <- exitEvent{proc: p, status: st, err: err, at: time.Since(e.start)}
	}()
	return nil
}

// closeAll closes the files that are not nil.
func closeAll(fs []*os.File) {
	for _, f := range fs {
		if f != nil {
			f.Close()
		}
	}
}

// goLogs is the context key of a Go step's log files.
type goLogs struct{}

// Stdout returns the stdout log file of the Go step whose context is ctx,
// or os.Stdout outside a Go step.
func Stdout(ctx context.Context) *os.File {
	if f, ok := ctx.Value(goLogs{}).([2]*os.File); ok {
		return f[0]
	}
	return os.Stdout
}

// Stderr returns the stderr log file of the Go step whose context is ctx,
// or os.Stderr outside a Go step.
func Stderr(ctx context.Context) *os.File {
	if f, ok := ctx.Value(goLogs{}).([2]*os.File); ok {
		return f[1]
	}
	return os.Stderr
}

// startGo runs a Go step's function in a goroutine that reports its end
// like a process's.
func (e *executor) startGo(p *Proc, stdout, stderr *os.File) {
	ctx, cancel := context.WithCancel(context.WithValue(e.ctx, goLogs{}, [2]*os.File{stdout, stderr}))
	p.cancel = cancel
	p.goMu.Lock()
	p.goKill = 0
	p.goMu.Unlock()
	// The goroutine is joined through its exit event, not e.wg: a
	// function that ignores its context cannot be waited for. Its end
	// is reported from a deferred call, which runs even when the
	// function ends the goroutine with runtime.Goexit.
	go func() {
		var st Status
		defer func() {
			cancel()
			stdout.Close()
			stderr.Close()
			p.goMu.Lock()
			if p.goKill != 0 {
				st = Status{Signal: p.goKill}
			}
			p.goMu.Unlock()
			e.exits <- exitEvent{proc: p, status: st, at: time.Since(e.start)}
		}()
		runGoFunc(ctx, p.fn, stderr, &st)
	}()
}

// signal sends sig to p; for a Go step, it cancels its context.
func (e *executor) signal(p *Proc, sig syscall.Signal) {
	if p.isGo() {
		p.goMu.Lock()
		if p.goKill == 0 {
			p.goKill = sig
		}
		p.goMu.Unlock()
		p.cancel()
		e.emit(Event{Kind: EventSignal, Proc: p.name, Detail: "context canceled (" + signalName(sig) + ")"})
		return
	}
	err := p.handle.Signal(sig)
	detail := signalName(sig)
	if err != nil {
		detail += " not delivered: " + err.Error()
	}
	e.emit(Event{Kind: EventSignal, Proc: p.name, Pid: p.Pid(), Detail: detail})
	if p.paused && err == nil && sig != syscall.SIGSTOP && sig != syscall.SIGCONT && sig != syscall.SIGKILL {
		// A paused process would not act on the signal until resumed.
		e.pause(p, false)
	}
}

// pause pauses p (with its descendants) or resumes it.
func (e *executor) pause(p *Proc, on bool) {
	var err error
	detail := "resumed"
	if on {
		err, detail = p.handle.Pause(), "paused"
	} else {
		err = p.handle.Resume()
	}
	if err != nil {
		detail += " (failed: " + err.Error() + ")"
	} else {
		p.paused = on
	}
	e.emit(Event{Kind: EventSignal, Proc: p.name, Pid: p.Pid(), Detail: detail})
}

// noteExit records the end of a process.
func (e *executor) noteExit(ev exitEvent) {
	p := ev.proc
	p.running = false
	p.paused = false
	if p.handle != nil {
		e.live.remove(p.handle)
	}
	p.handle = nil // a small record of an ended process is all a plan keeps
	p.status = ev.status
	p.endedAt = ev.at
	close(p.exited)
	detail := ""
	if ev.err != nil {
		detail = "cannot tell how it ended: " + ev.err.Error()
	}
	e.emit(Event{Kind: EventExit, Proc: p.name, Pid: p.Pid(), Status: &ev.status, Detail: detail})
}

// expected reports whether an end of p is awaited by the steps from index
// from up to the next step that awaits exits, inclusive.
func (e *executor) expected(p *Proc, from int) bool {
	for _, s := range e.plan.steps[from:] {
		if s.awaits(p) {
			return true
		}
		if s.awaitsExits() {
			return false
		}
	}
	return false
}

// unexpected returns the error for an exit nobody awaits.
func (e *executor) unexpected(ev exitEvent) error {
	awaiting := "its end"
	if e.step < len(e.plan.steps) {
		s := e.plan.steps[e.step]
		awaiting = fmt.Sprintf("step %d, %s (%s)", e.step+1, s.name, s.where)
	}
	return &UnexpectedExitError{Proc: ev.proc.name, Pid: ev.proc.Pid(), Status: ev.status, At: ev.at, Awaiting: awaiting}
}

// drain handles the exits that have arrived, without blocking. Each must be
// expected by the steps from index from on.
func (e *executor) drain(from int) error {
	for {
		select {
		case ev := <-e.exits:
			e.noteExit(ev)
			if !e.expected(ev.proc, from) {
				return e.unexpected(ev)
			}
		default:
			return nil
		}
	}
}

// timer returns a timer for step s and whether it ends at the plan's
// deadline rather than after the step's own timeout.
func (e *executor) timer(s *Step) (t *time.Timer, d time.Duration, atDeadline bool) {
	d = s.timeout
	if d == 0 {
		d = e.plan.timeout
	}
	if dl, ok := e.ctx.Deadline(); ok && time.Until(dl) < d {
		d = max(time.Until(dl), 0)
		atDeadline = true
	}
	return time.NewTimer(d), d, atDeadline
}

// wait waits for the ends a wait or kill step expects, failing at the
// first wrong one, at the first exit of another process, or at the
// timeout.
func (e *executor) wait(s *Step) error {
	defer func() {
		for _, x := range s.exits {
			x.proc.awaited = true
		}
	}()
	left := make(map[*Proc]Status, len(s.exits))
	for _, x := range s.exits {
		if x.proc.running {
			left[x.proc] = x.want
		} else if x.proc.status != x.want {
			return e.exitCodeError(s, x.proc, x.want)
		}
	}
	if len(left) == 0 {
		return nil
	}
	t, d, atDeadline := e.timer(s)
	defer t.Stop()
	for len(left) > 0 {
		select {
		case ev := <-e.exits:
			e.noteExit(ev)
			want, ok := left[ev.proc]
			if !ok {
				return e.unexpected(ev)
			}
			delete(left, ev.proc)
			if ev.status != want {
				return e.exitCodeError(s, ev.proc, want)
			}
		case <-t.C:
			return e.waitTimeout(s, left, d, atDeadline)
		case <-e.ctx.Done():
			if errors.Is(e.ctx.Err(), context.DeadlineExceeded) {
				return e.waitTimeout(s, left, d, true)
			}
			return e.interrupted(s, e.ctx.Err())
		}
	}
	return nil
}

// waitTimeout returns the errors of a wait step s whose time ran out with
// the processes in left still running; they will be killed at once.
func (e *executor) waitTimeout(s *Step, left map[*Proc]Status, d time.Duration, atDeadline bool) error {
	var errs []error
	for p, want := range left {
		p.killedBy = "the timeout"
		errs = append(errs, &TimeoutError{Proc: p.name, Pid: p.Pid(), Step: s.name, Where: s.where,
			Awaited: want.String(), Timeout: d, Deadline: atDeadline})
	}
	return errors.Join(errs...)
}

// exitCodeError returns the error for p ending otherwise than want.
func (e *executor) exitCodeError(s *Step, p *Proc, want Status) error {
	return &ExitCodeError{Proc: p.name, Pid: p.Pid(), Step: s.name, Where: s.where, Want: want, Got: p.status}
}

// sleep lets time pass.
func (e *executor) sleep(s *Step) error {
	t := time.NewTimer(s.sleep)
	defer t.Stop()
	for {
		select {
		case ev := <-e.exits:
			e.noteExit(ev)
			if !e.expected(ev.proc, e.step+1) {
				return e.unexpected(ev)
			}
		case <-t.C:
			return nil
		case <-e.ctx.Done():
			return e.interrupted(s, e.ctx.Err())
		}
	}
}

// finish ends the plan: it checks the exits that came last, stops what
// still runs, kills what the processes left behind, and waits for every
// goroutine it started. When the plan already failed, what it finds is
// recorded in the timeline but not added as errors.
func (e *executor) finish(failed bool) []error {
	var errs []error
	e.step = len(e.plan.steps)
	for {
		select {
		case ev := <-e.exits:
			e.noteExit(ev)
			if !failed && !e.expected(ev.proc, e.step) {
				errs = append(errs, e.unexpected(ev))
			}
			continue
		default:
		}
		break
	}
	for _, h := range e.plan.hosts {
		if err := e.resumeHost(h); err != nil {
			e.emit(Event{Kind: EventWarning, Host: h.name, Detail: "cannot resume: " + err.Error()})
		}
	}
	if left := e.stopAll(); len(left) > 0 && !failed && len(errs) == 0 {
		errs = append(errs, &StillRunningError{Procs: left})
	}
	leftovers, err := e.session.Close()
	if err != nil {
		errs = append(errs, fmt.Errorf("proctest: backend: %w", err))
	}
	for _, l := range leftovers {
		e.emit(Event{Kind: EventStop, Proc: l.Name, Pid: l.Pid, Detail: "left behind: " + l.Command + "; killed"})
	}
	if len(leftovers) > 0 && !failed && !e.cfg.allowDaemons {
		errs = append(errs, &StillRunningError{Procs: leftovers})
	}
	errs = append(errs, e.joinCopies()...)
	return append(errs, e.logErrors()...)
}

// logErrors returns the errors of writing the logs: a watched output that
// could not be copied, or a full file system, on which the processes'
// own writes to their logs failed.
func (e *executor) logErrors() []error {
	var errs []error
	for _, ws := range e.streams {
		if ws.ended() && ws.err != nil {
			errs = append(errs, fmt.Errorf("proctest: log %s: %w: output was lost", ws.log, ws.err))
		}
	}
	if fsFull(e.logs.root) {
		errs = append(errs, fmt.Errorf("proctest: logs: the file system of %s is full (%v): output of the plan's processes may be lost", e.dir, syscall.ENOSPC))
	}
	return errs
}

// interruptGrace is the grace period between SIGTERM and SIGKILL for a plan
// that is interrupted or reached its deadline.
const interruptGrace = 300 * time.Millisecond

// stopAll stops every process still running: SIGTERM (after SIGCONT for a
// paused one), then SIGKILL after the grace period; processes a timeout
// gave up on get the plan's timeout signal instead of SIGTERM. It returns
// them.
func (e *executor) stopAll() []Leftover {
	var running []*Proc
	for _, p := range e.plan.procs {
		if p.running {
			running = append(running, p)
		}
	}
	if len(running) == 0 {
		return nil
	}
	for _, p := range running {
		if p.paused {
			e.pause(p, false)
		}
		// A process a wait gave up on follows the same ladder, from the
		// plan's timeout signal.
		sig := syscall.SIGTERM
		if p.killedBy != "" {
			sig = e.plan.stopSignal()
		}
		p.killedBy = signalName(sig)
		e.signal(p, sig)
	}
	stopGrace := e.stopGrace()
	grace := time.NewTimer(stopGrace)
	defer grace.Stop()
	stillRunning := len(running)
	escalated := false
	for stillRunning > 0 {
		select {
		case ev := <-e.exits:
			e.noteExit(ev)
			stillRunning--
		case <-grace.C:
			if escalated {
				// Go steps that ignore their context get here, and
				// programs whose end the backend never reports.
				for _, p := range running {
					if !p.running {
						continue
					}
					if p.isGo() {
						p.killedBy = "nothing: the Go function did not return"
						e.emit(Event{Kind: EventWarning, Proc: p.name, Detail: "Go function did not return after its context was canceled; it is left running"})
					} else {
						p.killedBy = fmt.Sprintf("nothing seen: its end was not reported %v after SIGKILL", stopGrace)
						e.emit(Event{Kind: EventWarning, Proc: p.name, Pid: p.Pid(),
							Detail: fmt.Sprintf("its end was not reported %v after SIGKILL; the plan stops waiting for it", stopGrace)})
					}
					stillRunning--
				}
				break
			}
			escalated = true
			for _, p := range running {
				if p.running {
					p.killedBy = fmt.Sprintf("SIGKILL after %v", stopGrace)
					e.signal(p, syscall.SIGKILL)
				}
			}
			grace.Reset(stopGrace)
		}
	}
	var left []Leftover
	for _, p := range running {
		st := p.status
		e.emit(Event{Kind: EventStop, Proc: p.name, Pid: p.Pid(), Status: &st, Detail: "stopped by " + p.killedBy})
		left = append(left, Leftover{Name: p.name, Pid: p.Pid(), Command: commandLine(p), Stopped: p.killedBy})
	}
	return left
}

// stopGrace returns the stop ladder's grace: how long a process has
// between SIGTERM and SIGKILL, and how long the end of a plan waits for
// anything.
func (e *executor) stopGrace() time.Duration {
	if e.ctx.Err() != nil {
		// Interrupted, or at the test's deadline: no time to lose.
		return min(e.cfg.stopGrace, interruptGrace)
	}
	return e.cfg.stopGrace
}

// commandLine returns p's command line, or "Go function" for a Go step.
func commandLine(p *Proc) string {
	if p.isGo() {
		return "Go function"
	}
	return strings.Join(p.args, " ")
}

// notes returns what a failure report says of the plan beyond its
// failures: the network between its hosts, the seed of its randomness.
func (e *executor) notes() []string {
	var notes []string
	if e.plan.netSteps {
		notes = append(notes, fmt.Sprintf("network: %s, since +%.3fs", e.netText(), e.netSince.Seconds()))
	}
	if e.plan.rand != nil {
		notes = append(notes, fmt.Sprintf("seed: %d (PROCTEST_SEED=%d replays it)", e.plan.seed, e.plan.seed))
	}
	return notes
}
