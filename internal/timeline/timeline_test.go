package timeline

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/proctest/proctest/internal/timeline/timelinetest"
)

// sample returns the events of testdata/failover.jsonl: a plan with a
// leader, two followers and a client, where a follower is killed and
// started again, and the client's exit fails the last step. proctest's
// tests draw the same sample through its WriteTimeline.
func sample(t *testing.T) Timeline {
	t.Helper()
	return Timeline{
		Plan:   "TestFailover",
		Events: readSample(t, "failover.jsonl"),
		Commands: map[string]string{
			"leader":     "kvd -role leader -listen 127.0.0.1:7001",
			"follower-1": "kvd -role follower -listen 127.0.0.1:7002 -join 127.0.0.1:7001",
			"follower-2": "kvd -role follower -listen 127.0.0.1:7003 -join 127.0.0.1:7001",
			"client":     "kvload -keys 1000 -servers 127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003",
		},
	}
}

// hostsSample returns the events of testdata/hosts.jsonl: a plan with
// three hosts, a server on each, and a client on this machine; the
// network is split, made lossy, healed; n2 is paused and resumed, n3
// killed and restarted, and n1 isolated until the end. proctest's tests
// draw the same sample through its WriteTimeline.
func hostsSample(t *testing.T) Timeline {
	t.Helper()
	return Timeline{
		Plan:   "TestSplitBrain",
		Events: readSample(t, "hosts.jsonl"),
		Commands: map[string]string{
			"kv-1":   "kvd -listen 10.77.0.1:7000 -peers 10.77.0.2:7000,10.77.0.3:7000",
			"kv-2":   "kvd -listen 10.77.0.2:7000 -peers 10.77.0.1:7000,10.77.0.3:7000",
			"kv-3":   "kvd -listen 10.77.0.3:7000 -peers 10.77.0.1:7000,10.77.0.2:7000",
			"client": "kvload -keys 1000 -servers 10.77.0.1:7000,10.77.0.2:7000,10.77.0.3:7000",
		},
	}
}

// readSample returns the events of testdata/name, one JSON event a line.
func readSample(t *testing.T, name string) []Event {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var events []Event
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		ev, err := decodeEvent(sc.Bytes())
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		events = append(events, ev)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return events
}

// decodeEvent decodes an event as proctest's -json output writes it, with
// its status as {"code":N} or {"signal":"NAME"}.
func decodeEvent(line []byte) (Event, error) {
	var ev struct {
		Time     time.Time     `json:"time"`
		Elapsed  time.Duration `json:"elapsed"`
		Plan     string        `json:"plan"`
		Kind     Kind          `json:"event"`
		Step     int           `json:"step"`
		StepName string        `json:"step_name"`
		Where    string        `json:"where"`
		Proc     string        `json:"proc"`
		Pid      int           `json:"pid"`
		Host     string        `json:"host"`
		Status   *struct {
			Code   int    `json:"code"`
			Signal string `json:"signal"`
		} `json:"status"`
		Detail string `json:"detail"`
	}
	if err := json.Unmarshal(line, &ev); err != nil {
		return Event{}, err
	}
	e := Event{Time: ev.Time, Elapsed: ev.Elapsed, Plan: ev.Plan, Kind: ev.Kind, Step: ev.Step,
		StepName: ev.StepName, Where: ev.Where, Proc: ev.Proc, Pid: ev.Pid, Host: ev.Host, Detail: ev.Detail}
	if st := ev.Status; st != nil {
		e.Status = &Status{Code: st.Code, Signal: st.Signal}
	}
	e = withText(e)
	// The words of host and net events, read as proctest's WriteTimeline
	// reads them.
	switch e.Kind {
	case Host:
		for _, c := range []struct {
			words  string
			change HostChange
		}{{"up at ", HostUp}, {"paused", HostPaused}, {"resumed", HostResumed}, {"killed", HostKilled}, {"restarted", HostRestarted}} {
			if strings.HasPrefix(e.Detail, c.words) {
				e.Change = c.change
				break
			}
		}
	case Net:
		if e.Detail == "healed" {
			e.Detail = ""
		}
	}
	return e, nil
}

// withText returns ev with its Text set as proctest's Event.String
// formats it: "+0.012s spawn server pid 4242". proctest's
// TestTimelineGolden checks that the two agree.
func withText(ev Event) Event {
	var b strings.Builder
	fmt.Fprintf(&b, "+%.3fs %s", ev.Elapsed.Seconds(), ev.Kind)
	switch ev.Kind {
	case Step:
		fmt.Fprintf(&b, " %d: %s", ev.Step, ev.StepName)
		if ev.Where != "" {
			fmt.Fprintf(&b, " (%s)", ev.Where)
		}
	default:
		if ev.Proc != "" {
			b.WriteString(" " + ev.Proc)
		}
		if ev.Host != "" && ev.Proc != "" {
			b.WriteString(" on " + ev.Host)
		} else if ev.Host != "" {
			b.WriteString(" " + ev.Host)
		}
		if ev.Pid != 0 {
			fmt.Fprintf(&b, " pid %d", ev.Pid)
		}
		if ev.Status != nil {
			b.WriteString(" " + ev.Status.String())
		}
	}
	if ev.Detail != "" {
		b.WriteString(": " + ev.Detail)
	}
	ev.Text = b.String()
	return ev
}

