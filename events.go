package proctest

import (
	"fmt"
	"strings"
	"time"
)

// An EventKind says what happened in an [Event].
type EventKind string

// The kinds of events a plan records.
const (
	EventPlanStart EventKind = "plan-start" // the plan starts running
	EventStep      EventKind = "step"       // a step starts
	EventSpawn     EventKind = "spawn"      // a process started
	EventSignal    EventKind = "signal"     // the plan sent a signal
	EventReady     EventKind = "ready"      // a readiness wait was met
	EventExit      EventKind = "exit"       // a process ended
	EventFail      EventKind = "fail"       // a step failed
	EventStop      EventKind = "stop"       // the plan stopped a process at its end
	EventWarning   EventKind = "warning"    // something the test should know
	EventInfo      EventKind = "info"       // how the plan runs, such as what contains its processes
	EventHost      EventKind = "host"       // a host started, paused, resumed, was killed or restarted
	EventNet       EventKind = "net"        // the network between hosts changed: the faults now in force
	EventPlanEnd   EventKind = "plan-end"   // the plan is over
	EventVar       EventKind = "var"        // a variable of the plan was set
)

// An Event is one entry of a plan's timeline. The same events make the
// failure report's timeline, the command's -v and -json output, and the
// timeline page.
type Event struct {
	// Time is when it happened.
	Time time.Time `json:"time"`
	// Elapsed is the time since the plan started.
	Elapsed time.Duration `json:"elapsed"`
	// Plan is the plan's name.
	Plan string `json:"plan"`
	// Kind says what happened.
	Kind EventKind `json:"event"`
	// Step is the step's number, counting from 1, or 0 outside steps.
	Step int `json:"step,omitempty"`
	// StepName names the step, as in "wait server".
	StepName string `json:"step_name,omitempty"`
	// Where is the file:line that built the step.
	Where string `json:"where,omitempty"`
	// Proc and Pid name the process concerned, if any.
	Proc string `json:"proc,omitempty"`
	Pid  int    `json:"pid,omitempty"`
	// Host names the host concerned: the host of the process, or the
	// host of a host event. Empty for processes on this machine.
	Host string `json:"host,omitempty"`
	// Status is how the process ended, for exit and stop events.
	Status *Status `json:"status,omitempty"`
	// Detail says more, in words.
	Detail string `json:"detail,omitempty"`
	// Args, Dir and Env are, for a spawn event, the command line with
	// variables expanded, the working directory, and the environment
	// the plan added to what the backend gives every process ([Plan.Env]
	// and [Proc.Env], expanded).
	Args []string `json:"args,omitempty"`
	Dir  string   `json:"dir,omitempty"`
	Env  []string `json:"env,omitempty"`
	// Var and Value are, for a var event, the variable set and its value.
	Var   string `json:"var,omitempty"`
	Value string `json:"value,omitempty"`
}

// String formats e as a timeline line: "+0.012s spawn server pid 4242".
// Control characters and invalid UTF-8 in it, which may come from a
// process (a line it printed, its command line), are written as escapes
// such as \x1b, newlines too, so that the line is one line and a terminal
// shows it as it is.
func (e Event) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "+%.3fs %s", e.Elapsed.Seconds(), e.Kind)
	switch e.Kind {
	case EventStep:
		fmt.Fprintf(&b, " %d: %s", e.Step, e.StepName)
		if e.Where != "" {
			fmt.Fprintf(&b, " (%s)", e.Where)
		}
	default:
		if e.Proc != "" {
			b.WriteString(" " + e.Proc)
		}
		if e.Host != "" && e.Proc != "" {
			b.WriteString(" on " + e.Host)
		} else if e.Host != "" {
			b.WriteString(" " + e.Host)
		}
		if e.Pid != 0 {
			fmt.Fprintf(&b, " pid %d", e.Pid)
		}
		if e.Status != nil {
			b.WriteString(" " + e.Status.String())
		}
	}
	if e.Detail != "" {
		b.WriteString(": " + e.Detail)
	}
	return visible(b.String(), false)
}
