package timeline

import (
	"fmt"
	"time"
)

// outcome is how a run of a process ended, which colours its bar.
type outcome int

const (
	exited0      outcome = iota // exited with code 0
	exitedN                     // exited with another code
	signaled                    // ended by a signal
	stoppedAtEnd                // stopped by the plan at its end
	runningAtEnd                // still running at the end of the plan
	numOutcomes
)

// outcomeClass is the CSS class of each outcome's bars.
var outcomeClass = [numOutcomes]string{"ok", "code", "sig", "stop", "run"}

// outcomeText says each outcome in words, as in the legend.
var outcomeText = [numOutcomes]string{"exit 0", "exit code ≠ 0", "ended by a signal", "stopped at the end", "running at the end"}

// run is one run of a process: from a spawn event to an exit event.
type run struct {
	pid        int
	goFunc     bool
	start, end time.Duration
	startAt    time.Time
	endAt      time.Time
	ended      bool    // an exit event closed it
	superseded bool    // ended by the next spawn, with no exit event
	spawned    string  // the spawn event's detail, as in "restart 2"
	status     *Status // from the exit event
	detail     string  // the exit event's detail
	stopped    string  // the stop event's detail, when the plan stopped it at its end
}

// outcome returns how r ended.
func (r *run) outcome() outcome {
	switch {
	case !r.ended:
		return runningAtEnd
	case r.stopped != "":
		return stoppedAtEnd
	case r.status != nil && r.status.Signal != "":
		return signaled
	case r.status != nil && r.status.Code == 0:
		return exited0
	}
	return exitedN
}

// mark is a marker on a process row.
type mark struct {
	kind string // "ready", "signal", "warn" or "left", or on a host's row "kill", "restart" or "change": its CSS class
	at   time.Duration
	when time.Time
	text string
}

// proc is a process of the plan, a row of the picture.
type proc struct {
	name  string
	host  *host // nil for this machine
	runs  []*run
	marks []mark
}

// host is a host of the plan, a row of the picture above those of its
// processes.
type host struct {
	name    string
	up      time.Duration // when it started, or 0
	upAt    time.Time
	upText  string      // the detail of its HostUp event, as in "up at 10.77.0.1"
	spans   []*hostSpan // when it was paused or down, in order
	marks   []mark      // kills, restarts and other changes
	procs   []*proc     // in the order they first started
	changes []Event     // its Host events, for its row's title
}

// hostSpan is a span of time when a host was paused, or down: from
// HostKilled to HostRestarted.
type hostSpan struct {
	down            bool
	start, end      time.Duration
	startAt, endAt  time.Time
	ended           bool   // a change ended it before the end of the plan
	detail, endedBy string // the details of the events that began and ended it
}

// netState is a span of time when the network between hosts had faults:
// from a Net event to the next one, or to the end of the plan.
type netState struct {
	faults         string // in words
	start, end     time.Duration
	startAt, endAt time.Time
	ended          bool   // a later Net event ended it
	healed         bool   // that event healed the network
	step           string // the step that set it, as in "set by step 8: partition n1,n2 | n3"
}

// step is a step of the plan.
type step struct {
	num         int
	name, where string
	start, end  time.Duration
	startAt     time.Time
	ended       bool // end is known
	failed      bool
	failDetail  string
}

// plan is what the events say about the plan.
type plan struct {
	name     string
	start    time.Time // zero if the events have no times
	end      time.Duration
	procs    []*proc
	hosts    []*host // in the order they first appear
	nets     []*netState
	steps    []*step
	fails    []Event
	warnings []Event // those about no process
	failed   bool
}

