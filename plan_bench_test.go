package proctest_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/proctest/proctest"
)

// BenchmarkPlanLength is spawn and wait of /bin/true, one after the
// other, in plans of 100 to 1000 processes: the cost per process should
// not depend on the plan's length. Each round runs one plan of each
// length, in an order that rotates from round to round, so that the
// lengths share the machine's moments alike. Logs go to /dev/shm.
func BenchmarkPlanLength(b *testing.B) {
	lengths := []int{100, 200, 500, 1000}
	total := make([]time.Duration, len(lengths))
	round := 0
	for b.Loop() {
		for k := range lengths {
			i := (k + round) % len(lengths)
			start := time.Now()
			p := proctest.New(fmt.Sprint("length", lengths[i]), proctest.LogDir("/dev/shm"))
			for range lengths[i] {
				p.Wait(p.Spawn("true"), 0)
			}
			if err := p.Execute(context.Background()); err != nil {
				b.Fatal(err)
			}
			total[i] += time.Since(start)
		}
		round++
	}
	for i, n := range lengths {
		b.ReportMetric(float64(total[i].Microseconds())/float64(round*n), fmt.Sprintf("µs/proc-%d", n))
	}
	b.ReportMetric(0, "ns/op")
}
