package proctest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"
)

// Commands run to their end by one step: [Plan.Exec] runs one once and
// checks how it ended, [Plan.Retry] runs one again and again until it
// succeeds. Unlike a spawned process, such a command is not a process of
// the plan: its end is the step's business, so no wait is written for it.
// Its output goes to the log files NAME.stdout and NAME.stderr (a retry's
// attempts one after the other, each after a marker line), each run is a
// spawn and an exit event of the timeline, and a failure report shows the
// command line, how it ended and what it printed.

// DefaultInterval is how long [Plan.Retry] waits between two attempts
// unless [Step.Interval] says otherwise.
const DefaultInterval = 100 * time.Millisecond

// maxCommandOutput bounds how much of an attempt's stdout and stderr a
// command step reads to match its patterns: the first MiB of each.
const maxCommandOutput = 1 << 20

// cmdSpec is the command of an Exec or Retry step.
type cmdSpec struct {
	name     string   // its name in logs and events
	args     []string // as given: args[0] is the command
	path     string   // resolved when the plan is checked
	env      []string
	dir      string
	want     Status
	out      [2]*regexp.Regexp // what stdout and stderr must match; nil: anything
	retry    bool
	interval time.Duration
}

// Exec adds a step that runs command with args to its end and checks how
// it ended: by default, exit 0. [Step.Exits] or [Step.Dies] expect another
// end, [Step.Stdout] and [Step.Stderr] output that matches a pattern
// (whose named groups set variables, as for [Plan.WaitStdout]). It is
// what a client call that must succeed needs, in one step rather than a
// spawn, a wait and an output check. The command is named after its base
// name, made unique in the plan, or as [Step.Named] says; [Step.Env] and
// [Step.Dir] add to its environment and set its directory. Its
// arguments, Env and Dir may refer to variables. The step's timeout
// bounds it: past it the command is stopped (SIGTERM, then SIGKILL after
// the grace of [StopGrace]) and the step fails.
func (p *Plan) Exec(command string, args ...string) *Step {
	return p.commandStep("exec", false, append([]string{command}, args...))
}

// Retry adds a step that runs command with args until it succeeds: until
// it exits 0 and, when [Step.Stdout] or [Step.Stderr] give patterns, its
// output matches them (their named groups then set variables). Between
// two attempts it waits [DefaultInterval], or as [Step.Interval] says;
// the step's timeout bounds all the attempts. It is the shell's "until
// CMD; do sleep 0.1; done", with each attempt in the events and the
// timeline, and a failure report that shows the last attempt's command
// line, exit and output:
//
//	p.Retry("kv", "get", "-addr", "{{replica}}", "color").Stdout(`^blue$`)
//
// Settings are as for [Plan.Exec].
func (p *Plan) Retry(command string, args ...string) *Step {
	s := p.commandStep("retry", true, append([]string{command}, args...))
	s.cmd.interval = DefaultInterval
	return s
}

// commandStep adds an Exec or Retry step.
func (p *Plan) commandStep(verb string, retry bool, argv []string) *Step {
	s := &Step{plan: p, kind: stepCommand, where: p.caller(), cmd: &cmdSpec{args: argv, retry: retry}}
	c := s.cmd
	if argv[0] == "" {
		c.name = p.names.unique("proc")
		s.name = verb + " " + c.name
		p.errs = append(p.errs, &BuildError{Where: s.where, Step: verb, Err: errors.New("empty command")})
	} else {
		c.name = p.names.unique(safeName(filepath.Base(argv[0])))
		s.name = verb + " " + c.name
		p.checkRefs(s.where, s.name, argv...)
		for _, a := range argv {
			if strings.IndexByte(a, 0) >= 0 {
				p.errs = append(p.errs, &BuildError{Where: s.where, Step: s.name,
					Err: fmt.Errorf("argument %q contains a NUL byte", a)})
			}
		}
	}
	s.check = checkCommand
	s.run = func(e *executor, s *Step) error { return e.runCommand(s) }
	p.steps = append(p.steps, s)
	return s
}

