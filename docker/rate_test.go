package docker_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/proctest/proctest"
)

// TestRate limits n1 to n2 to 1 Mbit/s: 500 KB take at least 3 s from n1
// to n2 (4 s at the rate, less what HTB lets through ahead of it), while
// n2 to n1 is not limited; n1's eth0 has an HTB qdisc. Once healed, 500 KB
// go fast again and the qdisc is gone. The same plan on namespace hosts
// is the core's TestLossAndRate.
func TestRate(t *testing.T) {
	t.Parallel()
	var dir string
	err := execute(t, func(p *proctest.Plan) {
		n1, n2 := p.Host("n1"), p.Host("n2")
		sinks := []*proctest.Proc{
			n1.SpawnNamed("sink1", "testprog", "sink", "{{n1.addr}}:7000"),
			n2.SpawnNamed("sink2", "testprog", "sink", "{{n2.addr}}:7000"),
		}
		for _, s := range sinks {
			p.WaitStdout(s, "^listening$")
		}
		p.Shape(n1, n2, proctest.Rate("1mbit"))
		shaped := n1.SpawnNamed("qdiscs-shaped", "testprog", "qdiscs", "eth0")
		p.Wait(shaped, 0)
		p.ExpectStdout(shaped, "^htb$")
		p.Wait(n1.SpawnNamed("limited", "testprog", "source", "{{n2.addr}}:7000", "500000"), 0).Timeout(30 * time.Second)
		p.Wait(n2.SpawnNamed("back", "testprog", "source", "{{n1.addr}}:7000", "500000"), 0)
		p.Heal()
		p.Wait(n1.SpawnNamed("healed", "testprog", "source", "{{n2.addr}}:7000", "500000"), 0)
		p.Wait(n1.SpawnNamed("qdiscs-healed", "testprog", "qdiscs", "eth0"), 0)
		for _, s := range sinks {
			p.Kill(s)
		}
	}, proctest.KeepLogs(), logDirOf(&dir)) // in the test's temporary directory
	if err != nil {
		t.Fatal(err)
	}
	secs := func(name string) float64 {
		t.Helper()
		b, _ := os.ReadFile(filepath.Join(dir, name+".stdout"))
		var n int
		var s float64
		if _, err := fmt.Sscanf(string(b), "sent %d bytes in %fs", &n, &s); err != nil || n != 500000 {
			t.Fatalf("%s said %q, want 500000 bytes sent", name, b)
		}
		t.Logf("%s: 500000 bytes in %.3fs", name, s)
		return s
	}
	if s := secs("limited"); s < 3 {
		t.Errorf("n1 to n2 at 1 Mbit/s: 500000 bytes in %.3fs, want at least 3s", s)
	}
	// Far from the 4 s of the rate, with room for a loaded machine.
	if s := secs("back"); s > 2 {
		t.Errorf("n2 to n1, not limited: 500000 bytes in %.3fs, want under 2s", s)
	}
	if s := secs("healed"); s > 2 {
		t.Errorf("n1 to n2, healed: 500000 bytes in %.3fs, want under 2s", s)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "qdiscs-healed.stdout"))
	t.Logf("healed: the qdiscs of n1's eth0: %q", b)
	if strings.Contains(string(b), "htb") {
		t.Errorf("after healing, the qdiscs of n1's eth0 are %q, want no htb", b)
	}
}

// logDirOf is an option that stores the plan's log directory in dir.
func logDirOf(dir *string) proctest.Option {
	return proctest.OnEvent(func(e proctest.Event) {
		if e.Kind == proctest.EventPlanStart {
			*dir = strings.TrimPrefix(e.Detail, "logs in ")
		}
	})
}

// TestDelayRefused shapes a link with a delay, which containers do not
// do: the plan fails before it starts, with an UnsupportedError.
func TestDelayRefused(t *testing.T) {
	t.Parallel()
	err := execute(t, func(p *proctest.Plan) {
		n1, n2 := p.Host("n1"), p.Host("n2")
		p.Wait(n1.Spawn("testprog", "exit", "0"), 0)
		p.Shape(n1, n2, proctest.Delay(50*time.Millisecond, 0))
	})
	ue := asError[*proctest.UnsupportedError](t, err)
	if ue.Feature != proctest.FeatureDelay || !strings.Contains(ue.Reason, "delay") || !strings.Contains(ue.Where, "rate_test.go") {
		t.Errorf("UnsupportedError = %+v, want delay, at this file", ue)
	}
}