// events returns evs, each with its Text set.
func events(evs ...Event) []Event {
	for i := range evs {
		evs[i] = withText(evs[i])
	}
	return evs
}

// render returns the page of tl, failing the test on an error.
func render(t *testing.T, tl Timeline) string {
	t.Helper()
	var b bytes.Buffer
	if err := Write(&b, tl); err != nil {
		t.Fatalf("Write: %v", err)
	}
	return b.String()
}

// parsePicture parses the page's SVG picture, failing the test if it is not
// well-formed.
func parsePicture(t *testing.T, page string) *timelinetest.Node {
	t.Helper()
	pic, err := timelinetest.Picture(page)
	if err != nil {
		t.Fatalf("%v; the page:\n%s", err, page)
	}
	return pic
}

// node is short for timelinetest.Node.
type node = timelinetest.Node

func TestSample(t *testing.T) {
	t.Parallel()
	page := render(t, sample(t))
	pic := parsePicture(t, page)
	rows, names := timelinetest.Rows(pic)

	if got, want := strings.Join(names, " "), "leader follower-1 follower-2 client"; got != want {
		t.Errorf("rows %q, want %q", got, want)
	}
	wantBars := map[string]string{
		"leader":     "stop",
		"follower-1": "sig stop", // killed, then started again and stopped at the end
		"follower-2": "stop",
		"client":     "code",
	}
	for name, want := range wantBars {
		if row := rows[name]; row == nil {
			t.Errorf("no row for %s", name)
		} else if got := strings.Join(timelinetest.BarClasses(row), " "); got != want {
			t.Errorf("%s: bars %q, want %q", name, got, want)
		}
	}

	// Hovering over a bar tells the pid, command, times and status.
	bars := rows["follower-1"].All(func(n *node) bool { return n.HasClass("bar") })
	title := bars[0].Title()
	for _, want := range []string{"follower-1 (pid 41023), run 1 of 2", "command: kvd -role follower -listen 127.0.0.1:7002",
		"started +0.216s (09:14:03.335)", "ended +0.876s", "signal SIGKILL"} {
		if !strings.Contains(title, want) {
			t.Errorf("first follower-1 bar's title lacks %q:\n%s", want, title)
		}
	}
	if title := bars[1].Title(); !strings.Contains(title, "pid 41046") || !strings.Contains(title, ": restart 1\n") ||
		!strings.Contains(title, "the plan stopped it at its end: stopped by SIGTERM") {
		t.Errorf("second follower-1 bar's title:\n%s", title)
	}

	// Markers: readiness, signals, exits.
	count := func(row *node, class string) int {
		return len(row.All(func(n *node) bool { return n.HasClass(class) }))
	}
	for name, want := range map[string][3]int{ // ready, signal, exit
		"leader": {1, 1, 1}, "follower-1": {2, 2, 2}, "follower-2": {1, 1, 1}, "client": {0, 0, 1},
	} {
		got := [3]int{count(rows[name], "ready"), count(rows[name], "signal"), count(rows[name], "exit")}
		if got != want {
			t.Errorf("%s: %v ready, signal and exit markers, want %v", name, got, want)
		}
	}

	// Steps, with the failing one marked.
	steps := pic.All(func(n *node) bool { return n.XMLName.Local == "rect" && n.HasClass("step") })
	if len(steps) != 12 {
		t.Errorf("%d steps drawn, want 12", len(steps))
	}
	var failed []*node
	for _, s := range steps {
		if s.HasClass("failed") {
			failed = append(failed, s)
		}
	}
	if len(failed) != 1 {
		t.Fatalf("%d failed steps drawn, want 1", len(failed))
	}
	if !strings.Contains(page, "<title>step 12: wait client — FAILED\nfailover_test.go:38\n") {
		t.Errorf("the failing step's title is missing")
	}
	if !strings.Contains(page, "<title>step 8: sleep 400ms\nfailover_test.go:32\n") {
		t.Errorf("a step's title with its file:line is missing")
	}
	bands := pic.All(func(n *node) bool { return n.HasClass("failband") })
	if len(bands) != 1 {
		t.Errorf("%d failing-step bands, want 1", len(bands))
	}
	if !strings.Contains(page, `<span class="badge failed">failed</span>`) ||
		!strings.Contains(page, "want exit 0, got exit 1") {
		t.Errorf("the page does not say the plan failed, and why")
	}

	// The time axis: labelled ticks from 0, growing evenly.
	var ticks []string
	for _, n := range pic.All(func(n *node) bool { return n.HasClass("tick") }) {
		ticks = append(ticks, n.Chars)
	}
	if got, want := strings.Join(ticks, " "), "0 200ms 400ms 600ms 800ms 1s 1.2s 1.4s 1.6s 1.8s 2s"; got != want {
		t.Errorf("ticks %q, want %q", got, want)
	}
}