// checkCommand looks the command of an Exec or Retry step up, as the
// programs of spawned processes are.
func checkCommand(w *walk, s *Step, bad func(string, ...any)) {
	c := s.cmd
	if c.args[0] == "" {
		return
	}
	path, err := s.plan.cfg.backend.LookPath(c.args[0])
	if err != nil && strings.Contains(c.args[0], "/") && errors.Is(err, fs.ErrNotExist) {
		// A program the plan itself builds: looked up when it runs.
		path, err = "", nil
	}
	if err != nil {
		*w.errs = append(*w.errs, &CommandNotFoundError{Command: c.args[0], Where: s.where, Err: err})
	}
	c.path = path
}

// cmdOf returns the command of s, or records a misuse of the setting
// what on another kind of step and returns nil.
func (s *Step) cmdOf(what string) *cmdSpec {
	if s.cmd == nil {
		s.plan.misuse(s.name, "%s applies to Exec and Retry steps only", what)
	}
	return s.cmd
}

// Named names the command of an Exec or Retry step name, in reports and
// for its logs name.stdout and name.stderr, instead of after the command.
// The name must be unused in the plan.
func (s *Step) Named(name string) *Step {
	c := s.cmdOf("Named")
	if c == nil {
		return s
	}
	p := s.plan
	delete(p.names.used, c.name)
	verb, _, _ := strings.Cut(s.name, " ")
	switch {
	case len(name) > maxNameLen:
		p.misuse(s.name, "name %q is too long: at most %d bytes", name, maxNameLen)
	case safeName(name) != name:
		p.misuse(s.name, "name %q is not a plain file name (letters, digits, '.', '_', '+', '-')", name)
	case p.names.used[name]:
		p.misuse(s.name, "name %q is already used in the plan", name)
	default:
		c.name = name
		s.name = verb + " " + name
	}
	p.names.used[c.name] = true
	return s
}

// Env adds environment variables ("KEY=value", which may refer to plan
// variables) to the command of an Exec or Retry step, after the plan's
// [Plan.Env]; later entries win.
func (s *Step) Env(kv ...string) *Step {
	if c := s.cmdOf("Env"); c != nil {
		s.plan.checkRefs(s.where, s.name, kv...)
		for _, e := range kv {
			if k, _, ok := strings.Cut(e, "="); !ok || k == "" || strings.IndexByte(e, 0) >= 0 {
				s.plan.misuse(s.name, "environment entry %q is not KEY=value", e)
			}
		}
		c.env = append(c.env, kv...)
	}
	return s
}

// Dir sets the working directory of the command of an Exec or Retry step
// (which may refer to plan variables). By default it is the plan's
// [Plan.Dir].
func (s *Step) Dir(dir string) *Step {
	if c := s.cmdOf("Dir"); c != nil {
		s.plan.checkRefs(s.where, s.name, dir)
		c.dir = dir
	}
	return s
}

// Exits makes an Exec step expect its command to exit with code, instead
// of 0. (A Retry step always waits for exit 0.)
func (s *Step) Exits(code int) *Step {
	if c := s.cmdOf("Exits"); c != nil {
		s.setWant(c, Status{Code: code})
	}
	return s
}

// Dies makes an Exec step expect its command to be ended by sig.
func (s *Step) Dies(sig syscall.Signal) *Step {
	if c := s.cmdOf("Dies"); c != nil {
		s.setWant(c, Status{Signal: sig})
	}
	return s
}

func (s *Step) setWant(c *cmdSpec, st Status) {
	if c.retry {
		s.plan.misuse(s.name, "a retry succeeds on exit 0 only")
		return
	}
	s.plan.checkStatus(s, st)
	c.want = st
}

