package timeline

import (
	"fmt"
	"strings"
)

// Limits of what a host's row shows.
const (
	hostIndent = 14.0 // how far right of the host's name its processes' names start
	maxSpans   = 40   // paused and down spans drawn in one host's row
	maxNets    = 200  // network states drawn as bands
	maxChanges = 12   // changes of a host listed in its row's title
)

// localHeader names the row above the processes on this machine, in a
// plan with hosts.
const localHeader = "this machine"

// group is a header row and the processes under it: a host's, or those
// of this machine.
type group struct {
	host   *host // nil for this machine
	header bool  // a plan without hosts has one group, without a header
	procs  []*proc
}

// groups returns the groups of p's processes in the order they are
// drawn: each host, in the order hosts first appear, with its processes,
// then the processes of this machine. A plan without hosts has one group
// with all its processes, drawn as they always were.
func groups(p *plan) []*group {
	if len(p.hosts) == 0 {
		return []*group{{procs: p.procs}}
	}
	var gs []*group
	for _, h := range p.hosts {
		gs = append(gs, &group{host: h, header: true, procs: h.procs})
	}
	local := &group{header: true}
	for _, pr := range p.procs {
		if pr.host == nil {
			local.procs = append(local.procs, pr)
		}
	}
	if len(local.procs) > 0 {
		gs = append(gs, local)
	}
	return gs
}

// drawHeader lays out the header row of group g, at y: the host's name,
// a line from when it started to the end of the plan, its paused and
// down spans, and markers at its kills, restarts and other changes. The
// header of this machine's processes has only its name.
func drawHeader(g *group, y float64, ly layout, sc scale) rowView {
	row := rowView{Y: y, H: ly.rowH, Mid: y + ly.rowH/2, BarY: y + (ly.rowH-ly.barH)/2, BarH: ly.barH,
		Class: "row host", NameX: rowLabelX, Host: &hostView{}}
	h := g.host
	if h == nil {
		row.Name, row.Host.Local = localHeader, true
		row.Title = joinLines("processes on this machine, outside the hosts", procNames(g.procs))
		return row
	}
	row.Name = shorten(h.name, maxNameLen)
	title := []string{"host " + h.name}
	if h.upText != "" {
		title = append(title, h.upText+", "+stamp(h.up, h.upAt))
	}
	if len(g.procs) == 0 {
		title = append(title, "no processes")
	} else {
		title = append(title, procNames(g.procs))
	}
	var changes []string
	for _, ev := range h.changes {
		if ev.Change != HostUp {
			changes = append(changes, fmt.Sprintf("+%.3fs %s", ev.Elapsed.Seconds(), ev.Detail))
		}
	}
	chead, ctail, left := ends(changes, maxChanges)
	title = append(title, chead...)
	if left > 0 {
		title = append(title, fmt.Sprintf("… %d more", left))
		title = append(title, ctail...)
	}
	row.Title = strings.Join(title, "\n")

	x0 := sc.x(h.up)
	row.Host.Up = &barView{X: x0, W: max(plotX1-x0, minBarW), Class: "hostup",
		Title: "host " + h.name + " up"}
	if h.upText != "" {
		row.Host.Up.Title = "host " + h.name + ": " + h.upText
	}
	shead, stail, _ := ends(h.spans, maxSpans)
	for _, sp := range append(shead, stail...) {
		x0, x1 := sc.x(sp.start), sc.x(sp.end)
		v := spanView{X: x0, W: max(x1-x0, minBarW), TextX: x0 + 4}
		word, then := "paused", "still paused at the end of the plan"
		if sp.down {
			word, then = "down", "still down at the end of the plan"
			v.TextX = x0 + 8 // clear of the marker of the kill
		}
		v.Class, v.LabelClass = "hostspan "+word, "spanlabel "+word
		v.Label = fit(word, v.W-(v.TextX-x0-4), "")
		if sp.ended {
			then = "then " + sp.endedBy
		}
		head := "host " + h.name + ": " + sp.detail
		if sp.down {
			head = "host " + h.name + " down: " + sp.detail
		}
		v.Title = joinLines(head,
			fmt.Sprintf("from %s to %s, %s", stamp(sp.start, sp.startAt), stamp(sp.end, sp.endAt), durationText(sp.end-sp.start)),
			then)
		row.Host.Spans = append(row.Host.Spans, v)
	}
	mhead, mtail, _ := ends(h.marks, maxMarks)
	for _, m := range append(mhead, mtail...) {
		row.Marks = append(row.Marks, markView{Kind: m.kind, X: sc.x(m.at), Title: joinLines(m.text, stamp(m.at, m.when))})
	}
	return row
}

