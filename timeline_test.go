package proctest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// timelinePNG, if set, is where TestTimelineBrowser copies its screenshot
// of the sample page, as in
//
//	go test -run TestTimelineBrowser -timeline-png=docs/timeline.png
var timelinePNG = flag.String("timeline-png", "", "copy the timeline page's screenshot to this file")

// tlSample returns the events of testdata/timeline/failover.jsonl: a
// plan with a leader, two followers and a client, where a follower is
// killed and started again, and the client's exit fails the last step.
func tlSample(t *testing.T) Timeline {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "timeline", "failover.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var events []Event
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		ev, err := tlDecodeEvent(sc.Bytes())
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

// tlDecodeEvent decodes an event as the -json output writes it, with its
// status as {"code":N} or {"signal":"NAME"}.
func tlDecodeEvent(line []byte) (Event, error) {
	var ev struct {
		Event
		Status *struct {
			Code   int    `json:"code"`
			Signal string `json:"signal"`
		} `json:"status"`
	}
	if err := json.Unmarshal(line, &ev); err != nil {
		return Event{}, err
	}
	if st := ev.Status; st != nil {
		ev.Event.Status = &Status{Code: st.Code}
		if st.Signal != "" {
			for sig := syscall.Signal(1); sig < 65 && ev.Event.Status.Signal == 0; sig++ {
				if signalName(sig) == st.Signal {
					ev.Event.Status.Signal = sig
				}
			}
			if ev.Event.Status.Signal == 0 {
				return Event{}, fmt.Errorf("unknown signal %q", st.Signal)
			}
		}
	}
	return ev.Event, nil
}

// tlRender returns the page of tl, failing the test on an error.
func tlRender(t *testing.T, tl Timeline) string {
	t.Helper()
	var b bytes.Buffer
	if err := WriteTimeline(&b, tl); err != nil {
		t.Fatalf("WriteTimeline: %v", err)
	}
	return b.String()
}

// xnode is an element of the picture, parsed as XML.
type xnode struct {
	XMLName xml.Name
	Attrs   []xml.Attr `xml:",any,attr"`
	Nodes   []xnode    `xml:",any"`
	Text    string     `xml:",chardata"`
}

// attr returns the value of the attribute name, or "".
func (n *xnode) attr(name string) string {
	for _, a := range n.Attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// hasClass reports whether n has the CSS class c.
func (n *xnode) hasClass(c string) bool {
	for _, f := range strings.Fields(n.attr("class")) {
		if f == c {
			return true
		}
	}
	return false
}

// title returns the text of n's title child, or "".
func (n *xnode) title() string {
	for _, c := range n.Nodes {
		if c.XMLName.Local == "title" {
			return c.Text
		}
	}
	return ""
}

// all returns the elements under n, n included, for which keep is true.
func (n *xnode) all(keep func(*xnode) bool) []*xnode {
	var out []*xnode
	var walk func(*xnode)
	walk = func(n *xnode) {
		if keep(n) {
			out = append(out, n)
		}
		for i := range n.Nodes {
			walk(&n.Nodes[i])
		}
	}
	walk(n)
	return out
}

// text returns all the text under n.
func (n *xnode) text() string {
	var b strings.Builder
	b.WriteString(n.Text)
	for i := range n.Nodes {
		b.WriteString(n.Nodes[i].text())
	}
	return b.String()
}

// tlPicture parses the page's SVG picture, which must be well-formed XML.
func tlParsePicture(t *testing.T, page string) *xnode {
	t.Helper()
	i := strings.Index(page, `<svg id="tl"`)
	j := strings.LastIndex(page, "</svg>")
	if i < 0 || j < i {
		t.Fatalf("no picture in the page:\n%s", page)
	}
	var root xnode
	d := xml.NewDecoder(strings.NewReader(page[i : j+len("</svg>")]))
	d.Strict = true
	if err := d.Decode(&root); err != nil {
		t.Fatalf("the picture is not well-formed: %v", err)
	}
	return &root
}

// tlRows returns the picture's process rows by name, and the names in
// order; the row that sums up others is named "… N more".
func tlRows(pic *xnode) (map[string]*xnode, []string) {
	rows := map[string]*xnode{}
	var names []string
	for _, g := range pic.all(func(n *xnode) bool { return n.XMLName.Local == "g" && n.hasClass("proc") }) {
		var name string
		for _, txt := range g.all(func(n *xnode) bool { return n.XMLName.Local == "text" && n.hasClass("name") }) {
			name = strings.TrimSpace(txt.Text)
		}
		rows[name] = g
		names = append(names, name)
	}
	return rows, names
}

// barClasses returns the outcome class of each bar of a row, in order.
func barClasses(row *xnode) []string {
	var out []string
	for _, b := range row.all(func(n *xnode) bool { return n.XMLName.Local == "rect" && n.hasClass("bar") }) {
		out = append(out, strings.TrimSpace(strings.TrimPrefix(b.attr("class"), "bar")))
	}
	return out
}

func TestTimelineSample(t *testing.T) {
	page := tlRender(t, tlSample(t))
	pic := tlParsePicture(t, page)
	rows, names := tlRows(pic)

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
		} else if got := strings.Join(barClasses(row), " "); got != want {
			t.Errorf("%s: bars %q, want %q", name, got, want)
		}
	}

	// Hovering over a bar tells the pid, command, times and status.
	bars := rows["follower-1"].all(func(n *xnode) bool { return n.hasClass("bar") })
	title := bars[0].title()
	for _, want := range []string{"follower-1 (pid 41023), run 1 of 2", "command: kvd -role follower -listen 127.0.0.1:7002",
		"started +0.216s (09:14:03.335)", "ended +0.876s", "signal SIGKILL"} {
		if !strings.Contains(title, want) {
			t.Errorf("first follower-1 bar's title lacks %q:\n%s", want, title)
		}
	}
	if title := bars[1].title(); !strings.Contains(title, "pid 41046") || !strings.Contains(title, ": restart 1\n") ||
		!strings.Contains(title, "the plan stopped it at its end: stopped by SIGTERM") {
		t.Errorf("second follower-1 bar's title:\n%s", title)
	}

	// Markers: readiness, signals, exits.
	count := func(row *xnode, class string) int {
		return len(row.all(func(n *xnode) bool { return n.hasClass(class) }))
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
	steps := pic.all(func(n *xnode) bool { return n.XMLName.Local == "rect" && n.hasClass("step") })
	if len(steps) != 12 {
		t.Errorf("%d steps drawn, want 12", len(steps))
	}
	var failed []*xnode
	for _, s := range steps {
		if s.hasClass("failed") {
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
	bands := pic.all(func(n *xnode) bool { return n.hasClass("failband") })
	if len(bands) != 1 {
		t.Errorf("%d failing-step bands, want 1", len(bands))
	}
	if !strings.Contains(page, `<span class="badge failed">failed</span>`) ||
		!strings.Contains(page, "want exit 0, got exit 1") {
		t.Errorf("the page does not say the plan failed, and why")
	}

	// The time axis: labelled ticks from 0, growing evenly.
	var ticks []string
	for _, n := range pic.all(func(n *xnode) bool { return n.hasClass("tick") }) {
		ticks = append(ticks, n.Text)
	}
	if got, want := strings.Join(ticks, " "), "0 200ms 400ms 600ms 800ms 1s 1.2s 1.4s 1.6s 1.8s 2s"; got != want {
		t.Errorf("ticks %q, want %q", got, want)
	}
}

func TestTimelineLinks(t *testing.T) {
	tl := tlSample(t)
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
		page := tlRender(t, tl)
		rows, _ := tlRows(tlParsePicture(t, page))
		for name, row := range rows {
			var hrefs []string
			for _, a := range row.all(func(n *xnode) bool { return n.XMLName.Local == "a" }) {
				hrefs = append(hrefs, a.attr("href"))
			}
			want := strings.ReplaceAll(c.want, "leader", name)
			if len(hrefs) != 2 || hrefs[0] != want || hrefs[1] != strings.TrimSuffix(want, ".stdout")+".stderr" {
				t.Errorf("LinkBase %q: %s links to %q, want %s and .stderr", c.base, name, hrefs, want)
			}
		}
	}

	tl.LogDir = ""
	tl.LinkBase = "."
	page := tlRender(t, tl)
	if strings.Contains(page, "<a ") || strings.Contains(page, ".stdout") {
		t.Errorf("links without a log directory")
	}

	tl.LogDir = dir
	tl.LinkBase = "javascript:alert(1)"
	var b bytes.Buffer
	err := WriteTimeline(&b, tl)
	if err == nil || !strings.HasPrefix(err.Error(), "proctest: timeline: ") {
		t.Errorf("LinkBase javascript: WriteTimeline = %v, want an error", err)
	}
}

// tlExternal finds references the page would fetch from elsewhere.
var tlExternal = regexp.MustCompile(`(?i)https?://|\bsrc\s*=|<link\b|@import|url\((?:[^#)]|$)`)

func TestTimelineSelfContained(t *testing.T) {
	tl := tlSample(t)
	tl.LogDir = t.TempDir()
	for _, base := range []string{"", "."} {
		tl.LinkBase = base
		page := tlRender(t, tl)
		rest := strings.Replace(page, `xmlns="http://www.w3.org/2000/svg"`, "", 1)
		if m := tlExternal.FindAllString(rest, -1); m != nil {
			t.Errorf("LinkBase %q: the page refers to elsewhere: %q", base, m)
		}
	}
}

func TestTimelineEscaping(t *testing.T) {
	const evil = `<script>alert("x")</script>`
	status := Status{Code: 3}
	tl := Timeline{
		Plan:   `<b>plan</b> & "friends"`,
		LogDir: "/logs",
		Events: []Event{
			{Kind: EventPlanStart},
			{Kind: EventStep, Step: 1, StepName: "spawn " + evil, Where: `x_test.go:1"><script>`},
			{Kind: EventSpawn, Proc: evil, Pid: 7},
			{Elapsed: time.Second, Kind: EventExit, Proc: evil, Pid: 7, Status: &status, Detail: "]]><!-- & </title>"},
			{Elapsed: time.Second, Kind: EventFail, Step: 1, StepName: "spawn " + evil, Detail: "bad </pre><script>"},
			{Elapsed: time.Second, Kind: EventPlanEnd},
		},
		Commands: map[string]string{evil: `sh -c 'echo "</script>"'`},
	}
	for _, base := range []string{"", "."} {
		tl.LinkBase = base
		page := tlRender(t, tl)
		if n := strings.Count(page, "<script"); n != 1 {
			t.Errorf("%d <script elements, want only the page's own", n)
		}
		for _, bad := range []string{"<b>plan", "]]><!--", "</pre><script>", `:1"><`} {
			if strings.Contains(page, bad) {
				t.Errorf("unescaped %q in the page", bad)
			}
		}
		pic := tlParsePicture(t, page)
		rows, names := tlRows(pic)
		if len(rows) != 1 {
			t.Fatalf("rows %q, want one", names)
		}
		for _, row := range rows {
			if !strings.Contains(row.text(), evil) {
				t.Errorf("the process's name is not shown as text: %q", row.text())
			}
			for _, a := range row.all(func(n *xnode) bool { return n.XMLName.Local == "a" }) {
				if href := a.attr("href"); strings.ContainsAny(href, `<>"`) {
					t.Errorf("link %q not escaped", href)
				}
			}
		}
		if !strings.Contains(page, "&lt;b&gt;plan&lt;/b&gt; &amp; &#34;friends&#34;") {
			t.Errorf("the plan's name is not escaped as expected")
		}
	}
}

func TestTimelineNoEvents(t *testing.T) {
	page := tlRender(t, Timeline{})
	pic := tlParsePicture(t, page)
	if rows, names := tlRows(pic); len(rows) != 0 {
		t.Errorf("rows %q, want none", names)
	}
	if !strings.Contains(page, "the plan recorded no events") {
		t.Errorf("the page does not say there are no events")
	}
	if strings.Contains(page, `class="badge`) {
		t.Errorf("a plan without events is said to pass or fail")
	}
}

func TestTimelineOneProcess(t *testing.T) {
	ok := Status{}
	page := tlRender(t, Timeline{Events: []Event{
		{Plan: "TestEcho", Kind: EventPlanStart},
		{Plan: "TestEcho", Kind: EventStep, Step: 1, StepName: "spawn echo", Where: "echo_test.go:9"},
		{Plan: "TestEcho", Elapsed: 200 * time.Microsecond, Kind: EventSpawn, Proc: "echo", Pid: 99},
		{Plan: "TestEcho", Elapsed: 250 * time.Microsecond, Kind: EventReady, Detail: "a file to exist"}, // about no process
		{Plan: "TestEcho", Elapsed: 300 * time.Microsecond, Kind: EventStep, Step: 2, StepName: "wait echo", Where: "echo_test.go:10"},
		{Plan: "TestEcho", Elapsed: 1700 * time.Microsecond, Kind: EventExit, Proc: "echo", Pid: 99, Status: &ok},
		{Plan: "TestEcho", Elapsed: 1800 * time.Microsecond, Kind: EventPlanEnd},
	}})
	pic := tlParsePicture(t, page)
	rows, names := tlRows(pic)
	if len(rows) != 1 || rows["echo"] == nil {
		t.Fatalf("rows %q, want echo", names)
	}
	if got := barClasses(rows["echo"]); len(got) != 1 || got[0] != "ok" {
		t.Errorf("bars %q, want one exit 0", got)
	}
	if !strings.Contains(page, "<title>TestEcho — timeline</title>") || !strings.Contains(page, `badge passed`) {
		t.Errorf("the page is not named after the plan, or not marked passed")
	}
	if len(pic.all(func(n *xnode) bool { return n.hasClass("failband") || n.hasClass("failed") })) != 0 {
		t.Errorf("a failing step is drawn in a plan that passed")
	}
}

// tlMany returns the events of a plan that starts n processes, one step
// each, and waits for them all; every tenth exits 1.
func tlMany(n int) []Event {
	events := []Event{{Kind: EventPlanStart}}
	at := time.Duration(0)
	for i := range n {
		at += time.Millisecond
		name := fmt.Sprintf("worker-%d", i)
		events = append(events,
			Event{Elapsed: at, Kind: EventStep, Step: i + 1, StepName: "spawn " + name, Where: "many_test.go:12"},
			Event{Elapsed: at, Kind: EventSpawn, Proc: name, Pid: 1000 + i})
	}
	for i := range n {
		at += 100 * time.Microsecond
		st := Status{}
		if i%10 == 9 {
			st.Code = 1
		}
		events = append(events, Event{Elapsed: at, Kind: EventExit, Proc: fmt.Sprintf("worker-%d", i), Pid: 1000 + i, Status: &st})
	}
	return append(events, Event{Elapsed: at, Kind: EventPlanEnd})
}

func TestTimelineManyProcesses(t *testing.T) {
	tl := Timeline{Plan: "TestMany", Events: tlMany(10000), LogDir: "/logs", LinkBase: "."}
	page := tlRender(t, tl)
	if len(page) > 1<<20 {
		t.Errorf("page of 10000 processes is %d bytes, want at most 1 MiB", len(page))
	}
	pic := tlParsePicture(t, page)
	rows, names := tlRows(pic)
	if len(rows) != 201 {
		t.Fatalf("%d rows, want 200 and one for the rest", len(rows))
	}
	if names[0] != "worker-0" || names[99] != "worker-99" || names[100] != "… 9800 more" ||
		names[101] != "worker-9900" || names[200] != "worker-9999" {
		t.Errorf("rows %q … %q, want the first and last 100 around one for the rest", names[:3], names[len(names)-3:])
	}
	if title := rows["… 9800 more"].title(); !strings.Contains(title, "8820 exit 0, 980 exit code ≠ 0") {
		t.Errorf("the row for the rest says:\n%s", title)
	}
	steps := pic.all(func(n *xnode) bool { return n.XMLName.Local == "rect" && n.hasClass("step") })
	if len(steps) == 0 || len(steps) > 300 {
		t.Errorf("%d step boxes for 10000 steps, want some but at most 300", len(steps))
	}
	if n := strings.Count(page, `<div class="ev-`); n > tlMaxEvents+1 {
		t.Errorf("%d events listed, want at most %d", n, tlMaxEvents+1)
	}

	tl.MaxRows = 10
	rows, names = tlRows(tlParsePicture(t, tlRender(t, tl)))
	if len(rows) != 11 || names[5] != "… 9990 more" {
		t.Errorf("MaxRows 10: rows %q", names)
	}
}

func TestTimelineManyRuns(t *testing.T) {
	events := []Event{{Kind: EventPlanStart}}
	at := time.Duration(0)
	for i := range 5000 {
		st := Status{Signal: syscall.SIGKILL}
		events = append(events,
			Event{Elapsed: at, Kind: EventSpawn, Proc: "flaky", Pid: 100 + i},
			Event{Elapsed: at + time.Millisecond, Kind: EventSignal, Proc: "flaky", Pid: 100 + i, Detail: "SIGKILL"},
			Event{Elapsed: at + time.Millisecond, Kind: EventExit, Proc: "flaky", Pid: 100 + i, Status: &st})
		at += 2 * time.Millisecond
	}
	page := tlRender(t, Timeline{Events: events})
	rows, _ := tlRows(tlParsePicture(t, page))
	bars := barClasses(rows["flaky"])
	if len(bars) != tlMaxRuns+1 || bars[tlMaxRuns/2] != "many" {
		t.Errorf("%d bars for 5000 runs, want %d with one for the runs between", len(bars), tlMaxRuns+1)
	}
	if len(page) > 1<<20 {
		t.Errorf("page is %d bytes, want at most 1 MiB", len(page))
	}
}

func TestTimelineRunningAtEnd(t *testing.T) {
	// A Go step that ignores its context: the plan gives up on it.
	events := []Event{
		{Kind: EventStep, Step: 1, StepName: "go stubborn"},
		{Kind: EventSpawn, Proc: "stubborn", Detail: "Go function"},
		{Elapsed: time.Second, Kind: EventSignal, Proc: "stubborn", Detail: "context canceled (SIGTERM)"},
		{Elapsed: 3 * time.Second, Kind: EventWarning, Proc: "stubborn", Detail: "Go function did not return"},
		{Elapsed: 3 * time.Second, Kind: EventStop, Proc: "stubborn", Status: &Status{}, Detail: "stopped by nothing: the Go function did not return"},
		{Elapsed: 3 * time.Second, Kind: EventStop, Proc: "stubborn", Pid: 4321, Detail: "left behind: sleep 60; killed"},
		{Elapsed: 3 * time.Second, Kind: EventPlanEnd},
	}
	page := tlRender(t, Timeline{Events: events, Failed: true})
	rows, _ := tlRows(tlParsePicture(t, page))
	row := rows["stubborn"]
	if got := barClasses(row); len(got) != 1 || got[0] != "run" {
		t.Errorf("bars %q, want one still running", got)
	}
	for _, class := range []string{"warn", "left", "signal"} {
		if len(row.all(func(n *xnode) bool { return n.hasClass(class) })) != 1 {
			t.Errorf("no %s marker", class)
		}
	}
	if len(row.all(func(n *xnode) bool { return n.hasClass("exit") })) != 0 {
		t.Errorf("an exit marker for a process that did not end")
	}
	if !strings.Contains(page, "The plan failed after its steps") {
		t.Errorf("Failed without a fail event is not shown")
	}
}

// failWriter fails every write.
type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestTimelineWriteError(t *testing.T) {
	err := WriteTimeline(failWriter{}, Timeline{Events: tlMany(3)})
	if err == nil || err.Error() != "proctest: timeline: disk full" {
		t.Errorf("WriteTimeline = %v, want proctest: timeline: disk full", err)
	}
}

// chromiumArgs are the flags for a headless chromium that reaches no
// network and keeps nothing.
var chromiumArgs = []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
	"--disable-background-networking", "--disable-component-update", "--disable-sync"}

// runChromium runs chromium with args and the page, with a profile and a
// home of its own in a temporary directory, and returns its stdout. It
// kills what is left of chromium's processes before it returns.
func runChromium(t *testing.T, chromium, page string, args ...string) []byte {
	t.Helper()
	home := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	args = append(append(append([]string(nil), chromiumArgs...), "--user-data-dir="+filepath.Join(home, "profile")), args...)
	cmd := exec.CommandContext(ctx, chromium, append(args, "file://"+page)...)
	cmd.Env = append(os.Environ(), "HOME="+home, "TMPDIR="+home,
		"XDG_CONFIG_HOME="+filepath.Join(home, "config"), "XDG_CACHE_HOME="+filepath.Join(home, "cache"))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if cmd.Process != nil {
		// Helpers chromium started may outlive it: end its process group
		// before the temporary directory is removed.
		pgid := cmd.Process.Pid
		syscall.Kill(-pgid, syscall.SIGKILL)
		for deadline := time.Now().Add(5 * time.Second); syscall.Kill(-pgid, 0) == nil; {
			if time.Now().After(deadline) {
				t.Errorf("chromium's process group %d does not end", pgid)
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	if ctx.Err() != nil {
		t.Fatalf("chromium %q timed out; stderr:\n%s", args, stderr.Bytes())
	}
	if err != nil {
		t.Fatalf("chromium %q: %v; stderr:\n%s", args, err, stderr.Bytes())
	}
	return stdout.Bytes()
}

// findChromium returns the chromium program, or skips the test when it
// is not installed, outside CI.
func findChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	if os.Getenv("CI") == "" {
		t.Skip("chromium is not installed (apt-get install chromium); the test needs it in CI")
	}
	t.Fatal("chromium is not installed, and CI is set: CI must install it (apt-get install chromium)")
	return ""
}

func TestTimelineBrowser(t *testing.T) {
	chromium := findChromium(t)
	// The page is written into the plan's log directory, as a failed
	// plan does.
	dir := filepath.Join(t.TempDir(), "proctest-TestFailover-2291")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	tl := tlSample(t)
	tl.LogDir, tl.LinkBase = dir, "."
	for _, name := range []string{"leader", "follower-1", "follower-2", "client"} {
		for _, stream := range []string{"stdout", "stderr"} {
			if err := os.WriteFile(filepath.Join(dir, name+"."+stream), []byte(name+" "+stream+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	page := filepath.Join(dir, "timeline.html")
	if err := os.WriteFile(page, []byte(tlRender(t, tl)), 0o644); err != nil {
		t.Fatal(err)
	}

	// The DOM after the page's script ran.
	dom := string(runChromium(t, chromium, page, "--dump-dom"))
	if n := strings.Count(dom, `<g class="proc">`); n != 4 {
		t.Errorf("the browser's DOM has %d process rows, want 4", n)
	}
	for _, want := range []string{`class="step failed"`, `data-local="1"`, `<div id="info">Hover over`} {
		if !strings.Contains(dom, want) {
			t.Errorf("the browser's DOM lacks %s", want)
		}
	}

	// The picture as a person sees it.
	shot := filepath.Join(dir, "timeline.png")
	runChromium(t, chromium, page, "--screenshot="+shot, "--window-size=1200,800", "--hide-scrollbars")
	b, err := os.ReadFile(shot)
	if err != nil {
		t.Fatalf("no screenshot: %v", err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if got := img.Bounds().Size(); got != image.Pt(1200, 800) {
		t.Errorf("screenshot is %v, want 1200×800", got)
	}
	// Each colour of the sample's bars, and the failing step's, is seen.
	for name, c := range map[string]color.RGBA{
		"exit code ≠ 0": {0xe0, 0x75, 0x2d, 0xff},
		"signal":        {0x8b, 0x5f, 0xc7, 0xff},
		"stopped":       {0x7f, 0x8d, 0xa0, 0xff},
		"failing step":  {0xd6, 0x3a, 0x3a, 0xff},
	} {
		if n := tlCountColor(img, c); n < 50 {
			t.Errorf("%d pixels of %s colour %v in the screenshot, want at least 50", n, name, c)
		}
	}
	if *timelinePNG != "" {
		if err := os.WriteFile(*timelinePNG, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// tlCountColor counts the pixels of img that are near c.
func tlCountColor(img image.Image, c color.RGBA) int {
	near := func(a uint32, b uint8) bool { return int(a>>8)-int(b) <= 3 && int(b)-int(a>>8) <= 3 }
	n := 0
	r := img.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			pr, pg, pb, _ := img.At(x, y).RGBA()
			if near(pr, c.R) && near(pg, c.G) && near(pb, c.B) {
				n++
			}
		}
	}
	return n
}

// TestTimelineOfAPlan draws the events of a plan that really ran: a
// leader, two followers and a client; a follower is killed and started
// again, and the client's exit code fails the plan.
func TestTimelineOfAPlan(t *testing.T) {
	p := New("TestFailover", LogDir(t.TempDir()))
	leader := p.SpawnNamed("leader", "sh", "-c", `trap 'exit 0' TERM; echo "listening on :7001"; while :; do sleep 0.05; done`)
	p.WaitStdout(leader, "listening on")
	f1 := p.SpawnNamed("follower-1", "sh", "-c", `echo joined; exec sleep 60`)
	f2 := p.SpawnNamed("follower-2", "sh", "-c", `echo joined; exec sleep 60`)
	p.WaitStdout(f1, "joined")
	p.WaitStdout(f2, "joined")
	client := p.SpawnNamed("client", "sh", "-c", `sleep 1; echo "3 writes lost" >&2; exit 1`)
	p.Kill(f1, Using(syscall.SIGKILL))
	p.Restart(f1)
	p.Wait(client, 0)
	err := p.Execute(context.Background())
	var pe *PlanError
	if !errors.As(err, &pe) {
		t.Fatalf("Execute = %v, want a PlanError", err)
	}

	page := tlRender(t, Timeline{Plan: pe.Plan, Events: pe.Events, LogDir: pe.LogDir, LinkBase: ".", Failed: true})
	pic := tlParsePicture(t, page)
	rows, names := tlRows(pic)
	if got, want := strings.Join(names, " "), "leader follower-1 follower-2 client"; got != want {
		t.Fatalf("rows %q, want %q", got, want)
	}
	if got := barClasses(rows["follower-1"]); len(got) != 2 || got[0] != "sig" {
		t.Errorf("follower-1: bars %q, want one ended by SIGKILL, then another", got)
	}
	if got := barClasses(rows["client"]); len(got) != 1 || got[0] != "code" {
		t.Errorf("client: bars %q, want one that exits 1", got)
	}
	for _, name := range []string{"leader", "follower-2"} {
		if got := barClasses(rows[name]); len(got) != 1 || got[0] != "stop" {
			t.Errorf("%s: bars %q, want one stopped at the end", name, got)
		}
	}
	if n := len(pic.all(func(n *xnode) bool { return n.XMLName.Local == "rect" && n.hasClass("failed") })); n != 1 {
		t.Errorf("%d failing steps drawn, want 1", n)
	}
	if testing.Verbose() {
		for _, ev := range pe.Events {
			t.Log(ev)
		}
	}
}