// Stdout makes an Exec or Retry step also expect the command's stdout to
// match the regular expression pattern, in multi-line mode as
// [Plan.ExpectStdout]. The named groups of the pattern's first match set
// variables for later steps, as those of [Plan.WaitStdout] do.
func (s *Step) Stdout(pattern string) *Step { return s.expectOut(streamStdout, pattern) }

// Stderr is like [Step.Stdout], for stderr.
func (s *Step) Stderr(pattern string) *Step { return s.expectOut(streamStderr, pattern) }

func (s *Step) expectOut(stream int, pattern string) *Step {
	c := s.cmdOf(map[int]string{streamStdout: "Stdout", streamStderr: "Stderr"}[stream])
	if c == nil {
		return s
	}
	re, err := regexp.Compile("(?m)" + pattern)
	if err != nil {
		s.plan.misuse(s.name, "bad pattern: %v", err)
		return s
	}
	c.out[stream] = re
	s.plan.captures(s, re)
	return s
}

// Interval sets how long a Retry step waits between two attempts.
func (s *Step) Interval(d time.Duration) *Step {
	c := s.cmdOf("Interval")
	switch {
	case c == nil:
	case !c.retry:
		s.plan.misuse(s.name, "Interval applies to Retry steps only")
	case d <= 0:
		s.plan.misuse(s.name, "interval must be positive, got %v", d)
	default:
		c.interval = d
	}
	return s
}

// wantText says what a command step expects, as in "exit 0, stdout
// matching `^ok`".
func (c *cmdSpec) wantText() string {
	want := c.want.String()
	for i, re := range c.out {
		if re != nil {
			want += fmt.Sprintf(", %s matching %q", streamNames[i], strings.TrimPrefix(re.String(), "(?m)"))
		}
	}
	return want
}

// attempt is one run of a command step's command.
type attempt struct {
	n        int
	pid      int
	line     string // the command line, expanded
	dir      string
	status   Status
	ended    bool   // it ended by itself, not by the signals of the step's end
	cut      bool   // the step's time ran out while it ran
	deadline bool   // the plan's deadline, not the step's timeout, came
	stopped  string // how it was stopped, when the time ran out
	out      [2][]byte
	outError error // reading the output failed
}

// runCommand runs an Exec or Retry step.
func (e *executor) runCommand(s *Step) error {
	c := s.cmd
	t, d, atDeadline := e.timer(s)
	defer t.Stop()
	var last *attempt
	for n := 1; ; n++ {
		a, err := e.runAttempt(s, n, t.C)
		if err != nil {
			return err
		}
		last = a
		why := ""
		if a.ended {
			if why = c.judge(a); why == "" {
				e.captureCommand(s, a)
				return nil
			}
		}
		switch {
		case a.cut:
			return e.commandError(s, a, why, d, atDeadline || a.deadline)
		case !c.retry:
			return e.commandError(s, a, why, 0, false)
		}
		// Wait for the next attempt, handling exits meanwhile.
		iv := time.NewTimer(c.interval)
		for waiting := true; waiting; {
			select {
			case <-iv.C:
				waiting = false
			case ev := <-e.exits:
				e.noteExit(ev)
				if !e.expected(ev.proc, e.step+1) {
					iv.Stop()
					return e.unexpected(ev)
				}
			case <-t.C:
				iv.Stop()
				return e.commandError(s, last, why, d, atDeadline)
			case <-e.ctx.Done():
				iv.Stop()
				if errors.Is(e.ctx.Err(), context.DeadlineExceeded) {
					return e.commandError(s, last, why, d, true)
				}
				return e.interrupted(s, e.ctx.Err())
			}
		}
	}
}

// judge returns why attempt a does not succeed, or "" if it does.
func (c *cmdSpec) judge(a *attempt) string {
	if a.status != c.want {
		return fmt.Sprintf("want %s, got %s", c.want, a.status)
	}
	for i, re := range c.out {
		if re != nil && !re.Match(a.out[i]) {
			if a.outError != nil {
				return fmt.Sprintf("cannot read %s: %v", streamNames[i], a.outError)
			}
			return fmt.Sprintf("%s does not match %q", streamNames[i], strings.TrimPrefix(re.String(), "(?m)"))
		}
	}
	return ""
}

