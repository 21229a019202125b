package timeline

import (
	"fmt"
	"html/template"
	"math"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// Layout of the picture, in pixels.
const (
	width     = 1140.0 // of the whole picture
	plotX0    = 230.0  // where the time axis starts; process names are left of it
	rowLabelX = 8.0    // where the names of rows start
	plotX1    = width - 24
	numH      = 14.0 // height of a tier of steps' numbers, above their boxes
	laneH     = 20.0 // height of the steps' boxes
	axisH     = 18.0 // room for the labels of the time axis
	aggH      = 46.0 // height of the row that sums up rows not drawn
	minBarW   = 2.0  // so that a process that lived no time is seen
	minStepW  = 4.0  // in plans of many steps, steps narrower than this are drawn together
	labelGap  = 58.0 // least distance between labels of the time axis
	topAxis   = 24   // rows from which the time axis is drawn on top too
	charW     = 6.6  // width of a character of a step's name, more or less
	digitW    = 7.2  // width of a character of a step's number, more or less
)

// layout holds the sizes of a picture's rows: roomy for a few, tighter
// for many.
type layout struct {
	rowH, barH float64
}

var (
	roomy = layout{rowH: 30, barH: 16}
	tight = layout{rowH: 22, barH: 12}
)

// roomyRows is how many rows at most are drawn roomy.
const roomyRows = 16

// scale maps times from the start of the plan to x coordinates.
type scale struct {
	span time.Duration
}

func (s scale) x(d time.Duration) float64 {
	return plotX0 + (plotX1-plotX0)*float64(d)/float64(s.span)
}

// draw lays out the picture of plan p, drawing at most maxRows rows.
func draw(p *plan, commands map[string]string, link func(string) template.URL, maxRows int) picture {
	sc := scale{span: max(p.end, time.Millisecond)}
	pic := picture{
		Width: width, PlotX0: plotX0, PlotX1: plotX1, LaneH: laneH,
		RowLabelX: rowLabelX, LinkX: plotX0 - 52, LinkErrX: plotX0 - 28,
	}
	var tiers int
	pic.Steps, pic.StepLines, tiers = drawSteps(p.steps, sc)
	pic.LaneY = 8 + numH*float64(tiers)
	for i := range pic.Steps {
		b := &pic.Steps[i]
		b.NumY = pic.LaneY - 5 - numH*float64(b.tier)
		b.TickY = pic.LaneY - numH*float64(b.tier+1)
	}
	gs := groups(p)
	var order []*proc // the processes in the order they are drawn
	headers := 0
	for _, g := range gs {
		order = append(order, g.procs...)
		if g.header {
			headers++
		}
	}
	head, tail, hidden := ends(order, maxRows)
	ly := tight
	if len(head)+len(tail)+headers <= roomyRows {
		ly = roomy
	}
	y := pic.LaneY + laneH + 4
	if len(p.nets) > 0 {
		pic.NetY = y
		pic.Nets = drawNets(p.nets, sc)
		y += laneH + 4
	}
	if len(head)+len(tail)+headers >= topAxis {
		pic.TopAxisY = y + 12
		y += axisH
	}
	pic.GridY0 = pic.LaneY
	// The rows, group by group: a group's header comes before the first
	// of its rows drawn, or where it is, for a host without processes,
	// unless the rows around it are summed up in the aggregate row.
	n := len(order)
	drawn := func(k int) bool { return k < len(head) || k >= n-len(tail) }
	k := 0   // index in order of the next process
	alt := 0 // rows since the last header, for their shading
	for _, g := range gs {
		shown := false
		var top float64 // where the rows under the header start
		header := func() {
			if shown || !g.header {
				return
			}
			shown = true
			pic.Rows = append(pic.Rows, drawHeader(g, y, ly, sc))
			y += ly.rowH
			top, alt = y, 0
		}
		if len(g.procs) == 0 && !(hidden > 0 && k > len(head) && k < n-len(tail)) {
			header()
		}
		for _, pr := range g.procs {
			switch {
			case drawn(k):
				header()
				row := drawRow(pr, alt, y, ly, sc, commands, link)
				if g.header {
					row.NameX += hostIndent
					row.Name = shorten(pr.name, maxNameLen-2)
				}
				pic.Rows = append(pic.Rows, row)
				y += ly.rowH
				alt++
			case k == len(head):
				header()
				agg := drawAggregate(order[len(head):n-len(tail)], y, sc)
				if len(p.hosts) > 0 {
					agg.Title = joinLines(agg.Title, whereRun(order[len(head):n-len(tail)]))
					agg.Aggregate.Title = agg.Title
				}
				pic.Rows = append(pic.Rows, agg)
				y += agg.H
				alt++
			}
			k++
		}
		if shown && g.host != nil {
			pic.Shades = append(pic.Shades, shades(g.host, top, y, sc)...)
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
	if pic.NetY > 0 {
		pic.NetH = y - pic.NetY
	}
	pic.AxisY = y + 14
	pic.Height = y + axisH + 4
	pic.Ticks = axisTicks(sc)
	for _, s := range p.steps {
		if !s.failed {
			continue
		}
		x0, x1 := sc.x(s.start), sc.x(s.end)
		w := max(x1-x0, 3)
		pic.Fail = &band{X: x0, W: w, H: pic.GridY1 - pic.GridY0, LineX: x0 + w,
			Title: joinLines(fmt.Sprintf("step %d failed: %s", s.num, s.name), s.where,
				fmt.Sprintf("from +%.3fs to +%.3fs", s.start.Seconds(), s.end.Seconds()), s.failDetail)}
	}
	return pic
}

// drawRow lays out the row of process pr, the i-th row, at y.
func drawRow(pr *proc, i int, y float64, ly layout, sc scale, commands map[string]string, link func(string) template.URL) rowView {
	row := rowView{Y: y, H: ly.rowH, Mid: y + ly.rowH/2, BarY: y + (ly.rowH-ly.barH)/2, BarH: ly.barH,
		Class: "row", Name: shorten(pr.name, maxNameLen), NameX: rowLabelX}
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
	if pr.host != nil {
		title[0] += " on host " + pr.host.name
	}
	if phead, ptail, left := ends(pids, 6); left > 0 {
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

	head, tail, hidden := ends(pr.runs, maxRuns)
	addRun := func(n int, r *run) {
		x0, x1 := sc.x(r.start), sc.x(r.end)
		bar := barView{X: x0, W: max(x1-x0, minBarW), Class: "bar " + outcomeClass[r.outcome()],
			Title: runTitle(pr, commands[pr.name], n, len(pr.runs), r)}
		row.Bars = append(row.Bars, bar)
		if r.ended {
			status := "status unknown"
			if r.status != nil {
				status = r.status.String()
			}
			row.Exits = append(row.Exits, barView{X: bar.X + bar.W,
				Title: fmt.Sprintf("%s: %s at %s", procLabel(pr.name, r.pid), status, stamp(r.end, r.endAt))})
		}
	}
	for n, r := range head {
		addRun(n+1, r)
	}
	if hidden > 0 {
		mid := pr.runs[len(head) : len(pr.runs)-len(tail)]
		first, last := mid[0], mid[len(mid)-1]
		x0, x1 := sc.x(first.start), sc.x(last.end)
		row.Bars = append(row.Bars, barView{X: x0, W: max(x1-x0, minBarW), Class: "bar many",
			Title: fmt.Sprintf("%s: %d more runs, not drawn one by one, from +%.3fs to +%.3fs\n%s",
				pr.name, hidden, first.start.Seconds(), last.end.Seconds(), outcomeCounts(mid))})
		for n, r := range tail {
			addRun(len(pr.runs)-len(tail)+n+1, r)
		}
	}
	mhead, mtail, _ := ends(pr.marks, maxMarks)
	for _, m := range append(mhead, mtail...) {
		row.Marks = append(row.Marks, markView{Kind: m.kind, X: sc.x(m.at), Title: joinLines(m.text, stamp(m.at, m.when))})
	}
	return row
}

// runTitle describes the n-th of total runs of the process pr.
func runTitle(pr *proc, command string, n, total int, r *run) string {
	head := procLabel(pr.name, r.pid)
	if pr.host != nil {
		head += " on host " + pr.host.name
	}
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
	started := "started " + stamp(r.start, r.startAt)
	if r.spawned != "" && !r.goFunc {
		started += ": " + r.spawned
	}
	lines = append(lines, started)
	switch {
	case r.ended:
		end := "ended " + stamp(r.end, r.endAt) + ", after " + durationText(r.end-r.start)
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

// drawAggregate lays out the row that stands for the processes procs,
// not drawn one by one, at y: how many ran at each moment.
func drawAggregate(procs []*proc, y float64, sc scale) rowView {
	row := rowView{Y: y, H: aggH, Mid: y + aggH/2, Class: "row agg", NameX: rowLabelX}
	cols := int(plotX1 - plotX0)
	diff := make([]int, cols+2)
	var runs []*run
	for _, pr := range procs {
		for _, r := range pr.runs {
			runs = append(runs, r)
			c0 := int(sc.x(r.start) - plotX0)
			c1 := int(sc.x(r.end) - plotX0)
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
	top, h := y+6, aggH-12
	var d strings.Builder
	fmt.Fprintf(&d, "M%s,%s", coord(plotX0), coord(top+h))
	prev := 0
	for c, n := range running {
		if n != prev {
			fmt.Fprintf(&d, "H%sV%s", coord(plotX0+float64(c)), coord(top+h-h*float64(n)/float64(peak)))
			prev = n
		}
	}
	fmt.Fprintf(&d, "H%sV%sZ", coord(plotX0+float64(cols)), coord(top+h))
	label := fmt.Sprintf("… %d more", len(procs))
	row.Aggregate = &aggView{Path: d.String(), Label: label, TextY: y + 17,
		Summary: fmt.Sprintf("%s not drawn one by one: %s", plural(len(procs), "process", "processes"), outcomeCounts(runs)),
		Title: joinLines(fmt.Sprintf("%s not drawn one by one, with %s", plural(len(procs), "process", "processes"),
			plural(len(runs), "run", "runs")), outcomeCounts(runs),
			fmt.Sprintf("the shape is how many of them ran at each moment: at most %d at once", peak))}
	row.Name = label
	row.Title = row.Aggregate.Title
	return row
}

// outcomeCounts says how the runs ended, as in "9 exit 0, 1 ended by a
// signal".
func outcomeCounts(runs []*run) string {
	var n [numOutcomes]int
	for _, r := range runs {
		n[r.outcome()]++
	}
	var parts []string
	for o, c := range n {
		if c > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", c, outcomeText[o]))
		}
	}
	return strings.Join(parts, ", ")
}

// drawSteps lays out the steps lane: a box per step, from its start to
// the next one's, with the step's name inside when it fits, and its
// number above, at a tick, in the first of two tiers where it does not
// overlap another's. The failing step's number is placed first, then
// those of the widest steps. In a plan of many steps, steps too narrow
// to be seen apart are drawn as one box. It also returns where faint
// lines mark the steps' starts across the rows, when they are few enough
// not to clutter the picture, and how many tiers of numbers are used.
func drawSteps(steps []*step, sc scale) (boxes []stepBox, lines []float64, tiers int) {
	var failed []bool
	var group []*step
	flush := func() {
		if len(group) == 0 {
			return
		}
		first, last := group[0], group[len(group)-1]
		x0, x1 := sc.x(first.start), sc.x(last.end)
		b := stepBox{X: x0, W: max(x1-x0, 1), TextX: x0 + 4, LabelClass: "steplabel", NumClass: "stepnum"}
		span := fmt.Sprintf("+%.3fs to +%.3fs", first.start.Seconds(), last.end.Seconds())
		switch {
		case len(group) == 1 && first.failed:
			b.Class, b.LabelClass, b.NumClass = "step failed", "steplabel failed", "stepnum failed"
			b.Title = joinLines(fmt.Sprintf("step %d: %s — FAILED", first.num, first.name), first.where, span, first.failDetail)
			b.Label = fit("✕ "+first.name, b.W, "✕")
			b.Num = fmt.Sprintf("✕ %d", first.num)
		case len(group) == 1:
			b.Class = fmt.Sprintf("step s%d", len(boxes)%2)
			b.Title = joinLines(fmt.Sprintf("step %d: %s", first.num, first.name), first.where, span)
			b.Label = fit(first.name, b.W, "")
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
				lines = append(lines, join(fmt.Sprintf("%d: %s", s.num, s.name), s.where))
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
			narrow := len(steps) >= manySteps && sc.x(s.start)-sc.x(first.start) < minStepW
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
		x1 := x0 + float64(utf8.RuneCountInString(b.Num))*digitW + 6
		if x1 > width {
			x0, x1 = width-(x1-x0), width
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
		b.Tick = placed || len(boxes) <= fewSteps
	}

	if len(boxes) <= fewSteps {
		for _, b := range boxes[min(1, len(boxes)):] {
			lines = append(lines, b.X)
		}
	}
	return boxes, lines, tiers
}

// axisTicks returns the labelled ticks of the time axis.
func axisTicks(sc scale) []tick {
	perTick := float64(sc.span) * labelGap / (plotX1 - plotX0)
	step := time.Duration(1)
	for i := 0; float64(step) < perTick; i++ {
		if i%3 == 1 {
			step = step / 2 * 5 // 2 × 10ⁿ to 5 × 10ⁿ
		} else {
			step *= 2 // 1 to 2, 5 to 10, × 10ⁿ
		}
	}
	var ticks []tick
	for d := time.Duration(0); d <= sc.span; d += step {
		label := d.String()
		if d == 0 {
			label = "0"
		}
		ticks = append(ticks, tick{X: sc.x(d), Label: label})
	}
	return ticks
}

// ends returns the first and last of s, n of them in all, and how many
