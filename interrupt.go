package proctest

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"
)

// Interrupts. While plans run, SIGINT (Ctrl-C in go test) and SIGTERM do
// not kill the program at once: every running plan is stopped as at its
// end, its report (with where its logs are kept) is printed to stderr, and
// then the signal is raised again, so the program ends as it would have.
// A plan that was running when the signal came fails, even if its steps
// were all done: an interrupted run never passes. A second signal, while
// the first is being handled, ends the program at once: it kills the
// processes of the running plans with SIGKILL (the guard kills what they
// left), says so on stderr, and raises that signal. When no plan runs,
// the signals are left alone.

var interrupts struct {
	mu      sync.Mutex
	active  map[*executor]context.CancelCauseFunc
	signals chan os.Signal
	stop    chan struct{} // closed to end the watcher
	done    chan struct{} // closed when the watcher has ended
	caught  os.Signal     // the first signal, once handled
}

// watchInterrupts registers a running plan, whose context cancel ends it,
// and returns the function to call when it is over. That function returns
// the signal that interrupted the plans, if one did, and whether the plan
// was the last running, which must then raise it again once it has said
// what happened.
func watchInterrupts(e *executor, cancel context.CancelCauseFunc) (unregister func() (sig os.Signal, last bool)) {
	in := &interrupts
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.active == nil {
		in.active = map[*executor]context.CancelCauseFunc{}
	}
	if in.caught != nil {
		cancel(fmt.Errorf("interrupted by %v", in.caught))
	}
	in.active[e] = cancel
	if len(in.active) == 1 && in.signals == nil {
		in.signals = make(chan os.Signal, 2)
		in.stop = make(chan struct{})
		in.done = make(chan struct{})
		signal.Notify(in.signals, syscall.SIGINT, syscall.SIGTERM)
		go watch(in.signals, in.stop, in.done)
	}
	return func() (os.Signal, bool) {
		in.mu.Lock()
		delete(in.active, e)
		if len(in.active) > 0 {
			defer in.mu.Unlock()
			return in.caught, false
		}
		// Once Stop returns, no signal is on its way to the channel:
		// the watcher handles what is in it, then ends.
		signal.Stop(in.signals)
		close(in.stop)
		done := in.done
		in.signals = nil
		in.mu.Unlock()
		<-done
		in.mu.Lock()
		defer in.mu.Unlock()
		return in.caught, true
	}
}

// watch handles the signals until it is stopped, and then those that came
// before.
func watch(signals chan os.Signal, stop, done chan struct{}) {
	defer close(done)
	for {
		select {
		case sig := <-signals:
			handleSignal(sig)
		case <-stop:
			for {
				select {
				case sig := <-signals:
					handleSignal(sig)
				default:
					return
				}
			}
		}
	}
}

// handleSignal handles sig. The first signal cancels every running plan;
// the last of them raises it again when it is over. A second one kills
// what runs and ends the program.
func handleSignal(sig os.Signal) {
	in := &interrupts
	in.mu.Lock()
	if in.caught == nil {
		in.caught = sig
		for _, cancel := range in.active {
			cancel(fmt.Errorf("interrupted by %v", sig))
		}
		in.mu.Unlock()
		return
	}
	first := in.caught
	killed := 0
	for e := range in.active {
		killed += e.live.killAll()
	}
	in.mu.Unlock()
	what := "processes"
	if killed == 1 {
		what = "process"
	}
	fmt.Fprintf(os.Stderr, "proctest: %v while stopping the plans after %v: killed %d %s; not waiting for the plans to end\n",
		sig, first, killed, what)
	raise(sig.(syscall.Signal))
}

// raise ends the program by sig, as it would have ended without the
// plans' handling of it.
func raise(sig syscall.Signal) {
	signal.Reset(sig)
	syscall.Kill(os.Getpid(), sig)
	time.Sleep(time.Second) // the signal is on its way
	os.Exit(128 + int(sig))
}

// interruptedError returns the failure of plan p, whose steps all went
// as expected, when sig came while it ran.
func interruptedError(p *Plan, sig os.Signal) *PlanError {
	err := fmt.Errorf("proctest: plan %s: interrupted by %v: its steps were done, but a run that was interrupted does not pass", p.name, sig)
	return &PlanError{Plan: p.name, Errors: []error{err}, report: err.Error()}
}

// liveTasks are the processes of a plan that have not ended, which a
// second signal kills from the watcher's goroutine.
type liveTasks struct {
	mu    sync.Mutex
	tasks map[Task]bool
}

func (l *liveTasks) add(t Task) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.tasks == nil {
		l.tasks = map[Task]bool{}
	}
	l.tasks[t] = true
}

func (l *liveTasks) remove(t Task) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.tasks, t)
}

// killAll sends SIGKILL to every live task, and returns how many there
// were.
func (l *liveTasks) killAll() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	for t := range l.tasks {
		t.Signal(syscall.SIGKILL)
	}
	return len(l.tasks)
}

// interruptedBy returns the signal that interrupted the plans, if one did.
func interruptedBy() os.Signal {
	interrupts.mu.Lock()
	defer interrupts.mu.Unlock()
	return interrupts.caught
}
