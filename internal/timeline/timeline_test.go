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
	f, err := os.Open(filepath.Join("testdata", "failover.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var events []Event
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		ev, err := decodeEvent(sc.Bytes())
		if err != nil {
			t.Fatalf("failover.jsonl: %v", err)
		}
		events = append(events, ev)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return Timeline{
		Plan:   "TestFailover",
		Events: events,
		Commands: map[string]string{
			"leader":     "kvd -role leader -listen 127.0.0.1:7001",
			"follower-1": "kvd -role follower -listen 127.0.0.1:7002 -join 127.0.0.1:7001",
			"follower-2": "kvd -role follower -listen 127.0.0.1:7003 -join 127.0.0.1:7001",
			"client":     "kvload -keys 1000 -servers 127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003",
		},
	}
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
		StepName: ev.StepName, Where: ev.Where, Proc: ev.Proc, Pid: ev.Pid, Detail: ev.Detail}
	if st := ev.Status; st != nil {
		e.Status = &Status{Code: st.Code, Signal: st.Signal}
	}
	return withText(e), nil
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