func TestLinks(t *testing.T) {
	t.Parallel()
	tl := sample(t)
	dir := t.TempDir()
	tl.LogDir = dir

	for _, c := range []struct {
		base, want string
	}{
		{"", "file://" + filepath.ToSlash(dir) + "/leader.stdout"},
		{".", "./leader.stdout"},
		{"logs/", "logs/leader.stdout"},
		{"https://ci.example/run/7", "https://ci.example/run/7/leader.stdout"},
	} {
		tl.LinkBase = c.base
		page := render(t, tl)
		rows, _ := timelinetest.Rows(parsePicture(t, page))
		for name, row := range rows {
			var hrefs []string
			for _, a := range row.All(func(n *node) bool { return n.XMLName.Local == "a" }) {
				hrefs = append(hrefs, a.Attr("href"))
			}
			want := strings.ReplaceAll(c.want, "leader", name)
			if len(hrefs) != 2 || hrefs[0] != want || hrefs[1] != strings.TrimSuffix(want, ".stdout")+".stderr" {
				t.Errorf("LinkBase %q: %s links to %q, want %s and .stderr", c.base, name, hrefs, want)
			}
		}
	}

	tl.LogDir = ""
	tl.LinkBase = "."
	page := render(t, tl)
	if strings.Contains(page, "<a ") || strings.Contains(page, ".stdout") {
		t.Errorf("links without a log directory")
	}

	tl.LogDir = dir
	for _, c := range []struct {
		base, want string
	}{
		{"javascript:alert(1)", `timeline: link base "javascript:alert(1)": scheme "javascript" not allowed`},
		{"%zz", `timeline: link base "%zz": parse "%zz": invalid URL escape "%zz"`},
	} {
		tl.LinkBase = c.base
		var b bytes.Buffer
		if err := Write(&b, tl); err == nil || err.Error() != c.want {
			t.Errorf("LinkBase %q: Write = %v, want %s", c.base, err, c.want)
		}
		if b.Len() != 0 {
			t.Errorf("LinkBase %q: Write wrote %d bytes, want none", c.base, b.Len())
		}
	}
}

// external finds references the page would fetch from elsewhere.
var external = regexp.MustCompile(`(?i)https?://|\bsrc\s*=|<link\b|@import|url\((?:[^#)]|$)`)

func TestSelfContained(t *testing.T) {
	t.Parallel()
	tl := sample(t)
	tl.LogDir = t.TempDir()
	for _, base := range []string{"", "."} {
		tl.LinkBase = base
		page := render(t, tl)
		rest := strings.Replace(page, `xmlns="http://www.w3.org/2000/svg"`, "", 1)
		if m := external.FindAllString(rest, -1); m != nil {
			t.Errorf("LinkBase %q: the page refers to elsewhere: %q", base, m)
		}
	}
}

// evil is a timeline whose every text tries to break out of where the
// page puts it.
func evil() Timeline {
	const evil = `<script>alert("x")</script>`
	status := Status{Code: 3}
	return Timeline{
		Plan:   `<b>plan</b> & "friends"`,
		LogDir: "/logs",
		Events: events(
			Event{Kind: PlanStart},
			Event{Kind: Step, Step: 1, StepName: "spawn " + evil, Where: `x_test.go:1"><script>`},
			Event{Kind: Spawn, Proc: evil, Pid: 7},
			Event{Elapsed: time.Second, Kind: Exit, Proc: evil, Pid: 7, Status: &status, Detail: "]]><!-- & </title>"},
			Event{Elapsed: time.Second, Kind: Fail, Step: 1, StepName: "spawn " + evil, Detail: "bad </pre><script>"},
			Event{Elapsed: time.Second, Kind: Warning, Detail: "about no process </div><script>"},
			Event{Elapsed: time.Second, Kind: PlanEnd},
		),
		Commands: map[string]string{evil: `sh -c 'echo "</script>"'`},
	}
}