// captureCommand sets the variables the patterns of a successful command
// step capture, and records its success.
func (e *executor) captureCommand(s *Step, a *attempt) {
	c := s.cmd
	var got []string
	for i, re := range c.out {
		if re == nil {
			continue
		}
		m := re.FindSubmatch(a.out[i])
		for j, name := range re.SubexpNames() {
			if name != "" && j < len(m) {
				e.setVar(name, string(m[j]))
				got = append(got, name+"="+string(m[j]))
			}
		}
	}
	if c.retry {
		detail := fmt.Sprintf("%s at attempt %d", c.wantText(), a.n)
		if len(got) > 0 {
			detail += ": " + strings.Join(got, " ")
		}
		e.emit(Event{Kind: EventReady, Step: e.step + 1, StepName: s.name, Proc: c.name, Pid: a.pid, Detail: detail})
	}
}

// runAttempt runs the command of s once, to its end or until the step's
// timeout fires (then it is stopped, and the attempt returned with ended
// false). It fails at an unexpected exit of a process of the plan, an
// interruption, or a command that cannot start.
func (e *executor) runAttempt(s *Step, n int, timeout <-chan time.Time) (*attempt, error) {
	c := s.cmd
	p := e.plan
	a := &attempt{n: n}
	var logs [2]*os.File
	var offs [2]int64
	for i, stream := range streamNames {
		f, err := os.OpenFile(filepath.Join(e.dir, c.name+"."+stream), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
		if err != nil {
			closeAll(logs[:])
			return nil, &StartError{Proc: c.name, Step: s.name, Where: s.where, Err: err}
		}
		logs[i] = f
		if n > 1 {
			fmt.Fprintf(f, "--- proctest: attempt %d at +%.3fs ---\n", n, time.Since(e.start).Seconds())
		}
		if st, err := f.Stat(); err == nil {
			offs[i] = st.Size()
		}
	}
	path := c.path
	if path == "" {
		var err error
		if path, err = e.session.LookPath(c.args[0]); err != nil {
			closeAll(logs[:])
			return nil, &StartError{Proc: c.name, Step: s.name, Where: s.where,
				Err: &CommandNotFoundError{Command: c.args[0], Where: s.where, Err: err}}
		}
		c.path = path
	}
	dir := c.dir
	if dir == "" {
		dir = p.Dir
	}
	args := p.expandAll(c.args)
	a.dir = p.expand(dir)
	a.line = strings.Join(args, " ")
	env := append(p.expandAll(p.Env), p.expandAll(c.env)...)
	h, err := e.session.Start(&Command{Name: c.name, Path: path, Args: args, Env: env, Dir: a.dir,
		Stdout: logs[0], Stderr: logs[1]})
	closeAll(logs[:])
	if err != nil {
		return nil, &StartError{Proc: c.name, Step: s.name, Where: s.where, Err: err}
	}
	a.pid = h.Pid()
	detail := ""
	if c.retry {
		detail = fmt.Sprintf("attempt %d", n)
	}
	e.emit(Event{Kind: EventSpawn, Proc: c.name, Pid: a.pid, Detail: detail,
		Args: args, Dir: a.dir, Env: env})
	done := make(chan Status, 1)
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		st, _ := h.Wait()
		done <- st
	}()
	var fail error
	short := min(e.cfg.stopGrace, interruptGrace)
	for !a.ended && a.stopped == "" && fail == nil {
		select {
		case a.status = <-done:
			a.ended = true
		case <-timeout:
			a.cut = true
			a.status, a.stopped = e.stopTask(h, c.name, a.pid, e.cfg.stopGrace, done)
		case ev := <-e.exits:
			// A process of the plan may end while the command runs only
			// if a later step awaits it.
			e.noteExit(ev)
			if !e.expected(ev.proc, e.step+1) {
				fail = e.unexpected(ev)
			}
		case <-e.ctx.Done():
			if errors.Is(e.ctx.Err(), context.DeadlineExceeded) {
				a.cut, a.deadline = true, true
				a.status, a.stopped = e.stopTask(h, c.name, a.pid, short, done)
			} else {
				fail = e.interrupted(s, e.ctx.Err())
			}
		}
	}
	if fail != nil && !a.ended {
		e.stopTask(h, c.name, a.pid, short, done)
	}
	if a.cut && a.status.Signal != e.plan.stopSignal() && a.status.Signal != syscall.SIGKILL {
		a.ended = true // it ended by itself as it was being stopped
	}
	for i, stream := range streamNames {
		b, err := readFrom(filepath.Join(e.dir, c.name+"."+stream), offs[i], maxCommandOutput)
		a.out[i] = b
		if err != nil && a.outError == nil {
			a.outError = err
		}
	}
	st := a.status
	detail = ""
	switch {
	case !a.ended:
		detail = "stopped by " + a.stopped + " at the timeout"
	case c.judge(a) != "":
		detail = c.judge(a)
	}
	if c.retry {
		detail = strings.TrimSuffix(fmt.Sprintf("attempt %d: %s", n, detail), ": ")
	}
	e.emit(Event{Kind: EventExit, Proc: c.name, Pid: a.pid, Status: &st, Detail: detail})
	if fail != nil {
		return nil, fail
	}
	return a, nil
}

