package proctest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"regexp"
	"regexp/syntax"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Readiness waits. A readiness wait is a step that blocks until something
// is true: a line of output matched, a port accepts connections, an HTTP
// endpoint answers, a file exists, a check passes. Each has its own timeout
// (the plan's by default, or [Step.Timeout]), fails at once if the process
// it concerns ends meanwhile, and says what it saw last when it fails.
//
// Output waits are driven by the output itself: the process writes into a
// pipe that the plan copies to its log file, matching each line as it
// passes, so the step ends as the line is written. The other waits poll,
// with a backoff from 50µs doubling up to 1ms, so that readiness is
// noticed within about a millisecond.

const (
	pollStart = 50 * time.Microsecond
	pollMax   = time.Millisecond
)

// readiness is what a readiness step waits for.
type readiness struct {
	what  string                          // as in "port 127.0.0.1:{{port}}"
	check func(ctx context.Context) error // for polled waits; nil for output waits
	out   *outWait                        // for output waits
}

// The output streams a process has.
const (
	streamStdout = 0
	streamStderr = 1
)

var streamNames = [2]string{"stdout", "stderr"}

// outWait is an output wait's state, shared by the step and the goroutine
// copying the process's output.
type outWait struct {
	stream int
	re     *regexp.Regexp
	nth    int    // the match to wait for, from 1
	lit    []byte // text every match contains, to skip output fast; or nil

	// Set by the copying goroutine; done is closed at the nth match.
	mu     sync.Mutex
	count  int
	groups []string
	done   chan struct{}
}

// WaitStdout adds a step that waits until a line of proc's stdout matches
// the regular expression pattern. The named groups of the pattern, as in
// `listening on (?P<addr>\S+)`, set variables of that name for later steps
// (see [Var]). [Step.Nth] waits for a later match. Lines count from the
// process's start, so a line printed before the step runs counts.
func (p *Plan) WaitStdout(proc *Proc, pattern string) *Step {
	return p.waitOutput(proc, streamStdout, pattern)
}

// WaitStderr is like [Plan.WaitStdout], for stderr.
func (p *Plan) WaitStderr(proc *Proc, pattern string) *Step {
	return p.waitOutput(proc, streamStderr, pattern)
}

func (p *Plan) waitOutput(proc *Proc, stream int, pattern string) *Step {
	s := p.readyStep(proc, "wait-"+streamNames[stream], fmt.Sprintf("%s to match %q", streamNames[stream], pattern))
	re, err := regexp.Compile(pattern)
	if err != nil {
		p.errs = append(p.errs, &BuildError{Where: s.where, Step: s.name, Err: fmt.Errorf("bad pattern: %v", err)})
		re = regexp.MustCompile(`\A\z`)
	}
	s.ready.out = &outWait{stream: stream, re: re, nth: 1, done: make(chan struct{}), lit: requiredLiteral(re)}
	if proc != nil && proc.isGo() {
		p.errs = append(p.errs, &BuildError{Where: s.where, Step: s.name,
			Err: fmt.Errorf("%s is a Go step: its output cannot be watched", proc.name)})
	}
	p.captures(s, re)
	return s
}

// Nth makes an output wait wait for the nth matching line, counting from 1.
func (s *Step) Nth(n int) *Step {
	if s.ready == nil || s.ready.out == nil {
		s.plan.misuse(s.name, "Nth applies to output waits only")
	} else if n < 1 {
		s.plan.misuse(s.name, "Nth must be at least 1, got %d", n)
	} else {
		s.ready.out.nth = n
	}
	return s
}

// WaitPort adds a step that waits until addr ("host:port", which may refer
// to variables) accepts TCP connections. proc, if not nil, is the process
// expected to listen: if it ends first, the step fails.
func (p *Plan) WaitPort(proc *Proc, addr string) *Step {
	s := p.readyStep(proc, "wait-port", "port "+addr)
	p.checkRefs(s.where, s.name, addr)
	s.ready.check = func(ctx context.Context) error {
		c, err := p.session.DialContext(ctx, "tcp", p.expand(addr))
		if err != nil {
			return err
		}
		return c.Close()
	}
	return s
}

// WaitHTTP adds a step that waits until a GET of url (which may refer to
// variables) answers with status. proc is as for [Plan.WaitPort].
func (p *Plan) WaitHTTP(proc *Proc, url string, status int) *Step {
	s := p.readyStep(proc, "wait-http", fmt.Sprintf("GET %s to answer %d", url, status))
	p.checkRefs(s.where, s.name, url)
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return p.session.DialContext(ctx, network, addr)
		}}}
	s.ready.check = func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, "GET", p.expand(url), nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != status {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	}
	return s
}

