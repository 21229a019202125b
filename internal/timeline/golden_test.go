package timeline

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestGolden renders representative timelines and compares each page
// byte for byte with testdata/NAME.html; with -update, it rewrites them.
// A change to the page shows as a diff of those files, to be looked at
// in a browser before it is committed.
func TestGolden(t *testing.T) {
	failover := sample(t)
	failover.LogDir, failover.LinkBase = "/tmp/proctest-TestFailover-2291", "."
	fileLinks := Timeline{Events: oneProcess(), LogDir: "/var/log/proctest run"}
	for _, c := range []struct {
		name string
		tl   Timeline
	}{
		// A failed plan: a restart, signals, readiness, links to logs.
		{"failover", failover},
		// No events at all.
		{"empty", Timeline{}},
		// A plan that passed, with file: links and an event about no
		// process.
		{"one-process", fileLinks},
		// A Go function still running at the end, failed after the steps.
		{"running-at-end", Timeline{Events: stubborn(), Failed: true}},
		// Rows past MaxRows summed up in one, steps drawn together.
		{"many-processes", Timeline{Plan: "TestMany", Events: many(200), MaxRows: 10, LogDir: "/logs", LinkBase: "https://ci.example/run/7/"}},
		// Runs past the bound of a row drawn as one.
		{"many-runs", Timeline{Plan: "TestFlaky", Events: flaky(60)}},
		// Names and details that must be escaped.
		{"escaping", evil()},
		// Three hosts, a partition, a heal, a host paused and resumed,
		// another killed and restarted, a fault in force at the end.
		{"hosts", hostsSample(t)},
		// A host killed while paused and down at the end, another paused
		// at the end, a host without processes, a change of no known kind.
		{"hosts-at-end", Timeline{Plan: "TestHostsAtEnd", Events: hostsAtEnd(), Failed: true}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got := []byte(render(t, c.tl))
			path := filepath.Join("testdata", c.name+".html")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (go test -update writes it)", err)
			}
			if !bytes.Equal(got, want) {
				i := firstDiff(got, want)
				t.Errorf("Write(%s) differs from %s at byte %d (go test -update rewrites it):\n got: %s\nwant: %s",
					c.name, path, i, lineAt(got, i), lineAt(want, i))
			}
		})
	}
}

// firstDiff returns the index of the first byte where a and b differ.
func firstDiff(a, b []byte) int {
	n := min(len(a), len(b))
	for i := range n {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}

// lineAt returns the line of b that holds byte i, or "" past the end.
func lineAt(b []byte, i int) string {
	if i >= len(b) {
		return ""
	}
	start := bytes.LastIndexByte(b[:i], '\n') + 1
	end := bytes.IndexByte(b[i:], '\n')
	if end < 0 {
		end = len(b) - i
	}
	return string(b[start : i+end])
}