// shades returns the faint marks of h's paused and down spans across the
// rows of its processes, from y0 to y1.
func shades(h *host, y0, y1 float64, sc scale) []shadeView {
	if h == nil || y1 <= y0 {
		return nil
	}
	var out []shadeView
	head, tail, _ := ends(h.spans, maxSpans)
	for _, sp := range append(head, tail...) {
		x0, x1 := sc.x(sp.start), sc.x(sp.end)
		class := "hostshade paused"
		if sp.down {
			class = "hostshade down"
		}
		out = append(out, shadeView{X: x0, Y: y0, W: max(x1-x0, minBarW), H: y1 - y0, Class: class})
	}
	return out
}

// drawNets lays out the network's states other than healthy, each a box
// in the network lane with the faults in words, and a band across the
// rows below it.
func drawNets(nets []*netState, sc scale) []netView {
	head, tail, left := ends(nets, maxNets)
	var out []netView
	add := func(i int, st *netState) {
		x0, x1 := sc.x(st.start), sc.x(st.end)
		v := netView{X: x0, W: max(x1-x0, minBarW), TextX: x0 + 4, Class: fmt.Sprintf("netbox s%d", i%2)}
		v.Label = fit(st.faults, v.W, "")
		then := "still in force at the end of the plan"
		switch {
		case st.ended && st.healed:
			then = "then healed"
		case st.ended:
			then = "then changed"
		}
		v.Title = joinLines("network: "+st.faults,
			fmt.Sprintf("from %s to %s, %s", stamp(st.start, st.startAt), stamp(st.end, st.endAt), durationText(st.end-st.start)),
			then, st.step)
		out = append(out, v)
	}
	for i, st := range head {
		add(i, st)
	}
	if left > 0 {
		mid := nets[len(head) : len(nets)-len(tail)]
		first, last := mid[0], mid[len(mid)-1]
		x0, x1 := sc.x(first.start), sc.x(last.end)
		out = append(out, netView{X: x0, W: max(x1-x0, minBarW), TextX: x0 + 4, Class: "netbox many",
			Label: fit(fmt.Sprintf("%d states", left), x1-x0, ""),
			Title: fmt.Sprintf("%d more network states, not drawn one by one, from +%.3fs to +%.3fs",
				left, first.start.Seconds(), last.end.Seconds())})
		for i, st := range tail {
			add(len(nets)-len(tail)+i, st)
		}
	}
	return out
}

// whereRun says where the processes procs ran: "on hosts n1, n2 and
// this machine".
func whereRun(procs []*proc) string {
	var where []string
	seen := map[*host]bool{}
	for _, pr := range procs {
		if !seen[pr.host] {
			seen[pr.host] = true
			if pr.host == nil {
				where = append(where, localHeader)
			} else {
				where = append(where, "host "+pr.host.name)
			}
		}
	}
	if len(where) == 1 {
		return "on " + where[0]
	}
	return "on " + strings.Join(where[:len(where)-1], ", ") + " and " + where[len(where)-1]
}

// procNames says which processes are in a group: "processes: a, b".
func procNames(procs []*proc) string {
	var names []string
	for _, pr := range procs {
		names = append(names, pr.name)
	}
	head, tail, left := ends(names, 10)
	s := strings.Join(head, ", ")
	if left > 0 {
		s += fmt.Sprintf(", … %d more, ", left) + strings.Join(tail, ", ")
	}
	if len(procs) == 1 {
		return "process: " + s
	}
	return "processes: " + s
}