// WaitFile adds a step that waits until path (which may refer to
// variables) exists. proc is as for [Plan.WaitPort].
func (p *Plan) WaitFile(proc *Proc, path string) *Step {
	s := p.readyStep(proc, "wait-file", "file "+path)
	p.checkRefs(s.where, s.name, path)
	s.ready.check = func(ctx context.Context) error {
		_, err := p.session.Stat(p.expand(path))
		return err
	}
	return s
}

// WaitFunc adds a step that calls check until it returns nil, with the
// same backoff as the other polled waits. name says what it checks, for
// reports. proc is as for [Plan.WaitPort].
func (p *Plan) WaitFunc(proc *Proc, name string, check func(ctx context.Context) error) *Step {
	s := p.readyStep(proc, "wait-func", name)
	if check == nil {
		p.errs = append(p.errs, &BuildError{Where: s.where, Step: s.name, Err: errors.New("nil check function")})
	}
	s.ready.check = check
	return s
}

// WaitFuncPar is like [Plan.WaitFunc], for a check about several
// processes, or none (procs nil): the step fails at once if any of procs
// ends first, and when it fails the report shows the output of each.
func (p *Plan) WaitFuncPar(procs []*Proc, name string, check func(ctx context.Context) error) *Step {
	s := p.readyStep(nil, "wait-func", name)
	seen := map[*Proc]bool{}
	for _, proc := range procs {
		p.noStandIn(s, proc)
		if p.checkProc(s, proc) && proc.ref == nil && !seen[proc] {
			seen[proc] = true
			s.procs = append(s.procs, proc)
			s.name += " " + proc.name
		}
	}
	if check == nil {
		p.errs = append(p.errs, &BuildError{Where: s.where, Step: s.name, Err: errors.New("nil check function")})
	}
	s.ready.check = check
	return s
}

// readyStep adds a readiness step about proc (which may be nil).
func (p *Plan) readyStep(proc *Proc, verb, what string) *Step {
	s := &Step{plan: p, kind: stepReady, where: p.caller(), ready: &readiness{what: what}, check: checkReady,
		run: func(e *executor, s *Step) error { return e.ready(s) }}
	s.name = verb
	if proc != nil {
		s.name += " " + proc.name
		p.noStandIn(s, proc)
		if p.checkProc(s, proc) && proc.ref == nil {
			s.procs = []*Proc{proc}
		}
	}
	p.steps = append(p.steps, s)
	return s
}

// checkReady checks a readiness step: its processes must still be
// running, and a wait for output is about the run each is in.
func checkReady(w *walk, s *Step, bad func(string, ...any)) {
	out := s.ready.out
	for _, proc := range s.procs {
		if w.alive(proc, bad) && out != nil && len(proc.runs) > 0 {
			run := &proc.runs[len(proc.runs)-1]
			run[out.stream] = append(run[out.stream], out)
		}
	}
}

// requiredLiteral returns text that every match of re contains, or nil if
// there is none to be had simply: the longest plain literal among the
// parts of a pattern that is a sequence.
func requiredLiteral(re *regexp.Regexp) []byte {
	prog, err := syntax.Parse(re.String(), syntax.Perl)
	if err != nil {
		return nil
	}
	var best []rune
	var walk func(r *syntax.Regexp)
	walk = func(r *syntax.Regexp) {
		switch r.Op {
		case syntax.OpLiteral:
			if r.Flags&syntax.FoldCase == 0 && len(r.Rune) > len(best) {
				best = r.Rune
			}
		case syntax.OpCapture:
			walk(r.Sub[0])
		case syntax.OpConcat:
			for _, sub := range r.Sub {
				walk(sub)
			}
		}
	}
	walk(prog.Simplify())
	if len(best) == 0 {
		return nil
	}
	return []byte(string(best))
}

// skippable reports whether none of the pending waits can match a line
// that ends in chunk, where carry is the start of the first line: true
// only when every wait has a required literal that appears nowhere.
func skippable(waits []*outWait, carry, chunk []byte) bool {
	for _, w := range waits {
		if w.met() {
			continue
		}
		if w.lit == nil || bytes.Contains(chunk, w.lit) || bytes.Contains(carry, w.lit) {
			return false
		}
		// The literal may straddle carry and chunk.
		n := len(w.lit) - 1
		edge := append(append([]byte(nil), carry[max(len(carry)-n, 0):]...), chunk[:min(n, len(chunk))]...)
		if bytes.Contains(edge, w.lit) {
			return false
		}
	}
	return true
}

