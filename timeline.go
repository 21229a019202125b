package proctest

import (
	"bufio"
	"fmt"
	"html/template"
	"io"
	"math"
	"net/url"
	"path/filepath"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
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
	// hovering over a process. It may be nil.
	Commands map[string]string
	// MaxRows bounds how many process rows the page draws, to keep pages
	// of large plans small: past it, the page draws the first half and
	// the last half of the rows, and between them one row that sums up
	// the others: how many, how they ended, and how many ran at each
	// moment. With MaxRows 0 or less, the bound is 200.
	MaxRows int
}

// WriteTimeline writes t to w as one self-contained HTML page, with
// inline CSS and SVG and a few lines of JavaScript that the page does not
// need to be read. Hovering over a bar, a marker or a step shows what it
// stands for.
func WriteTimeline(w io.Writer, t Timeline) error {
	page, err := tlBuildPage(t)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	if err := tlTemplate.Execute(bw, page); err != nil {
		return fmt.Errorf("proctest: timeline: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("proctest: timeline: %w", err)
	}
	return nil
}

// Limits that keep the page small whatever the plan.
const (
	tlDefaultRows = 200 // process rows drawn, unless Timeline.MaxRows says otherwise
	tlMaxRuns     = 40  // bars drawn in one row; the runs between are drawn as one
	tlMaxMarks    = 60  // markers drawn in one row
	tlMaxEvents   = 400 // events listed under the picture
	tlOpenEvents  = 60  // events up to which the list is open when the page opens
	tlMaxNameLen  = 22  // runes of a process name the label shows
	tlManySteps   = 150 // steps from which narrow ones are drawn together
	tlFewSteps    = 60  // steps up to which each has a tick and a line across the rows
)

// Layout of the picture, in pixels.
const (
	tlWidth    = 1140.0 // of the whole picture
	tlPlotX0   = 230.0  // where the time axis starts; process names are left of it
	tlPlotX1   = tlWidth - 24
	tlNumH     = 14.0 // height of a tier of steps' numbers, above their boxes
	tlLaneH    = 20.0 // height of the steps' boxes
	tlAxisH    = 18.0 // room for the labels of the time axis
	tlAggH     = 46.0 // height of the row that sums up rows not drawn
	tlMinBarW  = 2.0  // so that a process that lived no time is seen
	tlMinStepW = 4.0  // in plans of many steps, steps narrower than this are drawn together
	tlLabelGap = 58.0 // least distance between labels of the time axis
	tlTopAxis  = 24   // rows from which the time axis is drawn on top too
	tlCharW    = 6.6  // width of a character of a step's name, more or less
	tlDigitW   = 7.2  // width of a character of a step's number, more or less
)

// tlLayout holds the sizes of a picture's rows: roomy for a few, tighter
// for many.
type tlLayout struct {
	rowH, barH float64
}

var (
	tlRoomy = tlLayout{rowH: 30, barH: 16}
	tlTight = tlLayout{rowH: 22, barH: 12}
)

// tlRoomyRows is how many rows at most are drawn roomy.
const tlRoomyRows = 16

// tlOutcome is how a run of a process ended, which colours its bar.
type tlOutcome int

const (
	tlExit0   tlOutcome = iota // exited with code 0
	tlExitN                    // exited with another code
	tlSignal                   // ended by a signal
	tlStopped                  // stopped by the plan at its end
	tlRunning                  // still running at the end of the plan
	tlOutcomes
)

// tlOutcomeClass is the CSS class of each outcome's bars.
var tlOutcomeClass = [tlOutcomes]string{"ok", "code", "sig", "stop", "run"}

// tlOutcomeText says each outcome in words, as in the legend.
var tlOutcomeText = [tlOutcomes]string{"exit 0", "exit code ≠ 0", "ended by a signal", "stopped at the end", "running at the end"}

// tlRun is one run of a process: from a spawn event to an exit event.
type tlRun struct {
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
func (r *tlRun) outcome() tlOutcome {
	switch {
	case !r.ended:
		return tlRunning
	case r.stopped != "":
		return tlStopped
	case r.status != nil && r.status.Signal != 0:
		return tlSignal
	case r.status != nil && r.status.Code == 0:
		return tlExit0
	}
	return tlExitN
}

// tlMark is a marker on a process row.
type tlMark struct {
	kind string // "ready", "signal", "warn" or "left", as its CSS class
	at   time.Duration
	when time.Time
	text string
}

// tlProc is a process of the plan, a row of the picture.
type tlProc struct {
	name  string
	runs  []*tlRun
	marks []tlMark
}

// tlStep is a step of the plan.
type tlStep struct {
	num         int
	name, where string
	start, end  time.Duration
	startAt     time.Time
	ended       bool // end is known
	failed      bool
	failDetail  string
}

// tlPlan is what the events say about the plan.
type tlPlan struct {
	name     string
	start    time.Time // zero if the events have no times
	end      time.Duration
	procs    []*tlProc
	steps    []*tlStep
	fails    []Event
	warnings []Event // those about no process
	failed   bool
}

// tlReadEvents gathers what the events say about the plan.
func tlReadEvents(t Timeline) *tlPlan {
	p := &tlPlan{name: t.Plan, failed: t.Failed}
	byName := map[string]*tlProc{}
	proc := func(name string) *tlProc {
		pr := byName[name]
		if pr == nil {
			pr = &tlProc{name: name}
			byName[name] = pr
			p.procs = append(p.procs, pr)
		}
		return pr
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
			case EventSpawn, EventExit, EventStop, EventSignal, EventReady:
				continue // only listed
			}
		}
		switch ev.Kind {
		case EventStep:
			if n := len(p.steps); n > 0 && !p.steps[n-1].ended {
				p.steps[n-1].end, p.steps[n-1].ended = ev.Elapsed, true
			}
			p.steps = append(p.steps, &tlStep{num: ev.Step, name: ev.StepName, where: ev.Where, start: ev.Elapsed, startAt: ev.Time})
		case EventFail:
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
		case EventSpawn:
			pr := proc(ev.Proc)
			if n := len(pr.runs); n > 0 && !pr.runs[n-1].ended && pr.runs[n-1].end < 0 {
				// Started again without an exit: the last run ends here,
				// as far as the picture can tell.
				pr.runs[n-1].end, pr.runs[n-1].superseded = ev.Elapsed, true
			}
			pr.runs = append(pr.runs, &tlRun{pid: ev.Pid, goFunc: ev.Pid == 0 && ev.Detail != "",
				spawned: ev.Detail, start: ev.Elapsed, startAt: ev.Time, end: -1})
		case EventExit:
			pr := proc(ev.Proc)
			r := pr.open()
			if r == nil {
				// An exit without its spawn: a run of no length.
				r = &tlRun{pid: ev.Pid, start: ev.Elapsed, startAt: ev.Time}
				pr.runs = append(pr.runs, r)
			}
			r.end, r.endAt, r.ended, r.status, r.detail = ev.Elapsed, ev.Time, true, ev.Status, ev.Detail
		case EventStop:
			pr := proc(ev.Proc)
			if n := len(pr.runs); n > 0 && pr.runs[n-1].pid == ev.Pid {
				pr.runs[n-1].stopped = ev.Detail
				if pr.runs[n-1].stopped == "" {
					pr.runs[n-1].stopped = "stopped by the plan"
				}
			} else {
				pr.marks = append(pr.marks, tlMark{kind: "left", at: ev.Elapsed, when: ev.Time,
					text: tlJoin("stop", tlProcLabel(ev.Proc, ev.Pid), ev.Detail)})
			}
		case EventSignal:
			proc(ev.Proc).marks = append(proc(ev.Proc).marks, tlMark{kind: "signal", at: ev.Elapsed, when: ev.Time,
				text: tlJoin("signal to "+tlProcLabel(ev.Proc, ev.Pid), ev.Detail)})
		case EventReady:
			proc(ev.Proc).marks = append(proc(ev.Proc).marks, tlMark{kind: "ready", at: ev.Elapsed, when: ev.Time,
				text: tlJoin("ready: "+tlProcLabel(ev.Proc, ev.Pid), ev.Detail)})
		case EventWarning:
			if ev.Proc == "" {
				p.warnings = append(p.warnings, ev)
				break
			}
			proc(ev.Proc).marks = append(proc(ev.Proc).marks, tlMark{kind: "warn", at: ev.Elapsed, when: ev.Time,
				text: tlJoin("warning: "+tlProcLabel(ev.Proc, ev.Pid), ev.Detail)})
		case EventPlanEnd:
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
	return p
}

// open returns the process's run that has not ended, or nil.
func (pr *tlProc) open() *tlRun {
	if n := len(pr.runs); n > 0 && !pr.runs[n-1].ended && pr.runs[n-1].end < 0 {
		return pr.runs[n-1]
	}
	return nil
}

// The page's data, as the template reads it.
type (
	tlPage struct {
		Title      string
		Failed     bool
		Verdict    string // "failed", "passed", or "" with no events
		Duration   string
		Started    string // in the events' time zone
		StartedISO string // for the script to show it in the reader's
		Counts     string
		Failures   []tlFailure
		Warnings   []string
		LogDir     string
		LogDirHref template.URL
		Legend     []tlLegendItem
		Picture    tlPicture
		Events     []tlEventLine
		NumEvents  int
		EventsOpen bool // the list of events is shown, not only its summary
	}
	tlFailure struct {
		Step   string
		Detail string
	}
	tlLegendItem struct {
		Class, Text string
	}
	tlEventLine struct {
		Class, Text string
	}
	tlPicture struct {
		Width, Height    float64
		PlotX0, PlotX1   float64
		LaneY, LaneH     float64
		GridY0, GridY1   float64
		TopAxisY, AxisY  float64 // baselines of the axis labels; TopAxisY 0 for none
		Ticks            []tlTick
		Steps            []tlStepBox
		StepLines        []float64
		Fail             *tlBand
		Rows             []tlRowView
		Empty            string // said in place of rows when there are none
		EmptyY           float64
		RowLabelX, LinkX float64
		LinkErrX         float64
	}
	tlTick struct {
		X     float64
		Label string
	}
	tlStepBox struct {
		X, W, TextX float64
		Class       string
		Label       string // the step's name, inside its box
		LabelClass  string
		Num         string // the step's number, above its box
		NumX, NumY  float64
		NumClass    string
		TickY       float64 // where its tick starts; it ends at the box
		tier        int     // of numbers: 0 is next to the boxes
		Tick        bool    // a tick marks the step's start above its box
		Title       string
	}
	tlBand struct {
		X, W, H, LineX float64
		Title          string
	}
	tlRowView struct {
		Y, H, Mid  float64
		Class      string
		Name       string
		Title      string
		Out, Err   template.URL
		Bars       []tlBarView
		Exits      []tlBarView
		Marks      []tlMarkView
		Aggregate  *tlAggView
		BarY, BarH float64
	}
	tlBarView struct {
		X, W  float64
		Class string
		Title string
	}
	tlMarkView struct {
		Kind  string
		X     float64
		Title string
	}
	tlAggView struct {
		Path    string
		Label   string
		Summary string // said over the shape
		TextY   float64
		Title   string
	}
)

// tlBuildPage lays out the page for t.
func tlBuildPage(t Timeline) (*tlPage, error) {
	links, err := tlLinker(t)
	if err != nil {
		return nil, err
	}
	p := tlReadEvents(t)
	pg := &tlPage{Title: p.name, Failed: p.failed, NumEvents: len(t.Events), EventsOpen: len(t.Events) <= tlOpenEvents}
	if pg.Title == "" {
		pg.Title = "plan"
	}
	switch {
	case p.failed:
		pg.Verdict = "failed"
	case len(t.Events) > 0:
		pg.Verdict = "passed"
	}
	pg.Duration = tlDuration(p.end)
	if !p.start.IsZero() {
		pg.Started = p.start.Format("2006-01-02 15:04:05 MST")
		pg.StartedISO = p.start.Format(time.RFC3339Nano)
	}
	pg.Counts = fmt.Sprintf("%s · %s · %s", tlPlural(len(p.procs), "process", "processes"),
		tlPlural(len(p.steps), "step", "steps"), tlPlural(len(t.Events), "event", "events"))
	for _, f := range p.fails {
		step := fmt.Sprintf("step %d", f.Step)
		if f.StepName != "" {
			step += ", " + f.StepName
		}
		for _, s := range p.steps {
			if s.num == f.Step && s.where != "" {
				step += " (" + s.where + ")"
				break
			}
		}
		pg.Failures = append(pg.Failures, tlFailure{Step: step, Detail: f.Detail})
	}
	for _, w := range p.warnings {
		pg.Warnings = append(pg.Warnings, fmt.Sprintf("+%.3fs %s", w.Elapsed.Seconds(), w.Detail))
	}
	if t.LogDir != "" {
		pg.LogDir = t.LogDir
		pg.LogDirHref = links("")
	}
	for o := range tlOutcomes {
		pg.Legend = append(pg.Legend, tlLegendItem{Class: tlOutcomeClass[o], Text: tlOutcomeText[o]})
	}
	head, tail, _ := tlEnds(t.Events, tlMaxEvents)
	for _, ev := range head {
		pg.Events = append(pg.Events, tlEventLine{Class: "ev-" + string(ev.Kind), Text: ev.String()})
	}
	if len(tail) > 0 {
		pg.Events = append(pg.Events, tlEventLine{Class: "ev-gap",
			Text: fmt.Sprintf("… %d events not listed …", len(t.Events)-len(head)-len(tail))})
		for _, ev := range tail {
			pg.Events = append(pg.Events, tlEventLine{Class: "ev-" + string(ev.Kind), Text: ev.String()})
		}
	}
	maxRows := t.MaxRows
	if maxRows <= 0 {
		maxRows = tlDefaultRows
	}
	pg.Picture = tlDraw(p, t.Commands, links, maxRows)
	return pg, nil
}

// tlLinker returns the function that makes the link to a log file of t
// ("" for the log directory itself), or that returns "" when t has no
// log directory.
func tlLinker(t Timeline) (func(file string) template.URL, error) {
	if t.LogDir == "" {
		return func(string) template.URL { return "" }, nil
	}
	if t.LinkBase != "" {
		u, err := url.Parse(t.LinkBase)
		if err != nil {
			return nil, fmt.Errorf("proctest: timeline: link base %q: %v", t.LinkBase, err)
		}
		switch strings.ToLower(u.Scheme) {
		case "", "file", "http", "https":
		default:
			return nil, fmt.Errorf("proctest: timeline: link base %q: scheme %q not allowed", t.LinkBase, u.Scheme)
		}
		base := strings.TrimSuffix(t.LinkBase, "/") + "/"
		return func(file string) template.URL {
			return template.URL(base + url.PathEscape(file))
		}, nil
	}
	dir, err := filepath.Abs(t.LogDir)
	if err != nil {
		return nil, fmt.Errorf("proctest: timeline: log directory: %v", err)
	}
	return func(file string) template.URL {
		u := url.URL{Scheme: "file", Path: filepath.ToSlash(filepath.Join(dir, file))}
		if file == "" {
			u.Path += "/"
		}
		return template.URL(u.String())
	}, nil
}

// tlScale maps times from the start of the plan to x coordinates.
type tlScale struct {
	span time.Duration
}

func (s tlScale) x(d time.Duration) float64 {
	return tlPlotX0 + (tlPlotX1-tlPlotX0)*float64(d)/float64(s.span)
}

// tlDraw lays out the picture of plan p, drawing at most maxRows rows.
func tlDraw(p *tlPlan, commands map[string]string, link func(string) template.URL, maxRows int) tlPicture {
	sc := tlScale{span: max(p.end, time.Millisecond)}
	pic := tlPicture{
		Width: tlWidth, PlotX0: tlPlotX0, PlotX1: tlPlotX1, LaneH: tlLaneH,
		RowLabelX: 8, LinkX: tlPlotX0 - 52, LinkErrX: tlPlotX0 - 28,
	}
	var tiers int
	pic.Steps, pic.StepLines, tiers = tlDrawSteps(p.steps, sc)
	pic.LaneY = 8 + tlNumH*float64(tiers)
	for i := range pic.Steps {
		b := &pic.Steps[i]
		b.NumY = pic.LaneY - 5 - tlNumH*float64(b.tier)
		b.TickY = pic.LaneY - tlNumH*float64(b.tier+1)
	}
	head, tail, hidden := tlEnds(p.procs, maxRows)
	ly := tlTight
	if len(head)+len(tail) <= tlRoomyRows {
		ly = tlRoomy
	}
	y := pic.LaneY + tlLaneH + 4
	if len(head)+len(tail) >= tlTopAxis {
		pic.TopAxisY = y + 12
		y += tlAxisH
	}
	pic.GridY0 = pic.LaneY
	for i, pr := range head {
		pic.Rows = append(pic.Rows, tlDrawRow(pr, i, y, ly, sc, commands, link))
		y += ly.rowH
	}
	if hidden > 0 {
		agg := tlDrawAggregate(p.procs[len(head):len(p.procs)-len(tail)], y, sc)
		pic.Rows = append(pic.Rows, agg)
		y += agg.H
		for i, pr := range tail {
			pic.Rows = append(pic.Rows, tlDrawRow(pr, len(head)+1+i, y, ly, sc, commands, link))
			y += ly.rowH
		}
	}
	if len(p.procs) == 0 {
		pic.Empty = "no process was started"
		if len(p.steps) == 0 && p.end == 0 {
			pic.Empty = "the plan recorded no events"
		}
		pic.EmptyY = y + 18
		y += ly.rowH
	}
	pic.GridY1 = y
	pic.AxisY = y + 14
	pic.Height = y + tlAxisH + 4
	pic.Ticks = tlTicks(sc)
	for _, s := range p.steps {
		if !s.failed {
			continue
		}
		x0, x1 := sc.x(s.start), sc.x(s.end)
		w := max(x1-x0, 3)
		pic.Fail = &tlBand{X: x0, W: w, H: pic.GridY1 - pic.GridY0, LineX: x0 + w,
			Title: tlLines(fmt.Sprintf("step %d failed: %s", s.num, s.name), s.where,
				fmt.Sprintf("from +%.3fs to +%.3fs", s.start.Seconds(), s.end.Seconds()), s.failDetail)}
	}
	return pic
}

// tlDrawRow lays out the row of process pr, the i-th row, at y.
func tlDrawRow(pr *tlProc, i int, y float64, ly tlLayout, sc tlScale, commands map[string]string, link func(string) template.URL) tlRowView {
	row := tlRowView{Y: y, H: ly.rowH, Mid: y + ly.rowH/2, BarY: y + (ly.rowH-ly.barH)/2, BarH: ly.barH,
		Class: "row", Name: tlShorten(pr.name, tlMaxNameLen)}
	if i%2 == 1 {
		row.Class = "row alt"
	}
	row.Out, row.Err = link(pr.name+".stdout"), link(pr.name+".stderr")
	var pids []string
	for _, r := range pr.runs {
		if r.pid != 0 {
			pids = append(pids, fmt.Sprint(r.pid))
		}
	}
	title := []string{pr.name}
	if phead, ptail, left := tlEnds(pids, 6); left > 0 {
		title = append(title, fmt.Sprintf("pid %s, then %d more, then %s",
			strings.Join(phead, ", then "), left, strings.Join(ptail, ", then ")))
	} else if len(pids) > 0 {
		title = append(title, "pid "+strings.Join(pids, ", then "))
	}
	if c := commands[pr.name]; c != "" {
		title = append(title, "command: "+c)
	}
	if len(pr.runs) > 1 {
		title = append(title, fmt.Sprintf("started %d times", len(pr.runs)))
	}
	if row.Out != "" {
		title = append(title, "logs: "+pr.name+".stdout, "+pr.name+".stderr")
	}
	row.Title = strings.Join(title, "\n")

	head, tail, hidden := tlEnds(pr.runs, tlMaxRuns)
	addRun := func(n int, r *tlRun) {
		x0, x1 := sc.x(r.start), sc.x(r.end)
		bar := tlBarView{X: x0, W: max(x1-x0, tlMinBarW), Class: "bar " + tlOutcomeClass[r.outcome()],
			Title: tlRunTitle(pr.name, commands[pr.name], n, len(pr.runs), r)}
		row.Bars = append(row.Bars, bar)
		if r.ended {
			status := "status unknown"
			if r.status != nil {
				status = r.status.String()
			}
			row.Exits = append(row.Exits, tlBarView{X: bar.X + bar.W,
				Title: fmt.Sprintf("%s: %s at %s", tlProcLabel(pr.name, r.pid), status, tlAt(r.end, r.endAt))})
		}
	}
	for n, r := range head {
		addRun(n+1, r)
	}
	if hidden > 0 {
		mid := pr.runs[len(head) : len(pr.runs)-len(tail)]
		first, last := mid[0], mid[len(mid)-1]
		x0, x1 := sc.x(first.start), sc.x(last.end)
		row.Bars = append(row.Bars, tlBarView{X: x0, W: max(x1-x0, tlMinBarW), Class: "bar many",
			Title: fmt.Sprintf("%s: %d more runs, not drawn one by one, from +%.3fs to +%.3fs\n%s",
				pr.name, hidden, first.start.Seconds(), last.end.Seconds(), tlOutcomeCounts(mid))})
		for n, r := range tail {
			addRun(len(pr.runs)-len(tail)+n+1, r)
		}
	}
	mhead, mtail, _ := tlEnds(pr.marks, tlMaxMarks)
	for _, m := range append(mhead, mtail...) {
		row.Marks = append(row.Marks, tlMarkView{Kind: m.kind, X: sc.x(m.at), Title: tlLines(m.text, tlAt(m.at, m.when))})
	}
	return row
}

// tlRunTitle describes the n-th of total runs of the process name.
func tlRunTitle(name, command string, n, total int, r *tlRun) string {
	head := tlProcLabel(name, r.pid)
	if r.goFunc {
		head += ", Go function"
	}
	if total > 1 {
		head += fmt.Sprintf(", run %d of %d", n, total)
	}
	lines := []string{head}
	if command != "" {
		lines = append(lines, "command: "+command)
	}
	started := "started " + tlAt(r.start, r.startAt)
	if r.spawned != "" && !r.goFunc {
		started += ": " + r.spawned
	}
	lines = append(lines, started)
	switch {
	case r.ended:
		end := "ended " + tlAt(r.end, r.endAt) + ", after " + tlDuration(r.end-r.start)
		status := "status unknown"
		if r.status != nil {
			status = r.status.String()
		}
		lines = append(lines, end, status)
		if r.stopped != "" {
			lines = append(lines, "the plan stopped it at its end: "+r.stopped)
		}
	case r.superseded:
		lines = append(lines, fmt.Sprintf("no exit recorded before it started again at +%.3fs", r.end.Seconds()))
	default:
		lines = append(lines, fmt.Sprintf("still running at +%.3fs, the end of the plan", r.end.Seconds()))
		if r.stopped != "" {
			lines = append(lines, r.stopped)
		}
	}
	if r.detail != "" {
		lines = append(lines, r.detail)
	}
	return strings.Join(lines, "\n")
}

// tlDrawAggregate lays out the row that stands for the processes procs,
// not drawn one by one, at y: how many ran at each moment.
func tlDrawAggregate(procs []*tlProc, y float64, sc tlScale) tlRowView {
	row := tlRowView{Y: y, H: tlAggH, Mid: y + tlAggH/2, Class: "row agg"}
	cols := int(tlPlotX1 - tlPlotX0)
	diff := make([]int, cols+2)
	var runs []*tlRun
	for _, pr := range procs {
		for _, r := range pr.runs {
			runs = append(runs, r)
			c0 := int(sc.x(r.start) - tlPlotX0)
			c1 := int(sc.x(r.end) - tlPlotX0)
			c0, c1 = min(max(c0, 0), cols), min(max(c1, c0), cols)
			diff[c0]++
			diff[c1+1]--
		}
	}
	running := make([]int, cols+1)
	peak, n := 0, 0
	for c := 0; c <= cols; c++ {
		n += diff[c]
		running[c] = n
		peak = max(peak, n)
	}
	top, h := y+6, tlAggH-12
	var d strings.Builder
	fmt.Fprintf(&d, "M%s,%s", tlNum(tlPlotX0), tlNum(top+h))
	prev := 0
	for c, n := range running {
		if n != prev {
			fmt.Fprintf(&d, "H%sV%s", tlNum(tlPlotX0+float64(c)), tlNum(top+h-h*float64(n)/float64(peak)))
			prev = n
		}
	}
	fmt.Fprintf(&d, "H%sV%sZ", tlNum(tlPlotX0+float64(cols)), tlNum(top+h))
	label := fmt.Sprintf("… %d more", len(procs))
	row.Aggregate = &tlAggView{Path: d.String(), Label: label, TextY: y + 17,
		Summary: fmt.Sprintf("%s not drawn one by one: %s", tlPlural(len(procs), "process", "processes"), tlOutcomeCounts(runs)),
		Title: tlLines(fmt.Sprintf("%s not drawn one by one, with %s", tlPlural(len(procs), "process", "processes"),
			tlPlural(len(runs), "run", "runs")), tlOutcomeCounts(runs),
			fmt.Sprintf("the shape is how many of them ran at each moment: at most %d at once", peak))}
	row.Name = label
	row.Title = row.Aggregate.Title
	return row
}

// tlOutcomeCounts says how the runs ended, as in "9 exit 0, 1 ended by a
// signal".
func tlOutcomeCounts(runs []*tlRun) string {
	var n [tlOutcomes]int
	for _, r := range runs {
		n[r.outcome()]++
	}
	var parts []string
	for o, c := range n {
		if c > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", c, tlOutcomeText[o]))
		}
	}
	return strings.Join(parts, ", ")
}

// tlDrawSteps lays out the steps lane: a box per step, from its start to
// the next one's, with the step's name inside when it fits, and its
// number above, at a tick, in the first of two tiers where it does not
// overlap another's. The failing step's number is placed first, then
// those of the widest steps. In a plan of many steps, steps too narrow
// to be seen apart are drawn as one box. It also returns where faint
// lines mark the steps' starts across the rows, when they are few enough
// not to clutter the picture, and how many tiers of numbers are used.
func tlDrawSteps(steps []*tlStep, sc tlScale) (boxes []tlStepBox, lines []float64, tiers int) {
	var failed []bool
	var group []*tlStep
	flush := func() {
		if len(group) == 0 {
			return
		}
		first, last := group[0], group[len(group)-1]
		x0, x1 := sc.x(first.start), sc.x(last.end)
		b := tlStepBox{X: x0, W: max(x1-x0, 1), TextX: x0 + 4, LabelClass: "steplabel", NumClass: "stepnum"}
		span := fmt.Sprintf("+%.3fs to +%.3fs", first.start.Seconds(), last.end.Seconds())
		switch {
		case len(group) == 1 && first.failed:
			b.Class, b.LabelClass, b.NumClass = "step failed", "steplabel failed", "stepnum failed"
			b.Title = tlLines(fmt.Sprintf("step %d: %s — FAILED", first.num, first.name), first.where, span, first.failDetail)
			b.Label = tlFit("✕ "+first.name, b.W, "✕")
			b.Num = fmt.Sprintf("✕ %d", first.num)
		case len(group) == 1:
			b.Class = fmt.Sprintf("step s%d", len(boxes)%2)
			b.Title = tlLines(fmt.Sprintf("step %d: %s", first.num, first.name), first.where, span)
			b.Label = tlFit(first.name, b.W, "")
			b.Num = fmt.Sprint(first.num)
		default:
			b.Class = "step many"
			lines := []string{fmt.Sprintf("steps %d to %d, %s", first.num, last.num, span)}
			for i, s := range group {
				if i == 3 && len(group) > 4 {
					lines = append(lines, fmt.Sprintf("… %d more", len(group)-4))
					s = last
				} else if i > 3 && i < len(group)-1 {
					continue
				}
				lines = append(lines, tlJoin(fmt.Sprintf("%d: %s", s.num, s.name), s.where))
			}
			b.Title = strings.Join(lines, "\n")
			b.Num = fmt.Sprintf("%d–%d", first.num, last.num)
		}
		boxes = append(boxes, b)
		failed = append(failed, len(group) == 1 && first.failed)
		group = group[:0]
	}
	for _, s := range steps {
		if len(group) > 0 {
			first := group[0]
			narrow := len(steps) >= tlManySteps && sc.x(s.start)-sc.x(first.start) < tlMinStepW
			if !narrow || s.failed || first.failed {
				flush()
			}
		}
		group = append(group, s)
	}
	flush()

	// Place the numbers.
	order := make([]int, len(boxes))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(i, j int) bool {
		a, b := order[i], order[j]
		if failed[a] != failed[b] {
			return failed[a]
		}
		return math.Round(boxes[a].W) > math.Round(boxes[b].W)
	})
	tiers = 1
	var taken [2][][2]float64 // the spans of the numbers placed, by tier
	for _, i := range order {
		b := &boxes[i]
		x0 := b.X + 2
		x1 := x0 + float64(utf8.RuneCountInString(b.Num))*tlDigitW + 6
		if x1 > tlWidth {
			x0, x1 = tlWidth-(x1-x0), tlWidth
		}
		placed := false
		for tier := range taken {
			free := true
			for _, t := range taken[tier] {
				if x0 < t[1] && t[0] < x1 {
					free = false
					break
				}
			}
			if free {
				taken[tier] = append(taken[tier], [2]float64{x0, x1})
				b.NumX, b.tier, placed = x0, tier, true
				tiers = max(tiers, tier+1)
				break
			}
		}
		if !placed {
			b.Num = ""
		}
		b.Tick = placed || len(boxes) <= tlFewSteps
	}

	if len(boxes) <= tlFewSteps {
		for _, b := range boxes[min(1, len(boxes)):] {
			lines = append(lines, b.X)
		}
	}
	return boxes, lines, tiers
}

