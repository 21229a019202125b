package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// cancelAt is the output of proctest run: it cancels the run, as SIGTERM
// would, when it is written a line that holds match.
type cancelAt struct {
	mu     sync.Mutex
	b      strings.Builder
	match  string
	cancel context.CancelFunc
}

func (w *cancelAt) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.b.Write(p)
	if strings.Contains(string(p), w.match) {
		w.cancel()
	}
	return len(p), nil
}

// A signal that comes as the last plan ends, after its steps all went
// well (here, at its plan-end event), makes the run fail: proctest run
// never prints PASS nor exits 0 for an interrupted run.
func TestSignalAtTheEndNeverPasses(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	plan := filepath.Join(dir, "end.plan")
	if err := os.WriteFile(plan, []byte("spawn true\nwait true 0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		flag, match string
		passed      []string // what says the run passed
	}{
		{"-v", "plan-end", []string{"--- PASS", "\nPASS"}},
		{"-json", `"event":"plan-end"`, []string{`"event":"pass"`}},
	}
	for _, tt := range tests {
		t.Run(tt.flag, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			out := &cancelAt{match: tt.match, cancel: cancel}
			var stderr strings.Builder
			code := runCmd(ctx, []string{tt.flag, "-logdir", filepath.Join(t.TempDir(), "logs"), plan}, out, &stderr, nil)
			got := out.b.String()
			if code == 0 {
				t.Errorf("proctest run %s, interrupted at the plan's end, exited 0; stdout:\n%s", tt.flag, got)
			}
			for _, p := range tt.passed {
				if strings.Contains(got, p) {
					t.Errorf("proctest run %s, interrupted at the plan's end, printed %q:\n%s", tt.flag, p, got)
				}
			}
		})
	}
}