func TestEscaping(t *testing.T) {
	t.Parallel()
	const evilName = `<script>alert("x")</script>`
	tl := evil()
	for _, base := range []string{"", "."} {
		tl.LinkBase = base
		page := render(t, tl)
		if n := strings.Count(page, "<script"); n != 1 {
			t.Errorf("%d <script elements, want only the page's own", n)
		}
		for _, bad := range []string{"<b>plan", "]]><!--", "</pre><script>", `:1"><`, "</div><script>"} {
			if strings.Contains(page, bad) {
				t.Errorf("unescaped %q in the page", bad)
			}
		}
		pic := parsePicture(t, page)
		rows, names := timelinetest.Rows(pic)
		if len(rows) != 1 {
			t.Fatalf("rows %q, want one", names)
		}
		for _, row := range rows {
			if !strings.Contains(row.Text(), evilName) {
				t.Errorf("the process's name is not shown as text: %q", row.Text())
			}
			for _, a := range row.All(func(n *node) bool { return n.XMLName.Local == "a" }) {
				if href := a.Attr("href"); strings.ContainsAny(href, `<>"`) {
					t.Errorf("link %q not escaped", href)
				}
			}
		}
		if !strings.Contains(page, "&lt;b&gt;plan&lt;/b&gt; &amp; &#34;friends&#34;") {
			t.Errorf("the plan's name is not escaped as expected")
		}
	}
}

func TestNoEvents(t *testing.T) {
	t.Parallel()
	page := render(t, Timeline{})
	pic := parsePicture(t, page)
	if rows, names := timelinetest.Rows(pic); len(rows) != 0 {
		t.Errorf("rows %q, want none", names)
	}
	if !strings.Contains(page, "the plan recorded no events") {
		t.Errorf("the page does not say there are no events")
	}
	if strings.Contains(page, `class="badge`) {
		t.Errorf("a plan without events is said to pass or fail")
	}
}

// oneProcess returns the events of a plan that runs echo and waits for it.
func oneProcess() []Event {
	ok := Status{}
	return events(
		Event{Plan: "TestEcho", Kind: PlanStart},
		Event{Plan: "TestEcho", Kind: Step, Step: 1, StepName: "spawn echo", Where: "echo_test.go:9"},
		Event{Plan: "TestEcho", Elapsed: 200 * time.Microsecond, Kind: Spawn, Proc: "echo", Pid: 99},
		Event{Plan: "TestEcho", Elapsed: 250 * time.Microsecond, Kind: Ready, Detail: "a file to exist"}, // about no process
		Event{Plan: "TestEcho", Elapsed: 300 * time.Microsecond, Kind: Step, Step: 2, StepName: "wait echo", Where: "echo_test.go:10"},
		Event{Plan: "TestEcho", Elapsed: 1700 * time.Microsecond, Kind: Exit, Proc: "echo", Pid: 99, Status: &ok},
		Event{Plan: "TestEcho", Elapsed: 1800 * time.Microsecond, Kind: PlanEnd},
	)
}

func TestOneProcess(t *testing.T) {
	t.Parallel()
	page := render(t, Timeline{Events: oneProcess()})
	pic := parsePicture(t, page)
	rows, names := timelinetest.Rows(pic)
	if len(rows) != 1 || rows["echo"] == nil {
		t.Fatalf("rows %q, want echo", names)
	}
	if got := timelinetest.BarClasses(rows["echo"]); len(got) != 1 || got[0] != "ok" {
		t.Errorf("bars %q, want one exit 0", got)
	}
	if !strings.Contains(page, "<title>TestEcho — timeline</title>") || !strings.Contains(page, `badge passed`) {
		t.Errorf("the page is not named after the plan, or not marked passed")
	}
	if len(pic.All(func(n *node) bool { return n.HasClass("failband") || n.HasClass("failed") })) != 0 {
		t.Errorf("a failing step is drawn in a plan that passed")
	}
}

// many returns the events of a plan that starts n processes, one step
// each, and waits for them all; every tenth exits 1.
func many(n int) []Event {
	evs := []Event{{Kind: PlanStart}}
	at := time.Duration(0)
	for i := range n {
		at += time.Millisecond
		name := fmt.Sprintf("worker-%d", i)
		evs = append(evs,
			Event{Elapsed: at, Kind: Step, Step: i + 1, StepName: "spawn " + name, Where: "many_test.go:12"},
			Event{Elapsed: at, Kind: Spawn, Proc: name, Pid: 1000 + i})
	}
	for i := range n {
		at += 100 * time.Microsecond
		st := Status{}
		if i%10 == 9 {
			st.Code = 1
		}
		evs = append(evs, Event{Elapsed: at, Kind: Exit, Proc: fmt.Sprintf("worker-%d", i), Pid: 1000 + i, Status: &st})
	}
	return events(append(evs, Event{Elapsed: at, Kind: PlanEnd})...)
}