// readEvents gathers what the events say about the plan.
func readEvents(t Timeline) *plan {
	p := &plan{name: t.Plan, failed: t.Failed}
	byName := map[string]*proc{}
	procNamed := func(name string) *proc {
		pr := byName[name]
		if pr == nil {
			pr = &proc{name: name}
			byName[name] = pr
			p.procs = append(p.procs, pr)
		}
		return pr
	}
	hostByName := map[string]*host{}
	hostNamed := func(name string) *host {
		h := hostByName[name]
		if h == nil {
			h = &host{name: name}
			hostByName[name] = h
			p.hosts = append(p.hosts, h)
		}
		return h
	}
	planEnd := time.Duration(-1)
	for _, ev := range t.Events {
		if p.name == "" {
			p.name = ev.Plan
		}
		if p.start.IsZero() && !ev.Time.IsZero() {
			p.start = ev.Time.Add(-ev.Elapsed)
		}
		p.end = max(p.end, ev.Elapsed)
		if ev.Proc == "" {
			switch ev.Kind {
			case Spawn, Exit, Stop, Signal, Ready:
				continue // only listed
			}
		}
		switch ev.Kind {
		case Step:
			if n := len(p.steps); n > 0 && !p.steps[n-1].ended {
				p.steps[n-1].end, p.steps[n-1].ended = ev.Elapsed, true
			}
			p.steps = append(p.steps, &step{num: ev.Step, name: ev.StepName, where: ev.Where, start: ev.Elapsed, startAt: ev.Time})
		case Fail:
			p.failed = true
			p.fails = append(p.fails, ev)
			for i := len(p.steps) - 1; i >= 0; i-- {
				if s := p.steps[i]; s.num == ev.Step {
					s.failed, s.failDetail = true, ev.Detail
					if !s.ended {
						s.end, s.ended = ev.Elapsed, true
					}
					break
				}
			}
		case Spawn:
			pr := procNamed(ev.Proc)
			if ev.Host != "" && pr.host == nil && len(pr.runs) == 0 {
				pr.host = hostNamed(ev.Host)
				pr.host.procs = append(pr.host.procs, pr)
			}
			if n := len(pr.runs); n > 0 && !pr.runs[n-1].ended && pr.runs[n-1].end < 0 {
				// Started again without an exit: the last run ends here,
				// as far as the picture can tell.
				pr.runs[n-1].end, pr.runs[n-1].superseded = ev.Elapsed, true
			}
			pr.runs = append(pr.runs, &run{pid: ev.Pid, goFunc: ev.Pid == 0 && ev.Detail != "",
				spawned: ev.Detail, start: ev.Elapsed, startAt: ev.Time, end: -1})
		case Exit:
			pr := procNamed(ev.Proc)
			r := pr.open()
			if r == nil {
				// An exit without its spawn: a run of no length.
				r = &run{pid: ev.Pid, start: ev.Elapsed, startAt: ev.Time}
				pr.runs = append(pr.runs, r)
			}
			r.end, r.endAt, r.ended, r.status, r.detail = ev.Elapsed, ev.Time, true, ev.Status, ev.Detail
		case Stop:
			pr := procNamed(ev.Proc)
			if n := len(pr.runs); n > 0 && pr.runs[n-1].pid == ev.Pid {
				pr.runs[n-1].stopped = ev.Detail
				if pr.runs[n-1].stopped == "" {
					pr.runs[n-1].stopped = "stopped by the plan"
				}
			} else {
				pr.marks = append(pr.marks, mark{kind: "left", at: ev.Elapsed, when: ev.Time,
					text: join("stop", procLabel(ev.Proc, ev.Pid), ev.Detail)})
			}
		case Signal:
			procNamed(ev.Proc).marks = append(procNamed(ev.Proc).marks, mark{kind: "signal", at: ev.Elapsed, when: ev.Time,
				text: join("signal to "+procLabel(ev.Proc, ev.Pid), ev.Detail)})
		case Ready:
			procNamed(ev.Proc).marks = append(procNamed(ev.Proc).marks, mark{kind: "ready", at: ev.Elapsed, when: ev.Time,
				text: join("ready: "+procLabel(ev.Proc, ev.Pid), ev.Detail)})
		case Warning:
			if ev.Proc == "" {
				p.warnings = append(p.warnings, ev)
				break
			}
			procNamed(ev.Proc).marks = append(procNamed(ev.Proc).marks, mark{kind: "warn", at: ev.Elapsed, when: ev.Time,
				text: join("warning: "+procLabel(ev.Proc, ev.Pid), ev.Detail)})
		case Host:
			if ev.Host != "" {
				hostNamed(ev.Host).change(ev)
			}
		case Net:
			if n := len(p.nets); n > 0 && !p.nets[n-1].ended {
				last := p.nets[n-1]
				last.end, last.endAt, last.ended, last.healed = ev.Elapsed, ev.Time, true, ev.Detail == ""
			}
			if ev.Detail != "" {
				st := &netState{faults: ev.Detail, start: ev.Elapsed, startAt: ev.Time, end: -1}
				if ev.Step != 0 {
					st.step = fmt.Sprintf("set by step %d: %s", ev.Step, ev.StepName)
				} else if n := len(p.steps); n > 0 && !p.steps[n-1].ended {
					st.step = fmt.Sprintf("set by step %d: %s", p.steps[n-1].num, p.steps[n-1].name)
				}
				p.nets = append(p.nets, st)
			}
		case PlanEnd:
			planEnd = ev.Elapsed
		}
	}
	if planEnd >= 0 {
		p.end = max(p.end, planEnd)
	}
	for _, s := range p.steps {
		if !s.ended {
			s.end = p.end
		}
	}
	for _, pr := range p.procs {
		for _, r := range pr.runs {
			if r.end < 0 {
				r.end = p.end
			}
		}
	}
	var endAt time.Time
	if !p.start.IsZero() {
		endAt = p.start.Add(p.end)
	}
	for _, h := range p.hosts {
		for _, sp := range h.spans {
			if !sp.ended {
				sp.end, sp.endAt = p.end, endAt
			}
		}
	}
	for _, st := range p.nets {
		if !st.ended {
			st.end, st.endAt = p.end, endAt
		}
	}
	return p
}

