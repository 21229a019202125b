package timeline

import (
	"fmt"
	"html/template"
	"net/url"
	"path/filepath"
	"strings"
	"time"
)

// Limits that keep the page small whatever the plan.
const (
	defaultRows = 200 // process rows drawn, unless Timeline.MaxRows says otherwise
	maxRuns     = 40  // bars drawn in one row; the runs between are drawn as one
	maxMarks    = 60  // markers drawn in one row
	maxEvents   = 400 // events listed under the picture
	openEvents  = 60  // events up to which the list is open when the page opens
	maxNameLen  = 22  // runes of a process name the label shows
	manySteps   = 150 // steps from which narrow ones are drawn together
	fewSteps    = 60  // steps up to which each has a tick and a line across the rows
)

// The page's data, as the template reads it.
type (
	page struct {
		Title      string
		Failed     bool
		Verdict    string // "failed", "passed", or "" with no events
		Duration   string
		Started    string // in the events' time zone
		StartedISO string // for the script to show it in the reader's
		Counts     string
		Failures   []failure
		Warnings   []string
		LogDir     string
		LogDirHref template.URL
		Legend     []legendItem
		Picture    picture
		Events     []eventLine
		NumEvents  int
		EventsOpen bool // the list of events is shown, not only its summary
		Hosts      bool // the plan has hosts or network faults: the page includes hosts.css
	}
	failure struct {
		Step   string
		Detail string
	}
	legendItem struct {
		Class, Text string
	}
	eventLine struct {
		Class, Text string
	}
	picture struct {
		Width, Height    float64
		PlotX0, PlotX1   float64
		LaneY, LaneH     float64
		GridY0, GridY1   float64
		TopAxisY, AxisY  float64 // baselines of the axis labels; TopAxisY 0 for none
		Ticks            []tick
		Steps            []stepBox
		StepLines        []float64
		Fail             *band
		NetY, NetH       float64 // top of the network lane, and height of its bands; NetY 0 for none
		Nets             []netView
		Shades           []shadeView
		Rows             []rowView
		Empty            string // said in place of rows when there are none
		EmptyY           float64
		RowLabelX, LinkX float64
		LinkErrX         float64
	}
	tick struct {
		X     float64
		Label string
	}
	stepBox struct {
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
	band struct {
		X, W, H, LineX float64
		Title          string
	}
	rowView struct {
		Y, H, Mid  float64
		Class      string
		Name       string
		NameX      float64
		Title      string
		Host       *hostView // for the header of a group of rows
		Out, Err   template.URL
		Bars       []barView
		Exits      []barView
		Marks      []markView
		Aggregate  *aggView
		BarY, BarH float64
	}
	barView struct {
		X, W  float64
		Class string
		Title string
	}
	markView struct {
		Kind  string
		X     float64
		Title string
	}
	hostView struct {
		Local bool     // the header of the processes of this machine
		Up    *barView // from when the host started to the end
		Spans []spanView
	}
	spanView struct {
		X, W, TextX float64
		Class       string
		Label       string
		LabelClass  string
		Title       string
	}
	shadeView struct {
		X, Y, W, H float64
		Class      string
	}
	netView struct {
		X, W, TextX float64
		Class       string
		Label       string
		Title       string
	}
	aggView struct {
		Path    string
		Label   string
		Summary string // said over the shape
		TextY   float64
		Title   string
	}
)

// buildPage lays out the page for t.
func buildPage(t Timeline) (*page, error) {
	links, err := linker(t)
	if err != nil {
		return nil, err
	}
	p := readEvents(t)
	pg := &page{Title: p.name, Failed: p.failed, NumEvents: len(t.Events), EventsOpen: len(t.Events) <= openEvents}
	if pg.Title == "" {
		pg.Title = "plan"
	}
	switch {
	case p.failed:
		pg.Verdict = "failed"
	case len(t.Events) > 0:
		pg.Verdict = "passed"
	}
	pg.Duration = durationText(p.end)
	if !p.start.IsZero() {
		pg.Started = p.start.Format("2006-01-02 15:04:05 MST")
		pg.StartedISO = p.start.Format(time.RFC3339Nano)
	}
	pg.Counts = fmt.Sprintf("%s · %s · %s", plural(len(p.procs), "process", "processes"),
		plural(len(p.steps), "step", "steps"), plural(len(t.Events), "event", "events"))
	if len(p.hosts) > 0 {
		pg.Counts = plural(len(p.hosts), "host", "hosts") + " · " + pg.Counts
	}
	pg.Hosts = len(p.hosts) > 0 || len(p.nets) > 0
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
		pg.Failures = append(pg.Failures, failure{Step: step, Detail: f.Detail})
	}
	for _, w := range p.warnings {
		pg.Warnings = append(pg.Warnings, fmt.Sprintf("+%.3fs %s", w.Elapsed.Seconds(), w.Detail))
	}
	if t.LogDir != "" {
		pg.LogDir = t.LogDir
		pg.LogDirHref = links("")
	}
	for o := range numOutcomes {
		pg.Legend = append(pg.Legend, legendItem{Class: outcomeClass[o], Text: outcomeText[o]})
	}
	head, tail, _ := ends(t.Events, maxEvents)
	for _, ev := range head {
		pg.Events = append(pg.Events, eventLine{Class: "ev-" + string(ev.Kind), Text: ev.Text})
	}
	if len(tail) > 0 {
		pg.Events = append(pg.Events, eventLine{Class: "ev-gap",
			Text: fmt.Sprintf("… %d events not listed …", len(t.Events)-len(head)-len(tail))})
		for _, ev := range tail {
			pg.Events = append(pg.Events, eventLine{Class: "ev-" + string(ev.Kind), Text: ev.Text})
		}
	}
	maxRows := t.MaxRows
	if maxRows <= 0 {
		maxRows = defaultRows
	}
	pg.Picture = draw(p, t.Commands, links, maxRows)
	return pg, nil
}

// linker returns the function that makes the link to a log file of t
// ("" for the log directory itself), or that returns "" when t has no
// log directory.
func linker(t Timeline) (func(file string) template.URL, error) {
	if t.LogDir == "" {
		return func(string) template.URL { return "" }, nil
	}
	if t.LinkBase != "" {
		u, err := url.Parse(t.LinkBase)
		if err != nil {
			return nil, fmt.Errorf("timeline: link base %q: %v", t.LinkBase, err)
		}
		switch strings.ToLower(u.Scheme) {
		case "", "file", "http", "https":
		default:
			return nil, fmt.Errorf("timeline: link base %q: scheme %q not allowed", t.LinkBase, u.Scheme)
		}
		base := strings.TrimSuffix(t.LinkBase, "/") + "/"
		return func(file string) template.URL {
			return template.URL(base + url.PathEscape(file))
		}, nil
	}
	dir, err := filepath.Abs(t.LogDir)
	if err != nil {
		return nil, fmt.Errorf("timeline: log directory: %v", err)
	}
	return func(file string) template.URL {
		u := url.URL{Scheme: "file", Path: filepath.ToSlash(filepath.Join(dir, file))}
		if file == "" {
			u.Path += "/"
		}
		return template.URL(u.String())
	}, nil
}
