// Package timeline writes the timeline page of one run of a plan: a
// self-contained HTML page with a row per process, its runs as bars on a
// time axis, the steps above them, and the events listed below. In a
// plan with hosts, the processes are grouped under a row per host, which
// shows when the host was paused or down, and bands across the picture
// show when the network between hosts had faults.
//
// It is proctest's page generator, kept apart from the engine: it knows
// nothing of proctest and takes its own small input types, [Timeline]
// and [Event], which proctest fills from its events. proctest's
// WriteTimeline documents the page; this package draws it.
//
// The page is made from the embedded template page.html.tmpl, which
// includes style.css and script.js, and hosts.css for plans with hosts
// or network faults. They are html/template templates, so every value
// from the events is escaped for where it lands.
package timeline

import (
	"bufio"
	"embed"
	"fmt"
	"html/template"
	"io"
	"time"
)

// A Timeline is what a page shows: the events of one run of a plan, and
// where its logs are.
type Timeline struct {
	// Plan is the plan's name, the page's title. With Plan empty, the
	// name comes from the events, and with none there, it is "plan".
	Plan string
	// Events are the plan's events, in the order they happened.
	Events []Event
	// Failed marks the plan as failed. A Fail event in Events does too;
	// Failed is for failures found after the last step, which have no
	// Fail event.
	Failed bool
	// LogDir is the plan's log directory. Each process row links to
	// LogDir/<name>.stdout and <name>.stderr. With LogDir empty, the page
	// has no links.
	LogDir string
	// LinkBase, if not empty, is what the links to logs start with,
	// instead of a file: URL of LogDir: "." for links relative to the
	// page, or a URL with the scheme http, https or file. Any other
	// scheme is an error. It has no effect when LogDir is empty.
	LinkBase string
	// Commands gives the command line of processes, by name, shown when
	// hovering over a process. It may be nil.
	Commands map[string]string
	// MaxRows bounds how many process rows the page draws; past it, the
	// first and last halves are drawn around one row that sums up the
	// others. Host rows are not counted; a host whose processes are all
	// summed up may have no row. With MaxRows 0 or less, the bound is 200.
	MaxRows int
}

// An Event is one entry of a plan's timeline, as proctest records it.
type Event struct {
	// Time is when it happened; the zero Time if not known, and then the
	// page says no time of day.
	Time time.Time
	// Elapsed is the time since the plan started.
	Elapsed time.Duration
	// Plan is the plan's name.
	Plan string
	// Kind says what happened.
	Kind Kind
	// Step is the step's number, counting from 1, or 0 outside steps.
	Step int
	// StepName names the step, as in "wait server".
	StepName string
	// Where is the file:line that built the step, or "".
	Where string
	// Proc and Pid name the process concerned: Proc "" for none, Pid 0
	// for no process of the system (a Go function).
	Proc string
	Pid  int
	// Host names the host concerned: for Spawn events, the host the
	// process runs on, and for Host events, the host that changed. ""
	// is this machine.
	Host string
	// Change says what a Host event did to its host.
	Change HostChange
	// Status is how the process ended, for Exit and Stop events, or nil.
	Status *Status
	// Detail says more, in words, or is "". For Net events, it is the
	// network's faults now in force, in words, or "" when there are none.
	Detail string
	// Text is the whole event as one line of text, listed under the
	// picture as it is: the page does not format events itself, so that
	// its list reads as the failure report's timeline does.
	Text string
}

// A Kind says what happened in an [Event]. The page draws the kinds
// below; events of other kinds are only listed. The kind, as a string,
// also names the CSS class of the event's line, "ev-" + kind.
type Kind string

// The kinds of events. Each is the same string as proctest's kind of
// the same name, which proctest converts as it is.
const (
	PlanStart Kind = "plan-start" // the plan starts running
	Step      Kind = "step"       // a step starts
	Spawn     Kind = "spawn"      // a process started
	Signal    Kind = "signal"     // the plan sent a signal
	Ready     Kind = "ready"      // a readiness wait was met
	Exit      Kind = "exit"       // a process ended
	Fail      Kind = "fail"       // a step failed
	Stop      Kind = "stop"       // the plan stopped a process at its end
	Warning   Kind = "warning"    // something the test should know
	Info      Kind = "info"       // how the plan runs: only listed
	Host      Kind = "host"       // a host started, paused, resumed, was killed or restarted
	Net       Kind = "net"        // the network between hosts changed: the faults now in force
	PlanEnd   Kind = "plan-end"   // the plan is over
)

// A HostChange says what a Host [Event] did to its host. The page
// draws a row for each host, above its processes, with the spans when
// it was paused or down.
type HostChange int

// The changes of a host.
const (
	HostOther     HostChange = iota // anything else: a marker on the host's row
	HostUp                          // the host started
	HostPaused                      // its processes were frozen
	HostResumed                     // they were thawed
	HostKilled                      // everything on it was killed: it is down
	HostRestarted                   // it is up again after HostKilled
)

// A Status is how a process ended.
type Status struct {
	// Code is the exit code. It is meaningful only when Signal is "".
	Code int
	// Signal names the signal that ended the process, as in "SIGKILL",
	// or is "" if the process exited.
	Signal string
}

// String returns "exit N" or "signal NAME", as in "exit 1" or
// "signal SIGTERM".
func (s Status) String() string {
	if s.Signal != "" {
		return "signal " + s.Signal
	}
	return fmt.Sprintf("exit %d", s.Code)
}

// Write writes t to w as one self-contained HTML page. Its errors start
// with "timeline: ".
func Write(w io.Writer, t Timeline) error {
	pg, err := buildPage(t)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	if err := pageTemplate.Execute(bw, pg); err != nil {
		return fmt.Errorf("timeline: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("timeline: %w", err)
	}
	return nil
}

// files holds the page's template and what it includes. html/template
// drops comments from CSS and JavaScript, so style.css and script.js
// have none: they are described here and in page.html.tmpl.
//
//go:embed page.html.tmpl style.css hosts.css script.js
var files embed.FS

// pageTemplate is the page, executed with a *page.
var pageTemplate = template.Must(template.New("page.html.tmpl").Funcs(template.FuncMap{
	"n":   coord,
	"add": func(a, b float64) float64 { return a + b },
}).ParseFS(files, "page.html.tmpl", "style.css", "hosts.css", "script.js"))
