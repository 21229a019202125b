package proctest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/proctest/proctest/internal/timeline"
	"github.com/proctest/proctest/internal/timeline/timelinetest"
)

// The page's drawing is tested in internal/timeline, with golden files.
// These tests are of what proctest adds: the conversion of its events,
// its errors, the page of a plan that really ran, and the page in a
// real browser.

// timelinePNG and timelineHostsPNG, if set, are where TestTimelineBrowser
// and TestTimelineBrowserHosts copy their screenshots of the sample
// pages, as in
//
//	go test -run TestTimelineBrowser -timeline-png=docs/timeline.png -timeline-hosts-png=docs/timeline-hosts.png
var (
	timelinePNG      = flag.String("timeline-png", "", "copy the timeline page's screenshot to this file")
	timelineHostsPNG = flag.String("timeline-hosts-png", "", "copy the screenshot of the timeline page of a plan with hosts to this file")
)

// sampleTimeline returns the events of
// internal/timeline/testdata/failover.jsonl, the sample of the page's
// own tests: a plan with a leader, two followers and a client, where a
// follower is killed and started again, and the client's exit fails the
// last step.
func sampleTimeline(t *testing.T) Timeline {
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

// hostsTimeline returns the events of
// internal/timeline/testdata/hosts.jsonl, the page's own sample of a plan
// with hosts: three hosts with a server each, and a client on this
// machine; the network is split, made lossy, healed; n2 is paused and
// resumed, n3 killed and restarted, and n1 isolated until the end.
func hostsTimeline(t *testing.T) Timeline {
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

// readSample returns the events of internal/timeline/testdata/name, as
// the -json output writes them.
func readSample(t *testing.T, name string) []Event {
	t.Helper()
	f, err := os.Open(filepath.Join("internal", "timeline", "testdata", name))
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

// decodeEvent decodes an event as the -json output writes it, with its
// status as {"code":N} or {"signal":"NAME"}.
func decodeEvent(line []byte) (Event, error) {
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

// renderTimeline returns the page of tl, failing the test on an error.
func renderTimeline(t *testing.T, tl Timeline) string {
	t.Helper()
	var b bytes.Buffer
	if err := WriteTimeline(&b, tl); err != nil {
		t.Fatalf("WriteTimeline: %v", err)
	}
	return b.String()
}

// TestTimelineGolden draws the samples with WriteTimeline, and compares
// the pages with internal/timeline's golden files of the same samples:
// the conversion of proctest's events (kinds, statuses and signal names,
// hosts and what their events did, the network's faults, the lines
// listed) loses nothing. go test -update ./internal/timeline/ rewrites
// the files.
func TestTimelineGolden(t *testing.T) {
	failover := sampleTimeline(t)
	failover.LogDir, failover.LinkBase = "/tmp/proctest-TestFailover-2291", "."
	for _, c := range []struct {
		name string
		tl   Timeline
	}{{"failover", failover}, {"hosts", hostsTimeline(t)}} {
		got := renderTimeline(t, c.tl)
		path := filepath.Join("internal", "timeline", "testdata", c.name+".html")
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if got != string(want) {
			gotLines, wantLines := strings.Split(got, "\n"), strings.Split(string(want), "\n")
			for i := range min(len(gotLines), len(wantLines)) {
				if gotLines[i] != wantLines[i] {
					t.Fatalf("WriteTimeline(%s) differs from %s at line %d:\n got %s\nwant %s", c.name, path, i+1, gotLines[i], wantLines[i])
				}
			}
			t.Fatalf("WriteTimeline(%s) has %d lines, %s has %d", c.name, len(gotLines), path, len(wantLines))
		}
	}
}

func TestTimelineKindsAndStatuses(t *testing.T) {
	for _, c := range []struct {
		kind EventKind
		want timeline.Kind
	}{
		{EventPlanStart, timeline.PlanStart},
		{EventStep, timeline.Step},
		{EventSpawn, timeline.Spawn},
		{EventSignal, timeline.Signal},
		{EventReady, timeline.Ready},
		{EventExit, timeline.Exit},
		{EventFail, timeline.Fail},
		{EventStop, timeline.Stop},
		{EventWarning, timeline.Warning},
		{EventInfo, timeline.Info},
		{EventHost, timeline.Host},
		{EventNet, timeline.Net},
		{EventPlanEnd, timeline.PlanEnd},
	} {
		if got := timeline.Kind(c.kind); got != c.want {
			t.Errorf("timeline.Kind(%q) = %q, want %q", c.kind, got, c.want)
		}
	}
	for _, st := range []Status{{}, {Code: 2}, {Signal: syscall.SIGKILL}, {Signal: syscall.Signal(45)}} {
		page := renderTimeline(t, Timeline{Events: []Event{{Kind: EventExit, Proc: "p", Pid: 1, Status: &st}}})
		if !strings.Contains(page, "<title>p (pid 1): "+st.String()+" at ") {
			t.Errorf("the page of an exit with status %v does not say it", st)
		}
	}
}

// TestTimelineHostChanges checks that the page reads what each host event
// did from the words the engine writes.
func TestTimelineHostChanges(t *testing.T) {
	for _, c := range []struct {
		detail string
		want   timeline.HostChange
	}{
		{hostUpAt + "10.77.0.1", timeline.HostUp},
		{hostPaused + " (cgroup)", timeline.HostPaused},
		{hostResumed, timeline.HostResumed},
		{hostKilled + " (cgroup)", timeline.HostKilled},
		{hostRestarted, timeline.HostRestarted},
		{"clock stepped", timeline.HostOther},
	} {
		if got := hostChange(c.detail); got != c.want {
			t.Errorf("hostChange(%q) = %v, want %v", c.detail, got, c.want)
		}
	}
}

// failWriter fails every write.
type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errDiskFull }

var errDiskFull = errors.New("disk full")

func TestTimelineErrors(t *testing.T) {
	err := WriteTimeline(failWriter{}, sampleTimeline(t))
	if err == nil || err.Error() != "proctest: timeline: disk full" || !errors.Is(err, errDiskFull) {
		t.Errorf("WriteTimeline = %v, want proctest: timeline: disk full", err)
	}
	tl := Timeline{LogDir: t.TempDir(), LinkBase: "javascript:alert(1)"}
	err = WriteTimeline(&bytes.Buffer{}, tl)
	if want := `proctest: timeline: link base "javascript:alert(1)": scheme "javascript" not allowed`; err == nil || err.Error() != want {
		t.Errorf("LinkBase javascript: WriteTimeline = %v, want %s", err, want)
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
	tl := sampleTimeline(t)
	tl.LogDir, tl.LinkBase = dir, "."
	for _, name := range []string{"leader", "follower-1", "follower-2", "client"} {
		for _, stream := range []string{"stdout", "stderr"} {
			if err := os.WriteFile(filepath.Join(dir, name+"."+stream), []byte(name+" "+stream+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	page := filepath.Join(dir, "timeline.html")
	if err := os.WriteFile(page, []byte(renderTimeline(t, tl)), 0o644); err != nil {
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
	img, b := screenshot(t, chromium, page)
	// Each colour of the sample's bars, and the failing step's, is seen.
	for name, c := range map[string]color.RGBA{
		"exit code ≠ 0": {0xe0, 0x75, 0x2d, 0xff},
		"signal":        {0x8b, 0x5f, 0xc7, 0xff},
		"stopped":       {0x7f, 0x8d, 0xa0, 0xff},
		"failing step":  {0xd6, 0x3a, 0x3a, 0xff},
	} {
		if n := countColor(img, c); n < 50 {
			t.Errorf("%d pixels of %s colour %v in the screenshot, want at least 50", n, name, c)
		}
	}
	if *timelinePNG != "" {
		if err := os.WriteFile(*timelinePNG, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// screenshot returns chromium's screenshot of page, 1200×800, decoded and
// as the PNG file's bytes.
func screenshot(t *testing.T, chromium, page string) (image.Image, []byte) {
	t.Helper()
	shot := strings.TrimSuffix(page, ".html") + ".png"
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
	return img, b
}

// TestTimelineBrowserHosts renders the page of a plan with hosts in
// chromium: a row per host above its processes, its paused and down
// spans, and a band for each state of the network with faults.
func TestTimelineBrowserHosts(t *testing.T) {
	chromium := findChromium(t)
	dir := filepath.Join(t.TempDir(), "proctest-TestSplitBrain-5120")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	tl := hostsTimeline(t)
	tl.LogDir, tl.LinkBase = dir, "."
	page := filepath.Join(dir, "timeline.html")
	if err := os.WriteFile(page, []byte(renderTimeline(t, tl)), 0o644); err != nil {
		t.Fatal(err)
	}

	// The DOM after the page's script ran: three hosts and this machine,
	// four processes, three states of the network with faults, each a
	// box in the network lane and a band across the rows.
	dom := string(runChromium(t, chromium, page, "--dump-dom"))
	for want, n := range map[string]int{
		`<g class="host">`:                      3,
		`<g class="host local">`:                1,
		`<g class="proc">`:                      4,
		`<rect class="netbox s`:                 4, // with the legend's
		`<rect class="netband"`:                 3,
		`<rect class="hostspan paused"`:         2, // with the legend's
		`<rect class="hostspan down"`:           2, // with the legend's
		"<title>network: n1,n2 | n3\n":          2,
		`<title>network: n1 isolated`:           2,
		`<text class="netlabel"`:                3,
		`<path class="mk kill"`:                 2, // with the legend's
		`>n3</text>`:                            1,
		`still in force at the end of the plan`: 2,
	} {
		if got := strings.Count(dom, want); got != n {
			t.Errorf("the browser's DOM has %s %d times, want %d", want, got, n)
		}
	}

	img, b := screenshot(t, chromium, page)
	// The colours of a host down, a host paused and the network's boxes
	// are seen.
	for name, c := range map[string]color.RGBA{
		"host down":     {0x3f, 0x48, 0x54, 0xff},
		"host paused":   {0xee, 0xc2, 0x5a, 0xff},
		"network fault": {0xdb, 0xe5, 0xf8, 0xff},
	} {
		if n := countColor(img, c); n < 50 {
			t.Errorf("%d pixels of %s colour %v in the screenshot, want at least 50", n, name, c)
		}
	}
	if *timelineHostsPNG != "" {
		if err := os.WriteFile(*timelineHostsPNG, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// countColor counts the pixels of img that are near c.
func countColor(img image.Image, c color.RGBA) int {
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

	page := renderTimeline(t, Timeline{Plan: pe.Plan, Events: pe.Events, LogDir: pe.LogDir, LinkBase: ".", Failed: true})
	pic, err := timelinetest.Picture(page)
	if err != nil {
		t.Fatal(err)
	}
	rows, names := timelinetest.Rows(pic)
	if got, want := strings.Join(names, " "), "leader follower-1 follower-2 client"; got != want {
		t.Fatalf("rows %q, want %q", got, want)
	}
	if got := timelinetest.BarClasses(rows["follower-1"]); len(got) != 2 || got[0] != "sig" {
		t.Errorf("follower-1: bars %q, want one ended by SIGKILL, then another", got)
	}
	if got := timelinetest.BarClasses(rows["client"]); len(got) != 1 || got[0] != "code" {
		t.Errorf("client: bars %q, want one that exits 1", got)
	}
	for _, name := range []string{"leader", "follower-2"} {
		if got := timelinetest.BarClasses(rows[name]); len(got) != 1 || got[0] != "stop" {
			t.Errorf("%s: bars %q, want one stopped at the end", name, got)
		}
	}
	if n := len(pic.All(func(n *timelinetest.Node) bool { return n.XMLName.Local == "rect" && n.HasClass("failed") })); n != 1 {
		t.Errorf("%d failing steps drawn, want 1", n)
	}
	if testing.Verbose() {
		for _, ev := range pe.Events {
			t.Log(ev)
		}
	}
}

// TestTimelineOfAHostPlan draws the events of a plan with hosts that
// really ran: a server on each of three hosts and a client on this
// machine; the network is split and healed, n2 paused and resumed, n3
// killed and restarted, and n1 isolated until the servers are stopped.
func TestTimelineOfAHostPlan(t *testing.T) {
	if ok, why := Supported(FeatureHosts); !ok {
		if os.Getenv("CI") != "" {
			t.Fatalf("hosts are not supported here, in CI: %s", why)
		}
		t.Skip("hosts are not supported here:", why)
	}
	var events []Event
	p := New("TestSplitBrain", LogDir(t.TempDir()), OnEvent(func(e Event) { events = append(events, e) }))
	n1, n2, n3 := p.Host("n1"), p.Host("n2"), p.Host("n3")
	var servers []*Proc
	for _, h := range []*Host{n1, n2, n3} {
		srv := h.SpawnNamed("kv-"+h.Name(), "sh", "-c", `trap 'exit 0' TERM; echo up; while :; do sleep 0.05; done`)
		p.WaitStdout(srv, "^up$")
		servers = append(servers, srv)
	}
	client := p.SpawnNamed("client", "sh", "-c", "sleep 0.3")
	p.Partition(Hosts{n1, n2}, Hosts{n3})
	p.Heal()
	p.PauseHost(n2)
	p.ResumeHost(n2)
	p.KillHost(n3)
	p.RestartHost(n3)
	p.Restart(servers[2])
	p.Isolate(n1)
	p.Wait(client, 0)
	for _, srv := range servers {
		p.Kill(srv, srv.Exits(0))
	}
	if err := p.Execute(context.Background()); err != nil {
		t.Fatalf("Execute = %v", err)
	}

	page := renderTimeline(t, Timeline{Plan: "TestSplitBrain", Events: events})
	pic, err := timelinetest.Picture(page)
	if err != nil {
		t.Fatal(err)
	}
	hosts, names := timelinetest.Hosts(pic)
	if got, want := strings.Join(names, " "), "n1 n2 n3 this machine"; got != want {
		t.Fatalf("host rows %q, want %q", got, want)
	}
	if _, names := timelinetest.Rows(pic); strings.Join(names, " ") != "kv-n1 kv-n2 kv-n3 client" {
		t.Errorf("process rows %q, want the servers, then the client", names)
	}
	count := func(row *timelinetest.Node, class string) int {
		return len(row.All(func(n *timelinetest.Node) bool {
			return (n.XMLName.Local == "rect" || n.XMLName.Local == "path") && n.HasClass(class)
		}))
	}
	for _, c := range []struct {
		host, class string
		want        int
	}{
		{"n1", "hostspan", 0}, {"n2", "paused", 1}, {"n2", "down", 0}, {"n3", "down", 1}, {"n3", "kill", 1}, {"n3", "restart", 1},
	} {
		if got := count(hosts[c.host], c.class); got != c.want {
			t.Errorf("host %s: %d marks of class %s, want %d", c.host, got, c.class, c.want)
		}
	}
	bands := timelinetest.NetBands(pic)
	if len(bands) != 2 || !strings.HasPrefix(bands[0].Title(), "network: n1,n2 | n3\n") ||
		!strings.Contains(bands[0].Title(), "then healed") || !strings.HasPrefix(bands[1].Title(), "network: n1 isolated\n") ||
		!strings.Contains(bands[1].Title(), "still in force at the end of the plan") {
		var titles []string
		for _, b := range bands {
			titles = append(titles, b.Title())
		}
		t.Errorf("net bands %q, want the partition, healed, and the isolation in force at the end", titles)
	}
	if testing.Verbose() {
		for _, ev := range events {
			t.Log(ev)
		}
	}
}
