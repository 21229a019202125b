package proctest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Processes named by a variable. "Kill the leader" cannot be written with
// the process itself when which one leads is learned while the plan runs:
// [Plan.Which] makes a stand-in that the steps resolve when they run.

// procRef is what a stand-in made by Which stands for.
type procRef struct {
	v     *Var
	among []*Proc
}

// names reports whether the variable names p now.
func (r *procRef) names(p *Proc) bool {
	return r.v.Value() == p.name && slices.Contains(r.among, p)
}

// Which returns a stand-in for the process, among those given, whose name
// the variable v holds when a step using the stand-in runs: the leader
// that an election chose, as in
//
//	p.WaitStdout(watcher, `^leader is (?P<leader>\S+)$`)
//	p.Kill(p.Which(p.Var("leader"), n1, n2, n3), ...)
//
// Kill, Signal, Pause, Resume, Restart, Wait, WaitExit and WaitPar take a
// stand-in; output waits, output checks and readiness waits about a
// process do not. The plan is checked before it runs against the
// processes the stand-in may be: a kill, wait or signal needs one of them
// running at that point, a restart one ended; after a kill or a wait
// through the stand-in, any of them may have ended (and after a restart,
// be running again), so the steps that follow on them are checked when
// they run. When the step runs, a value of v that is not the name of one
// of among, or of one in a state the step allows, fails the plan with an
// error naming the variable and its value. The stand-in's name, in step
// names and reports, is "$" followed by the variable's name.
func (p *Plan) Which(v *Var, among ...*Proc) *Proc {
	where := p.caller()
	if v == nil {
		p.errs = append(p.errs, &BuildError{Where: where, Step: "which", Err: errors.New("nil variable")})
		v = &Var{name: "_"}
	}
	proc := &Proc{plan: p, where: where, name: "$" + v.name, ref: &procRef{v: v}}
	bad := func(format string, args ...any) {
		p.errs = append(p.errs, &BuildError{Where: where, Step: "which $" + v.name, Err: fmt.Errorf(format, args...)})
	}
	if !p.defined[v.name] {
		bad("no earlier step sets variable %s", v.name)
	}
	if len(among) == 0 {
		bad("no process given that $%s may name", v.name)
	}
	for _, c := range among {
		switch {
		case c == nil:
			bad("nil process")
		case c.plan != p:
			bad("%s belongs to plan %q, not %q", c.name, c.plan.name, p.name)
		case c.ref != nil:
			bad("%s is itself a stand-in", c.name)
		default:
			proc.ref.among = append(proc.ref.among, c)
		}
	}
	return proc
}

// noStandIn records an error if proc is a stand-in, which step s cannot
// use.
func (p *Plan) noStandIn(s *Step, proc *Proc) {
	if proc != nil && proc.ref != nil {
		p.errs = append(p.errs, &BuildError{Where: s.where, Step: s.name,
			Err: fmt.Errorf("%s stands for a process named by a variable: only kill, signal, pause, resume, restart and wait steps take one", proc.name)})
	}
}

// addRun records that step s starts a run of p: the output waits up to
// the next such step are about that run.
func (p *Proc) addRun(s *Step) {
	p.runs = append(p.runs, [2][]*outWait{})
	p.runFrom = append(p.runFrom, s)
}

// runIndex returns the index of the run of p that step s starts, or -1.
func (p *Proc) runIndex(s *Step) int {
	if s.orig != nil {
		s = s.orig
	}
	for i := len(p.runFrom) - 1; i >= 0; i-- {
		if p.runFrom[i] == s {
			return i
		}
	}
	return -1
}

// stepProcs returns the processes step s acts on, and whether s is a step
// that may act on a stand-in or an uncertain process.
func stepProcs(s *Step) ([]*Proc, bool) {
	switch s.kind {
	case stepWait, stepKill:
		if s.host != nil {
			return nil, false // KillHost
		}
		var procs []*Proc
		for _, x := range s.exits {
			procs = append(procs, x.proc)
		}
		return procs, true
	case stepSignal, stepRestart, stepReady, stepExpect:
		return s.procs, true
	}
	return nil, false
}