// scan matches the complete lines of chunk against the pending waits.
// carry holds the start of a line the previous chunk did not finish; the
// new carry is returned. A line longer than maxLine is matched by its
// first maxLine bytes.
func scan(waits []*outWait, carry, chunk []byte) []byte {
	if skippable(waits, carry, chunk) {
		// No line here can match: keep only the start of the last one.
		if i := bytes.LastIndexByte(chunk, '\n'); i >= 0 {
			carry, chunk = carry[:0], chunk[i+1:]
		}
		if len(carry) < maxLine {
			carry = append(carry, chunk[:min(len(chunk), maxLine-len(carry))]...)
		}
		return carry
	}
	for len(chunk) > 0 {
		i := bytes.IndexByte(chunk, '\n')
		if i < 0 {
			if len(carry) < maxLine {
				carry = append(carry, chunk[:min(len(chunk), maxLine-len(carry))]...)
			}
			return carry
		}
		line := chunk[:i]
		if len(carry) > 0 {
			if len(carry) < maxLine {
				carry = append(carry, line[:min(len(line), maxLine-len(carry))]...)
			}
			line = carry
		}
		for _, w := range waits {
			w.match(line)
		}
		carry = carry[:0]
		chunk = chunk[i+1:]
	}
	return carry
}

// maxLine bounds the length of a line an output wait looks at.
const maxLine = 64 << 10

// match counts line if it matches, and at the nth match records the
// submatches and closes done.
func (w *outWait) match(line []byte) {
	if w.met() {
		return
	}
	m := w.re.FindSubmatch(line)
	if m == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.count++
	if w.count == w.nth {
		w.groups = make([]string, len(m))
		for i, g := range m {
			w.groups[i] = string(g)
		}
		close(w.done)
	}
}

// met reports whether the wait is over.
func (w *outWait) met() bool {
	select {
	case <-w.done:
		return true
	default:
		return false
	}
}

// watchedStream is one output stream of one run of a process that output
// waits watch: the pipe the process writes to, copied to the log file.
type watchedStream struct {
	waits []*outWait
	eof   chan struct{} // closed when the copy is over
	err   error         // the first error writing the log, set before eof
	log   string        // the log file's path
	r     *os.File      // the pipe's read end, which stop closes
	cut   atomic.Bool   // set by stop: the errors that follow are its doing
}

// ended reports whether the copy is over.
func (ws *watchedStream) ended() bool {
	select {
	case <-ws.eof:
		return true
	default:
		return false
	}
}

// stop cuts the copy short, by closing the pipe it reads.
func (ws *watchedStream) stop() {
	ws.cut.Store(true)
	ws.r.Close()
}

// copyOutput copies r to the log file f, matching lines against the waits
// until they are all met, then copies the rest as fast as the system can.
// It never blocks on the plan, so a chatty process is never slowed by it.
func (ws *watchedStream) copyOutput(r, f *os.File) {
	defer close(ws.eof)
	defer r.Close()
	defer f.Close()
	buf := make([]byte, 64<<10)
	var carry []byte
	for {
		pending := false
		for _, w := range ws.waits {
			if !w.met() {
				pending = true
			}
		}
		if !pending {
			break
		}
		n, err := r.Read(buf)
		if n > 0 {
			if _, werr := f.Write(buf[:n]); werr != nil && ws.err == nil {
				ws.err = werr
			}
			carry = scan(ws.waits, carry, buf[:n])
		}
		if err != nil {
			if len(carry) > 0 {
				scan(ws.waits, carry, []byte{'\n'})
			}
			return
		}
	}
	if ws.err != nil {
		_, _ = drain(r)
		return
	}
	if _, err := f.ReadFrom(r); err != nil && !ws.cut.Load() {
		ws.err = err
		drain(r)
	}
}

// drain reads r to its end, so that the process writing to it is not
// blocked when its log cannot be written.
func drain(r *os.File) (int64, error) {
	buf := make([]byte, 64<<10)
	var n int64
	for {
		m, err := r.Read(buf)
		n += int64(m)
		if err != nil {
			return n, err
		}
	}
}

// streamDrainWait bounds how long the plan waits for the rest of an ended
// process's output: a descendant may hold the pipe open.
const streamDrainWait = time.Second

// waitStreams waits until the watched output of p's current run has been
// copied to its logs, or a while if a descendant keeps it open.
func (p *Proc) waitStreams() {
	var t *time.Timer
	for _, ws := range p.streams {
		if ws == nil {
			continue
		}
		if t == nil {
			t = time.NewTimer(streamDrainWait)
			defer t.Stop()
		}
		select {
		case <-ws.eof:
		case <-t.C:
			return
		}
	}
}