// change notes the Host event ev of h.
func (h *host) change(ev Event) {
	h.changes = append(h.changes, ev)
	open := func() *hostSpan {
		if n := len(h.spans); n > 0 && !h.spans[n-1].ended {
			return h.spans[n-1]
		}
		return nil
	}
	closeSpan := func(sp *hostSpan) {
		sp.end, sp.endAt, sp.ended, sp.endedBy = ev.Elapsed, ev.Time, true, ev.Detail
	}
	switch ev.Change {
	case HostUp:
		if h.upText == "" {
			h.up, h.upAt, h.upText = ev.Elapsed, ev.Time, ev.Detail
		}
	case HostPaused:
		if sp := open(); sp == nil {
			h.spans = append(h.spans, &hostSpan{start: ev.Elapsed, startAt: ev.Time, detail: ev.Detail})
		}
	case HostResumed:
		if sp := open(); sp != nil && !sp.down {
			closeSpan(sp)
		}
	case HostKilled:
		if sp := open(); sp != nil && !sp.down {
			closeSpan(sp) // killed while paused
		}
		if sp := open(); sp == nil {
			h.spans = append(h.spans, &hostSpan{down: true, start: ev.Elapsed, startAt: ev.Time, detail: ev.Detail})
		}
		h.marks = append(h.marks, mark{kind: "kill", at: ev.Elapsed, when: ev.Time, text: join("host "+h.name, ev.Detail)})
	case HostRestarted:
		if sp := open(); sp != nil && sp.down {
			closeSpan(sp)
		}
		h.marks = append(h.marks, mark{kind: "restart", at: ev.Elapsed, when: ev.Time, text: join("host "+h.name, ev.Detail)})
	default:
		h.marks = append(h.marks, mark{kind: "change", at: ev.Elapsed, when: ev.Time, text: join("host "+h.name, ev.Detail)})
	}
}

// open returns the process's run that has not ended, or nil.
func (pr *proc) open() *run {
	if n := len(pr.runs); n > 0 && !pr.runs[n-1].ended && pr.runs[n-1].end < 0 {
		return pr.runs[n-1]
	}
	return nil
}