func TestManyProcesses(t *testing.T) {
	t.Parallel()
	tl := Timeline{Plan: "TestMany", Events: many(10000), LogDir: "/logs", LinkBase: "."}
	page := render(t, tl)
	if len(page) > 1<<20 {
		t.Errorf("page of 10000 processes is %d bytes, want at most 1 MiB", len(page))
	}
	pic := parsePicture(t, page)
	rows, names := timelinetest.Rows(pic)
	if len(rows) != 201 {
		t.Fatalf("%d rows, want 200 and one for the rest", len(rows))
	}
	if names[0] != "worker-0" || names[99] != "worker-99" || names[100] != "… 9800 more" ||
		names[101] != "worker-9900" || names[200] != "worker-9999" {
		t.Errorf("rows %q … %q, want the first and last 100 around one for the rest", names[:3], names[len(names)-3:])
	}
	if title := rows["… 9800 more"].Title(); !strings.Contains(title, "8820 exit 0, 980 exit code ≠ 0") {
		t.Errorf("the row for the rest says:\n%s", title)
	}
	steps := pic.All(func(n *node) bool { return n.XMLName.Local == "rect" && n.HasClass("step") })
	if len(steps) == 0 || len(steps) > 300 {
		t.Errorf("%d step boxes for 10000 steps, want some but at most 300", len(steps))
	}
	if n := strings.Count(page, `<div class="ev-`); n > maxEvents+1 {
		t.Errorf("%d events listed, want at most %d", n, maxEvents+1)
	}

	tl.MaxRows = 10
	rows, names = timelinetest.Rows(parsePicture(t, render(t, tl)))
	if len(rows) != 11 || names[5] != "… 9990 more" {
		t.Errorf("MaxRows 10: rows %q", names)
	}
}

// flaky returns the events of a process started n times, each run
// killed.
func flaky(n int) []Event {
	evs := []Event{{Kind: PlanStart}}
	at := time.Duration(0)
	for i := range n {
		st := Status{Signal: "SIGKILL"}
		evs = append(evs,
			Event{Elapsed: at, Kind: Spawn, Proc: "flaky", Pid: 100 + i},
			Event{Elapsed: at + time.Millisecond, Kind: Signal, Proc: "flaky", Pid: 100 + i, Detail: "SIGKILL"},
			Event{Elapsed: at + time.Millisecond, Kind: Exit, Proc: "flaky", Pid: 100 + i, Status: &st})
		at += 2 * time.Millisecond
	}
	return events(evs...)
}

func TestManyRuns(t *testing.T) {
	t.Parallel()
	page := render(t, Timeline{Events: flaky(5000)})
	rows, _ := timelinetest.Rows(parsePicture(t, page))
	bars := timelinetest.BarClasses(rows["flaky"])
	if len(bars) != maxRuns+1 || bars[maxRuns/2] != "many" {
		t.Errorf("%d bars for 5000 runs, want %d with one for the runs between", len(bars), maxRuns+1)
	}
	if len(page) > 1<<20 {
		t.Errorf("page is %d bytes, want at most 1 MiB", len(page))
	}
}

// stubborn returns the events of a Go step that ignores its context: the
// plan gives up on it.
func stubborn() []Event {
	return events(
		Event{Kind: Step, Step: 1, StepName: "go stubborn"},
		Event{Kind: Spawn, Proc: "stubborn", Detail: "Go function"},
		Event{Elapsed: time.Second, Kind: Signal, Proc: "stubborn", Detail: "context canceled (SIGTERM)"},
		Event{Elapsed: 3 * time.Second, Kind: Warning, Proc: "stubborn", Detail: "Go function did not return"},
		Event{Elapsed: 3 * time.Second, Kind: Stop, Proc: "stubborn", Status: &Status{}, Detail: "stopped by nothing: the Go function did not return"},
		Event{Elapsed: 3 * time.Second, Kind: Stop, Proc: "stubborn", Pid: 4321, Detail: "left behind: sleep 60; killed"},
		Event{Elapsed: 3 * time.Second, Kind: PlanEnd},
	)
}

func TestRunningAtEnd(t *testing.T) {
	t.Parallel()
	page := render(t, Timeline{Events: stubborn(), Failed: true})
	rows, _ := timelinetest.Rows(parsePicture(t, page))
	row := rows["stubborn"]
	if got := timelinetest.BarClasses(row); len(got) != 1 || got[0] != "run" {
		t.Errorf("bars %q, want one still running", got)
	}
	for _, class := range []string{"warn", "left", "signal"} {
		if len(row.All(func(n *node) bool { return n.HasClass(class) })) != 1 {
			t.Errorf("no %s marker", class)
		}
	}
	if len(row.All(func(n *node) bool { return n.HasClass("exit") })) != 0 {
		t.Errorf("an exit marker for a process that did not end")
	}
	if !strings.Contains(page, "The plan failed after its steps") {
		t.Errorf("Failed without a fail event is not shown")
	}
}

// failWriter fails every write.
type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errDiskFull }

var errDiskFull = errors.New("disk full")

