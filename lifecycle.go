package proctest

import (
	"errors"
	"fmt"
	"syscall"
)

// Pause adds a step that stops proc with SIGSTOP, as a frozen or
// unresponsive server would be. A process still paused at the end of the
// plan is resumed before it is stopped, so that nothing hangs.
func (p *Plan) Pause(proc *Proc) *Step {
	s := p.Signal(proc, syscall.SIGSTOP)
	s.name = "pause " + s.procName()
	s.pause = 1
	return s
}

// Resume adds a step that resumes a paused proc with SIGCONT.
func (p *Plan) Resume(proc *Proc) *Step {
	s := p.Signal(proc, syscall.SIGCONT)
	s.name = "resume " + s.procName()
	s.pause = -1
	return s
}

// procName returns the name of the step's process, or "" if it has none.
func (s *Step) procName() string {
	if len(s.procs) == 0 {
		return ""
	}
	return s.procs[0].name
}

// Restart adds a step that starts proc again, after it ended (was waited
// for or killed), with the same command and settings: a crashed or killed
// server coming back. Its output is appended to the same log files, after
// a marker line, and it can be waited for, killed and restarted again.
// A Go step cannot be restarted.
func (p *Plan) Restart(proc *Proc) *Step {
	s := &Step{plan: p, kind: stepRestart, where: p.caller(), name: "restart",
		check: checkRestart, run: runStart}
	if proc != nil {
		s.name = "restart " + proc.name
	}
	if p.checkProc(s, proc) {
		s.procs = []*Proc{proc}
		if proc.isGo() {
			p.errs = append(p.errs, &BuildError{Where: s.where, Step: s.name, Err: errors.New("a Go step cannot be restarted")})
		}
	}
	p.steps = append(p.steps, s)
	return s
}

// checkRestart checks a restart step: its process must have ended, on a
// host that is up, and starts a new run.
func checkRestart(w *walk, s *Step, bad func(string, ...any)) {
	w.checkHostsUp(s, bad)
	for _, proc := range s.procs {
		if w.ended[proc] == nil {
			bad("%s is still running: only an ended process can be restarted", proc.name)
		}
		delete(w.ended, proc)
		proc.addRun(s)
	}
}

// restartMarker is the line written into both logs of a process before
// a restart.
func restartMarker(run int, elapsed float64) string {
	return fmt.Sprintf("--- proctest: restart %d at +%.3fs ---\n", run, elapsed)
}
