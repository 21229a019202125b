package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/proctest/proctest"
)

// The proctest variants: plans built with the library's API, timed from
// the start of building to the end of Execute, which removes the logs of
// a plan that succeeds.

// newPlan returns a plan logging under e.LogRoot, waiting at most
// e.Timeout for each step.
func (e *Env) newPlan(name string, opts ...proctest.Option) *proctest.Plan {
	p := proctest.New(name, append([]proctest.Option{proctest.LogDir(e.LogRoot)}, opts...)...)
	p.SetTimeout(e.Timeout)
	return p
}

// execute builds a plan with build and executes it, timing both.
func (e *Env) execute(name string, build func(p *proctest.Plan), opts ...proctest.Option) (time.Duration, error) {
	start := time.Now()
	p := e.newPlan(name, opts...)
	build(p)
	if err := p.Execute(context.Background()); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

// proctestSequential spawns argv and waits for its exit 0, n times in a
// row, in one plan.
func (e *Env) proctestSequential(name string, n int, argv []string, opts ...proctest.Option) (time.Duration, error) {
	return e.execute(name, func(p *proctest.Plan) {
		for range n {
			p.Wait(p.Spawn(argv[0], argv[1:]...), 0)
		}
	}, opts...)
}

// parArgs returns n copies of argv.
func parArgs(n int, argv []string) [][]string {
	argvs := make([][]string, n)
	for i := range argvs {
		argvs[i] = argv
	}
	return argvs
}

// proctestParallel spawns n copies of argv at once and waits for them all
// to exit 0.
func (e *Env) proctestParallel(name string, n int, argv []string) (time.Duration, error) {
	return e.execute(name, func(p *proctest.Plan) {
		procs := p.SpawnPar(parArgs(n, argv)...)
		exits := make([]proctest.Exit, len(procs))
		for i, proc := range procs {
			exits[i] = proc.Exits(0)
		}
		p.WaitPar(exits...)
	})
}

func proctestSerial(e *Env, s Size) (Raw, error) {
	d, err := e.proctestSequential("serial", s.N, []string{e.True})
	return Raw{Elapsed: d}, err
}

func proctestFanOut(e *Env, s Size) (Raw, error) {
	d, err := e.proctestParallel("fan-out", s.N, []string{e.True})
	return Raw{Elapsed: d}, err
}

func proctestConcurrency(e *Env, s Size) (Raw, error) {
	d, err := e.proctestParallel("concurrency", s.N, []string{e.Sleep, seconds(s.Sleep)})
	return Raw{Elapsed: d}, err
}

func proctestExitDetect(e *Env, s Size) (Raw, error) {
	d, err := e.proctestSequential("exit-detect", s.N, []string{e.Sleep, "0.01"})
	return Raw{Elapsed: d}, err
}

func proctestKill(e *Env, s Size) (Raw, error) {
	d, err := e.execute("kill", func(p *proctest.Plan) {
		procs := p.SpawnPar(parArgs(s.N, []string{e.Sleep, "60"})...)
		for _, proc := range procs {
			p.Kill(proc)
		}
	})
	return Raw{Elapsed: d}, err
}

func proctestOutput(e *Env, s Size) (Raw, error) {
	d, err := e.execute("output", func(p *proctest.Plan) {
		g := p.Spawn(e.Self)
		g.Env = genEnv(s.Bytes)
		p.Wait(g, 0)
	})
	return Raw{Elapsed: d, Bytes: s.Bytes + int64(len(Marker)+1)}, err
}

func proctestOutputWatch(e *Env, s Size) (Raw, error) {
	d, err := e.execute("output-watch", func(p *proctest.Plan) {
		g := p.Spawn(e.Self)
		g.Env = genEnv(s.Bytes)
		p.WaitStdout(g, markerPattern)
		p.Wait(g, 0)
	})
	return Raw{Elapsed: d, Bytes: s.Bytes + int64(len(Marker)+1)}, err
}

func proctestReadiness(e *Env, s Size) (Raw, error) {
	dir, err := os.MkdirTemp(e.LogRoot, "stamps-")
	if err != nil {
		return Raw{}, err
	}
	defer os.RemoveAll(dir)
	seen := make([]time.Time, s.N)
	var noticed []time.Time
	onEvent := proctest.OnEvent(func(ev proctest.Event) {
		if ev.Kind == proctest.EventReady {
			noticed = append(noticed, ev.Time)
		}
	})
	stamps := make([]string, s.N)
	d, err := e.execute("readiness", func(p *proctest.Plan) {
		for i := range s.N {
			stamps[i] = filepath.Join(dir, fmt.Sprintf("r%d", i))
			r := p.Spawn(e.Self, stamps[i])
			r.Env = readyEnv()
			p.WaitStdout(r, readyPattern)
			mark := p.Go("mark", func(ctx context.Context) error {
				seen[i] = time.Now()
				return nil
			})
			p.Wait(mark, 0)
			p.Kill(r)
		}
	}, onEvent)
	if err != nil {
		return Raw{}, err
	}
	if len(noticed) != s.N {
		return Raw{}, fmt.Errorf("%d ready events for %d samples", len(noticed), s.N)
	}
	r := Raw{Elapsed: d, Latencies: make([]time.Duration, s.N), Noticed: make([]time.Duration, s.N)}
	for i := range s.N {
		printed, err := readStamp(stamps[i])
		if err != nil {
			return Raw{}, err
		}
		r.Latencies[i] = seen[i].Sub(printed)
		r.Noticed[i] = noticed[i].Sub(printed)
	}
	return r, nil
}

func proctestScale(e *Env, s Size) (Raw, error) {
	w := newWindows(s)
	exits := -1
	onEvent := proctest.OnEvent(func(ev proctest.Event) {
		switch ev.Kind {
		case proctest.EventStep:
			if ev.Step == 1 {
				w.done(-1)
			}
		case proctest.EventExit:
			exits++
			w.done(exits)
		}
	})
	d, err := e.proctestSequential("scale", s.N, []string{e.True}, onEvent)
	return w.raw(d), err
}

// The containment layers of the plan-end workloads, as the plan-start
// info event names them.
const (
	layerCgroup    = "cgroup"
	layerSubreaper = "child subreaper"
)

// planEnds executes n plans of one /bin/true, a spawn and a wait for exit
// 0, and returns for each the time from the exit of /bin/true, which ends
// the last step, to the return of Execute. It also returns the layers of
// containment and the warnings the plans reported.
func (e *Env) planEnds(n int) (ends []time.Duration, layers string, warnings []string, err error) {
	for range n {
		var exited time.Time
		onEvent := proctest.OnEvent(func(ev proctest.Event) {
			switch ev.Kind {
			case proctest.EventExit:
				exited = ev.Time
			case proctest.EventInfo:
				if l, ok := strings.CutPrefix(ev.Detail, "containment: "); ok {
					layers = l
				}
			case proctest.EventWarning:
				warnings = append(warnings, ev.Detail)
			}
		})
		p := e.newPlan("plan-end", onEvent)
		p.Wait(p.Spawn(e.True), 0)
		if err := p.Execute(context.Background()); err != nil {
			return nil, "", nil, err
		}
		ends = append(ends, time.Since(exited))
	}
	return ends, layers, warnings, nil
}

// checkLayer checks that layers, as a plan reported them, start with
// want. Without cgroups here, the cgroup layer is skipped.
func checkLayer(want, layers string, warnings []string) error {
	first, _, _ := strings.Cut(layers, ", ")
	if first == want || strings.HasPrefix(first, want+" ") {
		return nil
	}
	if want == layerCgroup {
		return skip("no cgroup layer here (%s)", strings.Join(warnings, "; "))
	}
	return fmt.Errorf("containment is %q, want %s first: %s is read once per program, so the workload needs a process of its own",
		layers, want, "PROCTEST_CGROUP=0")
}

// proctestPlanEnd returns the run of a plan-end workload for layer: half
// of the N samples without idle processes, N with s.Idle of them, then
// the other half without, so that a drift of the machine over the run
// does not fall on one side.
func proctestPlanEnd(layer string) func(e *Env, s Size) (Raw, error) {
	return func(e *Env, s Size) (Raw, error) {
		start := time.Now()
		before, layers, warnings, err := e.planEnds(max(s.N/2, 1))
		if err != nil {
			return Raw{}, err
		}
		if err := checkLayer(layer, layers, warnings); err != nil {
			return Raw{}, err
		}
		idle, err := e.StartIdle(s.Idle)
		if err != nil {
			return Raw{}, err
		}
		defer idle.Stop()
		loaded, _, _, err := e.planEnds(s.N)
		if err := errors.Join(err, idle.Stop()); err != nil {
			return Raw{}, err
		}
		after, _, _, err := e.planEnds(s.N - len(before))
		if err != nil {
			return Raw{}, err
		}
		return Raw{Elapsed: time.Since(start), Ends: append(before, after...), EndsIdle: loaded}, nil
	}
}