// stopTask stops a command that is still running: SIGTERM (or the plan's
// timeout signal), then SIGKILL after grace. done delivers its end. It
// returns how it ended and what stopped it.
func (e *executor) stopTask(h Task, name string, pid int, grace time.Duration, done <-chan Status) (Status, string) {
	first := e.plan.stopSignal()
	err := h.Signal(first)
	e.emit(Event{Kind: EventSignal, Proc: name, Pid: pid, Detail: signalName(first) + sendError(err)})
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case st := <-done:
		return st, signalName(first)
	case <-t.C:
	}
	err = h.Signal(syscall.SIGKILL)
	e.emit(Event{Kind: EventSignal, Proc: name, Pid: pid, Detail: "SIGKILL" + sendError(err)})
	return <-done, fmt.Sprintf("SIGKILL after %v", grace)
}

// sendError says that a signal was not delivered, or nothing.
func sendError(err error) string {
	if err == nil {
		return ""
	}
	return " not delivered: " + err.Error()
}

// readFrom reads the file at path from offset off, at most max bytes.
func readFrom(path string, off int64, max int) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(io.NewSectionReader(f, off, 1<<62), int64(max)))
	return b, err
}

// commandError returns the failure of a command step whose last attempt
// was a: why it failed, or, with d not 0, that the step's time ran out.
func (e *executor) commandError(s *Step, a *attempt, why string, d time.Duration, atDeadline bool) error {
	c := s.cmd
	ce := &CommandError{Name: c.name, Step: s.name, Where: s.where, Command: a.line, Dir: a.dir,
		Attempts: a.n, Want: c.wantText(), Got: a.status, Ended: a.ended, Stopped: a.stopped, Reason: why,
		Stdout: string(a.out[0]), Stderr: string(a.out[1]), Timeout: d, Deadline: atDeadline}
	if c.retry || d != 0 {
		ce.Related = e.runningProcs()
	}
	return ce
}

// runningProcs returns the names of the plan's processes running now.
func (e *executor) runningProcs() []string {
	var names []string
	for _, p := range e.plan.procs {
		if p.running {
			names = append(names, p.name)
		}
	}
	return names
}

