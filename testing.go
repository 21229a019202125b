package proctest

import (
	"context"
	"time"
)

// TB is the part of testing.TB that [Run] uses.
type TB interface {
	Helper()
	Name() string
	Fatal(args ...any)
	Logf(format string, args ...any)
}

// Run builds a plan named after the test with build, then executes it.
// If the plan fails, Run reports it with t.Fatal, so it must be called from
// the test's goroutine. It works in parallel tests.
//
// With [KeepLogs] or PROCTEST_KEEP=1, a plan that passes logs where its
// logs and its timeline page are kept.
//
// When t has a deadline (go test -timeout), no wait outlives it: the plan
// fails a little before it, so that the report is printed before go test
// ends the program.
func Run(t TB, build func(p *Plan), opts ...Option) {
	t.Helper()
	var warnings []string
	opts = append(opts[:len(opts):len(opts)], OnEvent(func(e Event) {
		switch {
		case e.Kind == EventWarning:
			warnings = append(warnings, e.String())
		case e.Kind == EventPlanEnd && e.Detail != "":
			// With KeepLogs or PROCTEST_KEEP=1, where the logs are.
			t.Logf("proctest: %s", e.Detail)
		}
	}))
	p := New(t.Name(), opts...)
	build(p)
	defer func() {
		for _, w := range warnings {
			t.Logf("proctest: warning: %s", w)
		}
	}()
	ctx := context.Background()
	if d, ok := t.(interface{ Deadline() (time.Time, bool) }); ok {
		if dl, ok := d.Deadline(); ok {
			var cancel context.CancelFunc
			ctx, cancel = context.WithDeadline(ctx, dl.Add(-deadlineGrace(time.Until(dl))))
			defer cancel()
		}
	}
	if err := p.Execute(ctx); err != nil {
		t.Fatal(err)
	}
}

// deadlineGrace is how long before the test's deadline the plan gives up,
// for a test with left to go: a tenth of it, between 1 and 5 seconds, and
// never more than half of it.
func deadlineGrace(left time.Duration) time.Duration {
	g := min(max(left/10, time.Second), 5*time.Second)
	return min(g, left/2)
}
