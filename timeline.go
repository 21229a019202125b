package proctest

import (
	"fmt"
	"io"
	"strings"

	"github.com/proctest/proctest/internal/timeline"
)

// A Timeline is what a timeline page shows: the events of one run of a
// plan, and where its logs are. For a failed plan, with the page written
// into its log directory:
//
//	t := proctest.Timeline{Plan: pe.Plan, Events: pe.Events, Failed: true,
//		LogDir: pe.LogDir, LinkBase: "."}
//
// The page draws a row per process, in the order they first started.
// Each run of the process is a bar from its spawn event to its exit event,
// or to the end of the plan if it has none, so a restarted process has
// several bars in its row. A bar's colour says how the run ended: exit
// 0, another exit code, a signal, stopped by the plan at its end, or
// still running then. Markers on the rows show readiness, signals sent
// and exits; above the rows, the steps run along the time axis, the
// failing one in red. Warnings about no process are shown above the
// picture; other events about no process are only listed under it.
//
// In a plan with hosts, the process rows are grouped under a row per
// host, in the order the hosts were made, and those of processes on this
// machine come last, under a row of their own. A host's row shows from
// when it was up, the spans when it was paused ([Plan.PauseHost] to
// [Plan.ResumeHost]) or down ([Plan.KillHost] to [Plan.RestartHost]),
// with markers at its kills and restarts; the same spans are shaded
// across its processes' rows. Each state of the network other than
// healthy, from one net event to the next or to the end of the plan, is a
// band across the picture, with the faults in words in a lane under the
// steps.
type Timeline struct {
	// Plan is the plan's name, the page's title. With Plan empty, the
	// name comes from the events.
	Plan string
	// Events are the plan's events, in the order they happened, as in
	// [PlanError.Events] or as given to the [OnEvent] function.
	Events []Event
	// Failed marks the plan as failed. A fail event in Events does too;
	// Failed is for failures found after the last step, such as a
	// process left running, which have no fail event.
	Failed bool
	// LogDir is the plan's log directory, as in [PlanError.LogDir]. Each
	// process row links to LogDir/<name>.stdout and <name>.stderr. With
	// LogDir empty, the page has no links.
	LogDir string
	// LinkBase, if not empty, is what the links to logs start with,
	// instead of a file: URL of LogDir. Set it to "." when the page is
	// written into LogDir, so that links are relative ("./server.stdout")
	// and the directory can be moved or archived. It may also be a URL
	// with the scheme http, https or file. It has no effect when LogDir
	// is empty.
	LinkBase string
	// Commands gives the command line of processes, by name, shown when
	// hovering over a process. With Commands nil, or for a process it
	// does not name, the page shows what the process's last spawn event
	// says: its command line with variables expanded, its directory and
	// the environment the plan added.
	Commands map[string]string
	// MaxRows bounds how many process rows the page draws, to keep pages
	// of large plans small: past it, the page draws the first half and
	// the last half of the rows, and between them one row that sums up
	// the others: how many, how they ended, and how many ran at each
	// moment. Host rows are not counted; a host whose processes are all
	// summed up may have no row. With MaxRows 0 or less, the bound is 200.
	MaxRows int
}

// WriteTimeline writes t to w as one self-contained HTML page, with
// inline CSS and SVG and a few lines of JavaScript that the page does not
// need to be read. Hovering over a bar, a marker or a step shows what it
// stands for.
func WriteTimeline(w io.Writer, t Timeline) error {
	// internal/timeline draws the page from its own copy of the events,
	// each with the line that lists it, as the report writes it.
	events := make([]timeline.Event, len(t.Events))
	for i, ev := range t.Events {
		events[i] = timeline.Event{Time: ev.Time, Elapsed: ev.Elapsed, Plan: ev.Plan, Kind: timeline.Kind(ev.Kind),
			Step: ev.Step, StepName: ev.StepName, Where: ev.Where, Proc: ev.Proc, Pid: ev.Pid, Host: ev.Host,
			Detail: ev.Detail, Text: ev.String()}
		switch ev.Kind {
		case EventHost:
			events[i].Change = hostChange(ev.Detail)
		case EventNet:
			if ev.Detail == netHealed {
				events[i].Detail = "" // no faults
			}
		}
		if st := ev.Status; st != nil {
			events[i].Status = &timeline.Status{Code: st.Code}
			if st.Signal != 0 {
				events[i].Status.Signal = signalName(st.Signal)
			}
		}
	}
	cmds := commandsOf(t.Events)
	for name, c := range t.Commands {
		cmds[name] = c
	}
	err := timeline.Write(w, timeline.Timeline{Plan: t.Plan, Events: events, Failed: t.Failed,
		LogDir: t.LogDir, LinkBase: t.LinkBase, Commands: cmds, MaxRows: t.MaxRows})
	if err != nil {
		return fmt.Errorf("proctest: %w", err)
	}
	return nil
}

// hostChange says what the host event of that detail did to its host, as
// the timeline page needs it.
func hostChange(detail string) timeline.HostChange {
	for _, c := range []struct {
		words  string
		change timeline.HostChange
	}{
		{hostUpAt, timeline.HostUp},
		{hostPaused, timeline.HostPaused},
		{hostResumed, timeline.HostResumed},
		{hostKilled, timeline.HostKilled},
		{hostRestarted, timeline.HostRestarted},
	} {
		if strings.HasPrefix(detail, c.words) {
			return c.change
		}
	}
	return timeline.HostOther
}