// A CommandError reports the command of a [Plan.Exec] or [Plan.Retry]
// step that did not end as expected: with another status, with output
// that does not match, or, for a step whose time ran out, still running
// or still failing then. Its text shows the command line, how the last
// attempt ended and the end of what it printed.
type CommandError struct {
	// Name is the command's name in the plan: its logs are Name.stdout
	// and Name.stderr.
	Name string
	// Step and Where name the step.
	Step, Where string
	// Command is the last attempt's command line, with variables
	// expanded, and Dir its working directory ("" for the current one).
	Command, Dir string
	// Attempts is how many times the command ran: 1 for Exec.
	Attempts int
	// Want says what was expected, as in `exit 0, stdout matching "^ok$"`.
	Want string
	// Got is how the last attempt ended. When Ended is false, it was
	// still running when the step's time ran out, and Stopped says what
	// stopped it, as in "SIGTERM".
	Got     Status
	Ended   bool
	Stopped string
	// Reason says why the last attempt failed, as in "want exit 0, got
	// exit 1"; empty when it was still running.
	Reason string
	// Stdout and Stderr are the last attempt's output (at most its first
	// MiB of each).
	Stdout, Stderr string
	// Timeout is how long the step waited when its time ran out, or 0
	// when it failed otherwise. Deadline is true when the test's deadline
	// cut it short.
	Timeout  time.Duration
	Deadline bool
	// Related names the plan's processes running when a Retry step (or
	// an Exec step that ran out of time) failed: the report shows their
	// output too, since the command was likely waiting for one of them.
	Related []string
}

// Error says what failed, then the command, its end and its output.
func (e *CommandError) Error() string {
	var b strings.Builder
	b.WriteString(prefix(e.Where, e.Step))
	switch {
	case e.Timeout != 0:
		why := "timed out"
		if e.Deadline {
			why = "the test's deadline came"
		}
		fmt.Fprintf(&b, "%s after %v waiting for %s", why, e.Timeout.Round(time.Millisecond), e.Want)
	default:
		b.WriteString(e.Reason)
	}
	if e.Attempts > 1 {
		fmt.Fprintf(&b, "; %d attempts, the last:", e.Attempts)
	}
	b.WriteString("\n\tcommand: " + e.Command)
	if e.Dir != "" {
		b.WriteString("\n\tin " + e.Dir)
	}
	if e.Ended {
		fmt.Fprintf(&b, "\n\tended with %s", e.Got)
		if e.Timeout != 0 && e.Reason != "" {
			b.WriteString(": " + e.Reason)
		}
	} else {
		fmt.Fprintf(&b, "\n\tstill running at the timeout; stopped by %s (%s)", e.Stopped, e.Got)
	}
	for _, o := range []struct{ name, text string }{{"stdout", e.Stdout}, {"stderr", e.Stderr}} {
		writeText(&b, o.name, o.text)
	}
	return b.String()
}

// Unwrap returns a *[TimeoutError] for a step whose time ran out, so that
// errors.As finds it, or nil.
func (e *CommandError) Unwrap() error {
	if e.Timeout == 0 {
		return nil
	}
	return &TimeoutError{Step: e.Step, Where: e.Where, Awaited: e.Want, Timeout: e.Timeout, Deadline: e.Deadline}
}

// relatedProcs returns the processes whose logs the report shows.
func (e *CommandError) relatedProcs() []string { return e.Related }

// writeText writes the last lines of a command's output to b, indented.
func writeText(b *strings.Builder, name, text string) {
	text = strings.TrimSuffix(text, "\n")
	if text == "" {
		fmt.Fprintf(b, "\n\t%s: empty", name)
		return
	}
	lines := strings.Split(text, "\n")
	what := "all of it"
	if len(lines) > tailLines {
		lines = lines[len(lines)-tailLines:]
		what = fmt.Sprintf("last %d lines", tailLines)
	}
	fmt.Fprintf(b, "\n\t%s, %s:", name, what)
	for _, l := range lines {
		fmt.Fprintf(b, "\n\t\t| %s", l)
	}
}