func TestWriteError(t *testing.T) {
	t.Parallel()
	err := Write(failWriter{}, Timeline{Events: many(3)})
	if err == nil || err.Error() != "timeline: disk full" || !errors.Is(err, errDiskFull) {
		t.Errorf("Write = %v, want timeline: disk full, wrapping the writer's error", err)
	}
}

func TestStatusString(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		status Status
		want   string
	}{
		{Status{}, "exit 0"},
		{Status{Code: 3}, "exit 3"},
		{Status{Signal: "SIGKILL"}, "signal SIGKILL"},
		{Status{Code: 1, Signal: "SIGTERM"}, "signal SIGTERM"},
	} {
		if got := c.status.String(); got != c.want {
			t.Errorf("%#v.String() = %q, want %q", c.status, got, c.want)
		}
	}
}

// hostsAtEnd returns the events of a plan whose hosts end badly: a is
// paused, then killed, and still down at the end; b is paused at the end
// and could not be resumed; c has no processes. The network is split,
// then one link blocked too, until the end.
func hostsAtEnd() []Event {
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	return events(
		Event{Kind: PlanStart},
		Event{Elapsed: ms(10), Kind: Host, Host: "a", Change: HostUp, Detail: "up at 10.77.0.1"},
		Event{Elapsed: ms(20), Kind: Host, Host: "b", Change: HostUp, Detail: "up at 10.77.0.2"},
		Event{Elapsed: ms(30), Kind: Host, Host: "c", Change: HostUp, Detail: "up at 10.77.0.3"},
		Event{Elapsed: ms(30), Kind: Step, Step: 1, StepName: "spawn srv-a", Where: "end_test.go:10"},
		Event{Elapsed: ms(32), Kind: Spawn, Proc: "srv-a", Pid: 301, Host: "a"},
		Event{Elapsed: ms(32), Kind: Step, Step: 2, StepName: "spawn srv-b", Where: "end_test.go:11"},
		Event{Elapsed: ms(34), Kind: Spawn, Proc: "srv-b", Pid: 302, Host: "b"},
		Event{Elapsed: ms(34), Kind: Step, Step: 3, StepName: "spawn client", Where: "end_test.go:12"},
		Event{Elapsed: ms(36), Kind: Spawn, Proc: "client", Pid: 303},
		Event{Elapsed: ms(36), Kind: Step, Step: 4, StepName: "partition a | b,c", Where: "end_test.go:13"},
		Event{Elapsed: ms(300), Kind: Net, Detail: "a | b,c"},
		Event{Elapsed: ms(300), Kind: Step, Step: 5, StepName: "pause-host a", Where: "end_test.go:14"},
		Event{Elapsed: ms(500), Kind: Host, Host: "a", Change: HostPaused, Detail: "paused (SIGSTOP)"},
		Event{Elapsed: ms(500), Kind: Step, Step: 6, StepName: "block b -/-> c", Where: "end_test.go:15"},
		Event{Elapsed: ms(600), Kind: Net, Detail: "a | b,c; b -/-> c"},
		Event{Elapsed: ms(600), Kind: Step, Step: 7, StepName: "kill-host a", Where: "end_test.go:16"},
		Event{Elapsed: ms(800), Kind: Host, Host: "a", Change: HostKilled, Detail: "killed (SIGKILL to each process)"},
		Event{Elapsed: ms(805), Kind: Exit, Proc: "srv-a", Pid: 301, Status: &Status{Signal: "SIGKILL"}},
		Event{Elapsed: ms(805), Kind: Step, Step: 8, StepName: "pause-host b", Where: "end_test.go:17"},
		Event{Elapsed: ms(1200), Kind: Host, Host: "b", Change: HostPaused, Detail: "paused (cgroup)"},
		Event{Elapsed: ms(1200), Kind: Step, Step: 9, StepName: "wait client", Where: "end_test.go:18"},
		Event{Elapsed: ms(1300), Kind: Host, Host: "c", Detail: "clock stepped"},
		Event{Elapsed: ms(1500), Kind: Exit, Proc: "client", Pid: 303, Status: &Status{Code: 0}},
		Event{Elapsed: ms(1510), Kind: Warning, Host: "b", Detail: "cannot resume: cgroup.freeze: device busy"},
		Event{Elapsed: ms(1520), Kind: Stop, Proc: "srv-b", Pid: 302, Detail: "left behind: srv-b; killed"},
		Event{Elapsed: ms(1600), Kind: PlanEnd},
	)
}