// ready runs a readiness step: it waits for the readiness, handling exits
// meanwhile, until the step's timeout.
func (e *executor) ready(s *Step) error {
	var proc *Proc
	if len(s.procs) > 0 {
		proc = s.procs[0]
	}
	r := s.ready
	what := e.plan.expand(r.what)
	t, d, atDeadline := e.timer(s)
	defer t.Stop()

	var met <-chan struct{}
	var polled chan error
	var last lastError
	if r.out != nil {
		met = r.out.done
	} else {
		ctx, cancel := context.WithCancel(e.ctx)
		polled = make(chan error, 1)
		go func() { polled <- poll(ctx, r.check, &last) }()
		defer func() {
			cancel()
			if polled != nil {
				<-polled
			}
		}()
	}
	for _, p := range s.procs {
		if !p.running {
			// It ended just before the step, its end awaited by a later
			// one: it may have become ready first.
			return e.readyAfterEnd(s, p, what)
		}
	}
	for {
		select {
		case <-met:
			return e.isReady(s, proc)
		case err := <-polled:
			polled = nil
			if err != nil {
				return e.interrupted(s, err)
			}
			return e.isReady(s, proc)
		case ev := <-e.exits:
			e.noteExit(ev)
			mine := slices.Contains(s.procs, ev.proc)
			if mine {
				// Ready first, then ended? Only then is the end
				// judged like any other.
				if err := e.readyAfterEnd(s, ev.proc, what); err != nil {
					return err
				}
			}
			if !e.expected(ev.proc, e.step+1) {
				return e.unexpected(ev)
			}
			if mine {
				return nil
			}
		case <-e.ctx.Done():
			if !errors.Is(e.ctx.Err(), context.DeadlineExceeded) {
				return e.interrupted(s, e.ctx.Err())
			}
			return e.explainTimeout(s, readyTimeout(s, proc, what, d, true, last.get()))
		case <-t.C:
			return e.explainTimeout(s, readyTimeout(s, proc, what, d, atDeadline, last.get()))
		}
	}
}

// readyTimeout returns the error of a readiness step s that timed out,
// with the last error of its check if any. Its process will be killed.
func readyTimeout(s *Step, proc *Proc, what string, d time.Duration, atDeadline bool, last string) error {
	te := &TimeoutError{Step: s.name, Where: s.where, Awaited: what, Timeout: d, Deadline: atDeadline}
	if proc != nil {
		te.Proc, te.Pid = proc.name, proc.Pid()
		proc.killedBy = "the timeout"
	}
	if last != "" {
		te.Awaited += " (last error: " + last + ")"
	}
	return te
}

// readyAfterEnd decides a readiness step whose process has ended: ready if
// its output matched (once the rest of it is read) or its check passes
// now, and otherwise a failure with the end as the reason.
func (e *executor) readyAfterEnd(s *Step, proc *Proc, what string) error {
	r := s.ready
	proc.waitStreams()
	if r.out != nil && r.out.met() || r.check != nil && r.check(e.ctx) == nil {
		return e.isReady(s, proc)
	}
	return &UnexpectedExitError{Proc: proc.name, Pid: proc.Pid(), Status: proc.status, At: proc.endedAt,
		Awaiting: e.stepLabel() + ": " + what + ", which it never was"}
}

// isReady records that the readiness of step s is met: the variables its
// pattern captured, and the event.
func (e *executor) isReady(s *Step, proc *Proc) error {
	ev := Event{Kind: EventReady, Step: e.step + 1, StepName: s.name, Detail: e.plan.expand(s.ready.what)}
	if proc != nil {
		ev.Proc, ev.Pid = proc.name, proc.Pid()
	}
	if out := s.ready.out; out != nil {
		out.mu.Lock()
		groups := out.groups
		out.mu.Unlock()
		for i, name := range out.re.SubexpNames() {
			if name != "" && i < len(groups) {
				e.setVar(name, groups[i])
			}
		}
		if len(groups) > 0 {
			ev.Detail += ": " + groups[0]
		}
	}
	e.emit(ev)
	return nil
}

// stepLabel names the running step, as in "step 3, wait server (x_test.go:12)".
func (e *executor) stepLabel() string {
	s := e.plan.steps[e.step]
	return fmt.Sprintf("step %d, %s (%s)", e.step+1, s.name, s.where)
}

// poll calls check until it returns nil, with a capped exponential
// backoff, recording its last error. It returns nil when check succeeded,
// or the context's error.
func poll(ctx context.Context, check func(context.Context) error, last *lastError) error {
	delay := pollStart
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
		err := check(ctx)
		if err == nil {
			return nil
		}
		last.set(err.Error())
		t.Reset(delay)
		delay = min(delay*2, pollMax)
	}
}

// lastError holds the last error of a polled check, for reports.
type lastError struct {
	mu  sync.Mutex
	msg string
}

func (l *lastError) set(s string) {
	l.mu.Lock()
	l.msg = s
	l.mu.Unlock()
}

func (l *lastError) get() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.msg
}