// dynamic checks step s if it acts on a stand-in, or on a process whose
// state a step through a variable made uncertain, and reports whether it
// did; the others are checked by validate.
func (w *walk) dynamic(s *Step, bad func(string, ...any)) bool {
	procs, ok := stepProcs(s)
	if !ok {
		return false
	}
	dyn := false
	for _, proc := range procs {
		if proc != nil && (proc.ref != nil || w.maybe[proc] != nil) {
			dyn = true
		}
	}
	if !dyn {
		return false
	}
	s.dyn = true
	for _, proc := range procs {
		if proc == nil || proc.plan != s.plan {
			continue // reported when the step was built
		}
		if proc.ref == nil {
			w.checkUncertain(s, proc, bad)
			continue
		}
		// The processes the stand-in may be here.
		var may, not []string
		for _, c := range proc.ref.among {
			ended := w.ended[c] != nil && w.maybe[c] == nil
			ok := !ended
			if s.kind == stepRestart {
				ok = w.ended[c] != nil || w.maybe[c] != nil
			}
			if ok && s.kind != stepWait && s.kind != stepKill && c.isGo() {
				ok = false // a Go step can be killed, not signalled or restarted
			}
			if !ok {
				not = append(not, c.name)
				continue
			}
			may = append(may, c.name)
			switch s.kind {
			case stepWait, stepKill:
				w.maybe[c] = s
			case stepRestart:
				c.addRun(s)
				w.maybe[c], w.restarted[c] = s, s
				delete(w.ended, c)
			}
		}
		if len(may) == 0 {
			state := "running"
			if s.kind == stepRestart {
				state = "ended"
			}
			bad("none of the processes %s may name is %s here (%s)", proc.name, state, strings.Join(not, ", "))
		}
	}
	return true
}

// checkUncertain checks step s on proc, whose state a step through a
// variable made uncertain: only what can be known now, the rest when it
// runs.
func (w *walk) checkUncertain(s *Step, proc *Proc, bad func(string, ...any)) {
	switch s.kind {
	case stepWait, stepKill:
		w.ended[proc] = s
		delete(w.maybe, proc)
	case stepRestart:
		delete(w.ended, proc)
		delete(w.maybe, proc)
		delete(w.restarted, proc)
		proc.addRun(s)
	case stepReady:
		out := s.ready.out
		if out == nil || len(proc.runs) == 0 {
			return
		}
		if r := w.restarted[proc]; r != nil {
			bad("%s may have been restarted by %s at %s: its output cannot be waited for until a step restarts it by name", proc.name, r.name, r.where)
			return
		}
		run := &proc.runs[len(proc.runs)-1]
		run[out.stream] = append(run[out.stream], out)
	}
}

// resolve returns a copy of step s, a step checked again when it runs,
// with its stand-ins replaced by the processes their variables name; or
// the error of a variable that names none it may, or of a process in a
// state the step does not allow.
func (e *executor) resolve(s *Step) (*Step, error) {
	rs := *s
	rs.orig = s
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%s%s", prefix(s.where, s.name), fmt.Sprintf(format, args...))
	}
	pick := func(proc *Proc) (*Proc, error) {
		if proc.ref == nil {
			return proc, nil
		}
		v := proc.ref.v
		v.mu.Lock()
		set := v.set || v.fixed
		v.mu.Unlock()
		value := v.Value()
		var names []string
		for _, c := range proc.ref.among {
			if c.name == value {
				return c, nil
			}
			names = append(names, c.name)
		}
		if !set {
			return nil, fail("variable %s is not set, so names no process", v.name)
		}
		return nil, fail("variable %s is %q, which is not the name of a process it may name here (%s)", v.name, value, strings.Join(names, ", "))
	}
	var resolved, shown []string
	rs.procs = nil
	for _, proc := range s.procs {
		c, err := pick(proc)
		if err != nil {
			return nil, err
		}
		rs.procs = append(rs.procs, c)
		if proc.ref != nil {
			resolved = append(resolved, c.name)
			shown = append(shown, proc.name+"="+c.name)
		}
	}
	rs.exits = nil
	for _, x := range s.exits {
		c, err := pick(x.proc)
		if err != nil {
			return nil, err
		}
		rs.exits = append(rs.exits, Exit{proc: c, want: x.want})
		if x.proc.ref != nil {
			resolved = append(resolved, c.name)
			shown = append(shown, x.proc.name+"="+c.name)
		}
	}
	if len(resolved) > 0 {
		rs.name = s.name + " (" + strings.Join(resolved, ", ") + ")"
		e.emit(Event{Kind: EventInfo, Step: e.step + 1, StepName: s.name, Detail: strings.Join(shown, ", ")})
	}
	fail = func(format string, args ...any) error {
		return fmt.Errorf("%s%s", prefix(rs.where, rs.name), fmt.Sprintf(format, args...))
	}
	procs, _ := stepProcs(&rs)
	for _, p := range procs {
		switch {
		case rs.kind == stepRestart && p.running:
			return nil, fail("%s is still running: only an ended process can be restarted", p.label())
		case rs.kind == stepRestart && p.isGo():
			return nil, fail("%s is a Go step: it cannot be restarted", p.name)
		case rs.kind == stepSignal && p.isGo():
			return nil, fail("%s is a Go step: it can be killed but not signalled", p.name)
		case rs.kind == stepExpect && p.running:
			return nil, fail("%s is still running: wait for it before checking its output", p.label())
		case rs.kind != stepRestart && rs.kind != stepExpect && !p.running && p.awaited:
			return nil, fail("%s already ended (%s)", p.label(), p.status)
		}
	}
	return &rs, nil
}