// tlTicks returns the labelled ticks of the time axis.
func tlTicks(sc tlScale) []tlTick {
	perTick := float64(sc.span) * tlLabelGap / (tlPlotX1 - tlPlotX0)
	step := time.Duration(1)
	for i := 0; float64(step) < perTick; i++ {
		if i%3 == 1 {
			step = step / 2 * 5 // 2 × 10ⁿ to 5 × 10ⁿ
		} else {
			step *= 2 // 1 to 2, 5 to 10, × 10ⁿ
		}
	}
	var ticks []tlTick
	for d := time.Duration(0); d <= sc.span; d += step {
		label := d.String()
		if d == 0 {
			label = "0"
		}
		ticks = append(ticks, tlTick{X: sc.x(d), Label: label})
	}
	return ticks
}

// tlEnds returns the first and last of s, n of them in all, and how many
// are left out between; all of s as head when it has no more than n.
func tlEnds[T any](s []T, n int) (head, tail []T, left int) {
	if len(s) <= n {
		return s, nil, 0
	}
	h := (n + 1) / 2
	return s[:h], s[len(s)-(n-h):], len(s) - n
}

// tlAt formats a moment of the plan: "+1.234s (15:04:05.678)".
func tlAt(d time.Duration, when time.Time) string {
	s := fmt.Sprintf("+%.3fs", d.Seconds())
	if !when.IsZero() {
		s += " (" + when.Format("15:04:05.000") + ")"
	}
	return s
}