func TestHosts(t *testing.T) {
	t.Parallel()
	page := render(t, hostsSample(t))
	pic := parsePicture(t, page)

	// Rows: each host, then its processes, then this machine's.
	var order []string
	for _, g := range pic.All(func(n *node) bool {
		return n.XMLName.Local == "g" && (n.HasClass("host") || n.HasClass("proc"))
	}) {
		for _, txt := range g.All(func(n *node) bool {
			return n.XMLName.Local == "text" && (n.HasClass("name") || n.HasClass("hostname"))
		}) {
			order = append(order, strings.TrimSpace(txt.Chars))
		}
	}
	if got, want := strings.Join(order, " "), "n1 kv-1 n2 kv-2 n3 kv-3 this machine client"; got != want {
		t.Errorf("rows %q, want %q", got, want)
	}
	hosts, names := timelinetest.Hosts(pic)
	if got, want := strings.Join(names, " "), "n1 n2 n3 this machine"; got != want {
		t.Errorf("host rows %q, want %q", got, want)
	}
	if rows, names := timelinetest.Rows(pic); len(rows) != 4 {
		t.Errorf("process rows %q, want 4", names)
	}
	spans := func(name string) string {
		var out []string
		for _, sp := range hosts[name].All(func(n *node) bool { return n.HasClass("hostspan") }) {
			out = append(out, strings.TrimPrefix(sp.Attr("class"), "hostspan "))
		}
		return strings.Join(out, " ")
	}
	for name, want := range map[string]string{"n1": "", "n2": "paused", "n3": "down", "this machine": ""} {
		if got := spans(name); got != want {
			t.Errorf("host %s: spans %q, want %q", name, got, want)
		}
	}
	for class, want := range map[string]int{"kill": 1, "restart": 1} {
		if n := len(hosts["n3"].All(func(n *node) bool { return n.HasClass(class) })); n != want {
			t.Errorf("host n3: %d %s markers, want %d", n, class, want)
		}
	}
	if got := spanTitles(hosts["n3"], "down"); len(got) != 1 ||
		!strings.Contains(got[0], "host n3 down: killed (cgroup)\nfrom +1.581s (14:02:09.080) to +1.952s") ||
		!strings.HasSuffix(got[0], "then restarted") {
		t.Errorf("host n3's down span says %q", got)
	}
	if title := hosts["n1"].All(func(n *node) bool { return n.HasClass("hostname") })[0].Title(); title != "host n1\nup at 10.77.0.1, +0.062s (14:02:07.561)\nprocess: kv-1" {
		t.Errorf("host n1's row says:\n%s", title)
	}
	// The processes of a host are shaded where it was paused or down.
	if n := len(pic.All(func(n *node) bool { return n.HasClass("hostshade") })); n != 2 {
		t.Errorf("%d shades across processes' rows, want 2", n)
	}

	// Network bands: the partition, the partition with loss, and the
	// isolation in force at the end; none for the healthy network.
	bands := timelinetest.NetBands(pic)
	var words []string
	for _, b := range bands {
		words = append(words, strings.SplitN(b.Title(), "\n", 2)[0])
	}
	if got, want := strings.Join(words, " / "), "network: n1,n2 | n3 / network: n1,n2 | n3; n1->n2 loss 30% / network: n1 isolated"; got != want {
		t.Errorf("net bands %q, want %q", got, want)
	}
	for i, want := range []string{"then changed\nset by step 8: partition n1,n2 | n3", "then healed\nset by step 10: shape n1->n2 loss 30%",
		"to +2.699s (14:02:10.199), 675ms\nstill in force at the end of the plan\nset by step 21: isolate n1 isolated"} {
		if i < len(bands) && !strings.Contains(bands[i].Title(), want) {
			t.Errorf("net band %d says:\n%s\nwant it to say:\n%s", i, bands[i].Title(), want)
		}
	}
	if !strings.Contains(page, "3 hosts · 4 processes · 22 steps · 56 events") {
		t.Errorf("the page does not count the hosts")
	}
	if !strings.Contains(page, `<div class="ev-net">&#43;1.176s net: healed</div>`) || !strings.Contains(page, `<div class="ev-host">&#43;1.581s host n3: killed (cgroup)</div>`) {
		t.Errorf("net and host events are not listed as they are")
	}
}

// spanTitles returns what hovering over each span of class ("paused" or
// "down") of a host's row shows.
func spanTitles(host *node, class string) []string {
	var out []string
	for _, g := range host.All(func(n *node) bool { return n.XMLName.Local == "g" && n.Title() != "" }) {
		if len(g.All(func(n *node) bool { return n.HasClass("hostspan") && n.HasClass(class) })) > 0 {
			out = append(out, g.Title())
		}
	}
	return out
}

