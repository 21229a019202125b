package proctest

import (
	"errors"
	"fmt"
	"strings"
)

const (
	// tailLines is how many of the last lines of each log the report shows.
	tailLines = 20
	// timelineLines is how many timeline entries the report shows at most.
	timelineLines = 40
)

// newPlanError builds the PlanError and its report for the failures errs
// of plan p, whose logs are kept in logs (nil if it has none). What came
// from processes is made visible: see visible.
func newPlanError(p *Plan, errs []error, logs *planLogs, events []Event, procs []*Proc) *PlanError {
	errs = flatten(errs)
	e := &PlanError{Plan: p.name, Errors: errs, Events: events}
	if logs != nil {
		e.LogDir = logs.path
	}
	var b strings.Builder
	fmt.Fprintf(&b, "proctest: plan %s failed", p.name)
	if logs == nil {
		b.WriteString(" before it started anything")
	}
	b.WriteString(":\n")
	for _, err := range errs {
		fmt.Fprintf(&b, "\n%s\n", err)
	}
	if len(p.reportNotes) > 0 {
		b.WriteString("\n" + strings.Join(p.reportNotes, "\n") + "\n")
	}
	byName := map[string]*Proc{}
	for _, proc := range procs {
		byName[proc.name] = proc
	}
	if logs != nil {
		for _, name := range involved(errs) {
			proc := byName[name]
			if proc == nil {
				continue
			}
			for _, stream := range []string{"stderr", "stdout"} {
				writeTail(&b, proc, logs, stream)
			}
		}
		writeFacts(&b, p, events)
		fmt.Fprintf(&b, "\nlogs kept in %s\n", logs.path)
		if logs.moved() {
			b.WriteString("(but that path no longer leads to them: the directory, or one above it, was renamed or replaced while the plan ran)\n")
		}
	}
	if len(events) > 0 {
		b.WriteString("\ntimeline:\n")
		shown := events
		if len(events) > timelineLines {
			head, tail := events[:5], events[len(events)-(timelineLines-5):]
			for _, ev := range head {
				fmt.Fprintf(&b, "\t%s\n", ev)
			}
			fmt.Fprintf(&b, "\t... %d more events ...\n", len(events)-timelineLines)
			shown = tail
		}
		for _, ev := range shown {
			fmt.Fprintf(&b, "\t%s\n", ev)
		}
	}
	e.report = visible(strings.TrimRight(b.String(), "\n"), true)
	return e
}

// writeTail writes the last lines of one log of proc to b.
func writeTail(b *strings.Builder, proc *Proc, logs *planLogs, stream string) {
	f, err := logs.open(proc.name + "." + stream)
	var lines []string
	var cut bool
	if err == nil {
		lines, cut, err = tail(f, tailLines)
		f.Close()
	}
	switch {
	case err != nil:
		fmt.Fprintf(b, "\n%s %s: %v\n", proc.label(), stream, err)
	case len(lines) == 0:
		fmt.Fprintf(b, "\n%s %s: empty\n", proc.label(), stream)
	default:
		what := "all of it"
		switch {
		case cut && len(lines) == 1:
			what = "last line"
		case cut:
			what = fmt.Sprintf("last %d lines", len(lines))
		}
		fmt.Fprintf(b, "\n%s %s, %s:\n", proc.label(), stream, what)
		for _, l := range lines {
			fmt.Fprintf(b, "\t| %s\n", l)
		}
	}
}

// involved returns the names of the processes the errors are about, in
// order of first mention.
func involved(errs []error) []string {
	var names []string
	seen := map[string]bool{}
	add := func(name string) {
		if name != "" && !seen[name] {
			seen[name] = true
			names = append(names, name)
		}
	}
	for _, err := range errs {
		var (
			code *ExitCodeError
			unex *UnexpectedExitError
			tout *TimeoutError
			run  *StillRunningError
			serr *StartError
			oerr *OutputError
		)
		if errors.As(err, &oerr) {
			add(oerr.Proc)
		}
		if errors.As(err, &code) {
			add(code.Proc)
		}
		if errors.As(err, &unex) {
			add(unex.Proc)
		}
		if errors.As(err, &tout) {
			add(tout.Proc)
		}
		if errors.As(err, &serr) {
			add(serr.Proc)
		}
		if errors.As(err, &run) {
			for _, l := range run.Procs {
				add(l.Name)
			}
		}
		if r, ok := err.(interface{ relatedProcs() []string }); ok {
			for _, name := range r.relatedProcs() {
				add(name)
			}
		}
	}
	return names
}

// flatten replaces each error made by errors.Join with the errors it joins.
func flatten(errs []error) []error {
	var out []error
	for _, err := range errs {
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			out = append(out, flatten(j.Unwrap())...)
		} else if err != nil {
			out = append(out, err)
		}
	}
	return out
}