// tlDuration formats a length of time to the millisecond, or finer when
// it is shorter.
func tlDuration(d time.Duration) string {
	if d >= time.Millisecond {
		return d.Round(time.Millisecond).String()
	}
	return d.String()
}

// tlProcLabel returns "name (pid N)", or the name alone without a pid.
func tlProcLabel(name string, pid int) string {
	if pid == 0 {
		return name
	}
	return fmt.Sprintf("%s (pid %d)", name, pid)
}

// tlJoin joins the parts that are not empty with ": ".
func tlJoin(parts ...string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, ": ")
}

// tlLines joins the lines that are not empty with newlines.
func tlLines(lines ...string) string {
	var out []string
	for _, l := range lines {
		if l != "" {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// tlPlural returns "1 process" or "2 processes".
func tlPlural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// tlShorten cuts s to n runes, ending it with "…" if it was longer.
func tlShorten(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

// tlFit returns label, cut to fit a box w pixels wide, or short if even
// a cut label would not be read, or "" if short does not fit either.
func tlFit(label string, w float64, short string) string {
	const pad, least = 8.0, 4
	fits := int((w - pad) / tlCharW)
	switch {
	case utf8.RuneCountInString(label) <= fits:
		return label
	case fits >= utf8.RuneCountInString(short)+least:
		return tlShorten(label, fits)
	case short != "" && utf8.RuneCountInString(short) <= fits:
		return short
	}
	return ""
}

// tlNum formats a coordinate.
func tlNum(f float64) string {
	s := fmt.Sprintf("%.1f", f)
	return strings.TrimSuffix(s, ".0")
}

var tlTemplate = template.Must(template.New("timeline").Funcs(template.FuncMap{
	"n":   tlNum,
	"add": func(a, b float64) float64 { return a + b },
}).Parse(tlPageHTML))

// tlPageHTML is the page's template.
const tlPageHTML = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} — timeline</title>
<style>
:root { color-scheme: light; --ok: #2f9e5b; --code: #e0752d; --sig: #8b5fc7; --stop: #7f8da0; --fail: #d63a3a; --ink: #1d232b; --muted: #5d6775; }
body { margin: 16px 20px 0; color: var(--ink); background: #fff;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Liberation Sans", "DejaVu Sans", sans-serif; }
h1 { font-size: 20px; margin: 0 0 2px; font-weight: 650; }
.badge { display: inline-block; vertical-align: 2px; margin-left: 8px; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 600; color: #fff; }
.badge.failed { background: var(--fail); }
.badge.passed { background: var(--ok); }
.meta { margin: 0; color: var(--muted); }
.meta a { color: #2a62c9; }
.failure { margin: 10px 0 0; padding: 6px 10px; border-left: 4px solid var(--fail); background: #fdf1f1; }
.failure pre, .events { font: 12.5px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", "DejaVu Sans Mono", monospace; }
.failure pre { margin: 2px 0 0; white-space: pre-wrap; }
.warning { margin: 6px 0 0; padding: 4px 10px; border-left: 4px solid #e0a800; background: #fff8e1; }
.legend { display: flex; flex-wrap: wrap; align-items: center; gap: 4px 18px; margin: 12px 0 6px; font-size: 13px; color: #333; }
.legend svg { vertical-align: -2px; margin-right: 3px; }
.legend .hint { color: var(--muted); }
.chart { overflow-x: auto; }
svg.tl { display: block; }
svg.tl text { font-size: 12px; fill: var(--ink); }
.row { fill: #fff; }
.row.alt { fill: #f3f5f8; }
.row.agg { fill: #eef1f6; }
.agg { fill: #9fb0c7; }
svg.tl text.name { font-size: 13px; }
svg.tl text.more { fill: var(--muted); font-style: italic; }
svg.tl text.aggtext { font-size: 12px; fill: #3d4a5c; paint-order: stroke; stroke: #eef1f6; stroke-width: 3px; }
svg.tl text.log { font-size: 11px; fill: #2a62c9; text-decoration: underline; }
svg.tl a:hover text.log { fill: #123f91; }
svg.tl text.lane { fill: var(--muted); font-size: 11px; letter-spacing: .04em; text-transform: uppercase; }
svg.tl text.tick { font-size: 11px; fill: var(--muted); text-anchor: middle; }
svg.tl text.empty { fill: var(--muted); font-style: italic; }
.grid { stroke: #e2e6eb; }
.axis { stroke: #9aa4b1; }
.stepline { stroke: #c3ccd8; stroke-dasharray: 2 3; }
.step.s0 { fill: #e2eaf5; }
.step.s1 { fill: #cfdbec; }
.step.many { fill: #b8c8de; }
.step.failed { fill: var(--fail); }
svg.tl text.steplabel { font-size: 11px; fill: #233a59; }
svg.tl text.steplabel.failed { fill: #fff; font-weight: 700; }
svg.tl text.stepnum { font-size: 11px; fill: #233a59; font-weight: 600; }
svg.tl text.stepnum.failed { fill: var(--fail); font-weight: 700; }
.steptick { stroke: #8fa0b6; }
.failband { fill: var(--fail); fill-opacity: .09; }
.failline { stroke: var(--fail); stroke-width: 1.5; stroke-dasharray: 4 3; }
.bar { stroke: rgba(0, 0, 0, .18); stroke-width: 1; }
.bar.ok { fill: var(--ok); }
.bar.code { fill: var(--code); }
.bar.sig { fill: var(--sig); }
.bar.stop { fill: var(--stop); }
.bar.run { fill: url(#tl-hatch); stroke: var(--stop); }
.bar.many { fill: #c4ccd6; stroke-dasharray: 3 2; }
.bar:hover, .mk:hover, .step:hover { stroke: #000; stroke-width: 1.5; }
.exit { stroke: var(--ink); stroke-width: 2; }
.mk.ready { fill: #fff; stroke: #0f5c32; stroke-width: 2; }
.mk.signal { fill: #c0262d; stroke: #fff; stroke-width: 1; }
.mk.warn { fill: #f2b01e; stroke: #6b4a00; stroke-width: 1; }
.mk.left { fill: none; stroke: #c0262d; stroke-width: 2.5; }
#info { position: sticky; bottom: 0; margin: 8px 0 0; padding: 5px 10px; min-height: 1.45em; white-space: pre-wrap;
  background: #fffbea; border: 1px solid #eadfa8; font-size: 13px; }
details { margin: 14px 0 20px; }
summary { cursor: pointer; color: var(--muted); }
.events { margin-top: 6px; white-space: pre-wrap; }
.ev-fail { color: var(--fail); font-weight: 600; }
.ev-warning { color: #8a5a00; }
.ev-step { color: #233a59; }
.ev-gap { color: var(--muted); font-style: italic; }
</style>
</head>
<body>
<header>
<h1>{{.Title}}{{if .Verdict}} <span class="badge {{.Verdict}}">{{.Verdict}}</span>{{end}}</h1>
<p class="meta">{{.Duration}} · {{.Counts}}
{{- if .Started}} · started <time id="started" datetime="{{.StartedISO}}">{{.Started}}</time>{{end}}
{{- if .LogDir}} · logs in <a href="{{.LogDirHref}}">{{.LogDir}}</a>{{end}}</p>
</header>
{{range .Failures}}<div class="failure"><b>Failed at {{.Step}}</b>{{if .Detail}}<pre>{{.Detail}}</pre>{{end}}</div>
{{else}}{{if .Failed}}<div class="failure"><b>The plan failed after its steps</b>: see its events below.</div>
{{end}}{{end}}
{{- range .Warnings}}<div class="warning">warning: {{.}}</div>
{{end -}}
<div class="legend">
{{- range .Legend}}
<span><svg width="24" height="12" aria-hidden="true"><rect class="bar {{.Class}}" x="1" y="1" width="22" height="10" rx="2"/></svg>{{.Text}}</span>
{{- end}}
<span><svg width="14" height="14" aria-hidden="true"><circle class="mk ready" cx="7" cy="7" r="4"/></svg>ready</span>
<span><svg width="14" height="14" aria-hidden="true"><path class="mk signal" transform="translate(7 9)" d="M-5,-6H5L0,2Z"/></svg>signal sent</span>
<span><svg width="8" height="16" aria-hidden="true"><line class="exit" x1="4" x2="4" y1="1" y2="15"/></svg>exit</span>
<span><svg width="24" height="14" aria-hidden="true"><rect class="failband" x="1" y="1" width="22" height="12" style="fill-opacity:.25"/></svg>failing step</span>
<span class="hint">Hover over a bar, marker or step for details.</span>
</div>
{{with .Picture}}<div class="chart">
<svg id="tl" class="tl" xmlns="http://www.w3.org/2000/svg" width="{{n .Width}}" height="{{n .Height}}" viewBox="0 0 {{n .Width}} {{n .Height}}" role="img" aria-label="timeline of the plan's processes">
<defs><pattern id="tl-hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#e1e6ec"/><rect width="2.5" height="6" fill="#a5b1c0"/></pattern></defs>
{{- $w := .Width}}
{{range .Rows}}<rect class="{{.Class}}" x="0" y="{{n .Y}}" width="{{n $w}}" height="{{n .H}}"/>
{{end -}}
{{- $p := .}}
{{- range .Ticks}}<line class="grid" x1="{{n .X}}" x2="{{n .X}}" y1="{{n $p.GridY0}}" y2="{{n $p.GridY1}}"/>
{{end -}}
{{- range .StepLines}}<line class="stepline" x1="{{n .}}" x2="{{n .}}" y1="{{n (add $p.LaneY $p.LaneH)}}" y2="{{n $p.GridY1}}"/>
{{end -}}
{{- with .Fail}}<g><title>{{.Title}}</title><rect class="failband" x="{{n .X}}" y="{{n $p.GridY0}}" width="{{n .W}}" height="{{n .H}}"/><line class="failline" x1="{{n .LineX}}" x2="{{n .LineX}}" y1="{{n $p.GridY0}}" y2="{{n $p.GridY1}}"/></g>
{{end -}}
<text class="lane" x="8" y="{{n (add .LaneY 14)}}">steps</text>
{{range .Steps}}<g><title>{{.Title}}</title>
{{- if .Tick}}<line class="steptick" x1="{{n .X}}" x2="{{n .X}}" y1="{{n .TickY}}" y2="{{n $p.LaneY}}"/>{{end}}
{{- if .Num}}<text class="{{.NumClass}}" x="{{n .NumX}}" y="{{n .NumY}}">{{.Num}}</text>{{end -}}
<rect class="{{.Class}}" x="{{n .X}}" y="{{n $p.LaneY}}" width="{{n .W}}" height="{{n $p.LaneH}}" rx="2"/>
{{- if .Label}}<text class="{{.LabelClass}}" x="{{n .TextX}}" y="{{n (add $p.LaneY 14)}}">{{.Label}}</text>{{end}}</g>
{{end -}}
{{- if .TopAxisY}}{{range .Ticks}}<text class="tick" x="{{n .X}}" y="{{n $p.TopAxisY}}">{{.Label}}</text>
{{end}}{{end -}}
{{- range .Rows}}{{$r := .}}<g class="proc">
{{- if .Aggregate}}<title>{{.Title}}</title><path class="agg" d="{{.Aggregate.Path}}"/><text class="name more" x="{{n $p.RowLabelX}}" y="{{n (add .Mid 4)}}">{{.Name}}</text>
{{- with .Aggregate}}<text class="aggtext" x="{{n (add $p.PlotX0 6)}}" y="{{n .TextY}}">{{.Summary}}</text>{{end}}
{{- else}}<text class="name" x="{{n $p.RowLabelX}}" y="{{n (add .Mid 4.5)}}"><title>{{.Title}}</title>{{.Name}}</text>
{{- if .Out}}<a href="{{.Out}}"><title>standard output</title><text class="log" x="{{n $p.LinkX}}" y="{{n (add .Mid 4)}}">out</text></a><a href="{{.Err}}"><title>standard error</title><text class="log" x="{{n $p.LinkErrX}}" y="{{n (add .Mid 4)}}">err</text></a>{{end}}
{{- range .Bars}}
<rect class="{{.Class}}" x="{{n .X}}" y="{{n $r.BarY}}" width="{{n .W}}" height="{{n $r.BarH}}" rx="2"><title>{{.Title}}</title></rect>
{{- end}}
{{- range .Exits}}
<line class="exit" x1="{{n .X}}" x2="{{n .X}}" y1="{{n (add $r.BarY -3)}}" y2="{{n (add $r.BarY (add $r.BarH 3))}}"><title>{{.Title}}</title></line>
{{- end}}
{{- range .Marks}}
{{if eq .Kind "ready"}}<circle class="mk ready" cx="{{n .X}}" cy="{{n $r.Mid}}" r="4"><title>{{.Title}}</title></circle>
{{- else if eq .Kind "signal"}}<path class="mk signal" transform="translate({{n .X}} {{n (add $r.BarY 1)}})" d="M-5,-6H5L0,2Z"><title>{{.Title}}</title></path>
{{- else if eq .Kind "warn"}}<path class="mk warn" transform="translate({{n .X}} {{n $r.Mid}})" d="M0,-6L6,5H-6Z"><title>{{.Title}}</title></path>
{{- else}}<path class="mk left" transform="translate({{n .X}} {{n $r.Mid}})" d="M-4,-4L4,4M4,-4L-4,4"><title>{{.Title}}</title></path>{{end}}
{{- end}}
{{- end}}</g>
{{end -}}
{{- if .Empty}}<text class="empty" x="{{n .PlotX0}}" y="{{n .EmptyY}}">{{.Empty}}</text>
{{end -}}
<line class="axis" x1="{{n .PlotX0}}" x2="{{n .PlotX1}}" y1="{{n .GridY1}}" y2="{{n .GridY1}}"/>
<text class="lane" x="8" y="{{n .AxisY}}">time →</text>
{{range .Ticks}}<text class="tick" x="{{n .X}}" y="{{n $p.AxisY}}">{{.Label}}</text>
{{end -}}
</svg>
</div>{{end}}
<div id="info" hidden></div>
<details{{if .EventsOpen}} open{{end}}><summary>All {{.NumEvents}} events</summary>
<div class="events">{{range .Events}}<div class="{{.Class}}">{{.Text}}</div>{{end}}</div>
</details>
<script>
(function () {
  var info = document.getElementById("info");
  var svg = document.getElementById("tl");
  info.hidden = false;
  info.textContent = "Hover over a bar, marker or step for details.";
  svg.addEventListener("mouseover", function (e) {
    for (var el = e.target; el && el !== svg; el = el.parentNode) {
      var t = el.querySelector(":scope > title");
      if (t) {
        info.textContent = t.textContent;
        return;
      }
    }
  });
  var started = document.getElementById("started");
  if (started) {
    started.textContent = new Date(started.dateTime).toLocaleString();
    started.title = "in your time zone";
    started.setAttribute("data-local", "1");
  }
})();
</script>
</body>
</html>
`