func TestHostsAtEnd(t *testing.T) {
	t.Parallel()
	page := render(t, Timeline{Events: hostsAtEnd()})
	pic := parsePicture(t, page)
	hosts, names := timelinetest.Hosts(pic)
	if got, want := strings.Join(names, " "), "a b c this machine"; got != want {
		t.Fatalf("host rows %q, want %q", got, want)
	}
	titles := func(name, class string) []string { return spanTitles(hosts[name], class) }
	// a was killed while paused: the pause ends there, the host is down
	// until the end.
	if got := titles("a", "paused"); len(got) != 1 || !strings.HasSuffix(got[0], "then killed (SIGKILL to each process)") {
		t.Errorf("host a's paused span: %q", got)
	}
	if got := titles("a", "down"); len(got) != 1 || !strings.HasSuffix(got[0], "still down at the end of the plan") {
		t.Errorf("host a's down span: %q", got)
	}
	if got := titles("b", "paused"); len(got) != 1 || !strings.Contains(got[0], "from +1.200s to +1.600s, 400ms\nstill paused at the end of the plan") {
		t.Errorf("host b's paused span: %q", got)
	}
	if n := len(hosts["c"].All(func(n *node) bool { return n.HasClass("change") })); n != 1 {
		t.Errorf("host c: %d markers of a change, want 1", n)
	}
	if !strings.Contains(page, "warning: &#43;1.510s cannot resume: cgroup.freeze: device busy") {
		t.Errorf("the warning about host b is not shown above the picture")
	}
	bands := timelinetest.NetBands(pic)
	if len(bands) != 2 || !strings.Contains(bands[1].Title(), "still in force at the end of the plan") {
		t.Errorf("%d net bands, want 2, the last in force at the end", len(bands))
	}
}

// TestHostsMaxRows checks that the rows of a large plan with hosts are
// summed up as those of any plan, each host's row before the first of its
// processes drawn.
func TestHostsMaxRows(t *testing.T) {
	t.Parallel()
	var evs []Event
	for i, h := range []string{"h1", "h2", "h3", "h4"} {
		evs = append(evs, Event{Kind: Host, Host: h, Change: HostUp, Detail: fmt.Sprintf("up at 10.77.0.%d", i+1)})
	}
	for i := range 40 {
		evs = append(evs, Event{Elapsed: time.Duration(i) * time.Millisecond, Kind: Spawn,
			Proc: fmt.Sprintf("p%02d", i), Pid: 100 + i, Host: []string{"h1", "h2", "h3", "h4"}[i/10]})
	}
	evs = append(evs, Event{Elapsed: time.Second, Kind: PlanEnd})
	page := render(t, Timeline{Events: events(evs...), MaxRows: 10})
	pic := parsePicture(t, page)
	var order []string
	for _, g := range pic.All(func(n *node) bool {
		return n.XMLName.Local == "g" && (n.HasClass("host") || n.HasClass("proc"))
	}) {
		for _, txt := range g.All(func(n *node) bool {
			return n.XMLName.Local == "text" && (n.HasClass("name") || n.HasClass("hostname"))
		}) {
			order = append(order, strings.TrimSpace(txt.Chars))
		}
	}
	// h2 and h3 have no process drawn: their rows are summed up too.
	if got, want := strings.Join(order, " "), "h1 p00 p01 p02 p03 p04 … 30 more h4 p35 p36 p37 p38 p39"; got != want {
		t.Errorf("rows %q, want %q", got, want)
	}
	rows, _ := timelinetest.Rows(pic)
	if title := rows["… 30 more"].Title(); !strings.HasSuffix(title, "on host h1, host h2, host h3 and host h4") {
		t.Errorf("the row for the rest says:\n%s", title)
	}
}

func TestHostsEscaping(t *testing.T) {
	t.Parallel()
	const evil = `<script>alert("x")</script>`
	page := render(t, Timeline{Events: events(
		Event{Kind: Host, Host: evil, Change: HostUp, Detail: "up at </title><script>"},
		Event{Elapsed: time.Millisecond, Kind: Spawn, Proc: "p", Pid: 1, Host: evil},
		Event{Elapsed: 2 * time.Millisecond, Kind: Host, Host: evil, Change: HostPaused, Detail: "paused ]]><!--"},
		Event{Elapsed: 3 * time.Millisecond, Kind: Net, Detail: evil + " -/-> n2"},
		Event{Elapsed: time.Second, Kind: PlanEnd},
	)})
	if n := strings.Count(page, "<script"); n != 1 {
		t.Errorf("%d <script elements, want only the page's own", n)
	}
	for _, bad := range []string{"</title><script>", "]]><!--"} {
		if strings.Contains(page, bad) {
			t.Errorf("unescaped %q in the page", bad)
		}
	}
	pic := parsePicture(t, page)
	if _, names := timelinetest.Hosts(pic); len(names) != 1 || names[0] != shorten(evil, maxNameLen) {
		t.Errorf("host rows %q, want the host's name as text", names)
	}
	if bands := timelinetest.NetBands(pic); len(bands) != 1 || !strings.HasPrefix(bands[0].Title(), "network: "+evil) {
		t.Errorf("the net band does not say its faults as text")
	}
}
