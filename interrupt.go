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
// When no plan runs, the signals are left alone.

var interrupts struct {
	mu      sync.Mutex
	active  map[*executor]context.CancelCauseFunc
	signals chan os.Signal
	stop    chan struct{} // closed to end the watcher
	done    chan struct{} // closed when the watcher has ended
	caught  os.Signal     // the signal being handled, if any
}

// watchInterrupts registers a running plan, whose context cancel ends it,
// and returns the function to call when it is over. After an interrupt,
// the last plan to end raises the signal again.
func watchInterrupts(e *executor, cancel context.CancelCauseFunc) (unregister func()) {
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
		in.signals = make(chan os.Signal, 1)
		in.stop = make(chan struct{})
		in.done = make(chan struct{})
		signal.Notify(in.signals, syscall.SIGINT, syscall.SIGTERM)
		go watch(in.signals, in.stop, in.done)
	}
	return func() {
		in.mu.Lock()
		delete(in.active, e)
		if len(in.active) > 0 {
			in.mu.Unlock()
			return
		}
		if in.caught != nil {
			raise(in.caught.(syscall.Signal))
		}
		signal.Stop(in.signals)
		close(in.stop)
		done := in.done
		in.signals = nil
		in.mu.Unlock()
		<-done
	}
}

// watch waits for a signal, or to be stopped. On a signal it cancels every
// running plan; the last of them raises the signal again when it is over.
func watch(signals chan os.Signal, stop, done chan struct{}) {
	defer close(done)
	select {
	case <-stop:
	case sig := <-signals:
		in := &interrupts
		in.mu.Lock()
		defer in.mu.Unlock()
		in.caught = sig
		for _, cancel := range in.active {
			cancel(fmt.Errorf("interrupted by %v", sig))
		}
		if len(in.active) == 0 {
			raise(sig.(syscall.Signal))
		}
	}
}

// raise ends the program by sig, as it would have ended without the
// plans' handling of it.
func raise(sig syscall.Signal) {
	signal.Reset(sig)
	syscall.Kill(os.Getpid(), sig)
	time.Sleep(time.Second) // the signal is on its way
	os.Exit(128 + int(sig))
}

// interruptedBy returns the signal that interrupted the plans, or nil.
func interruptedBy() os.Signal {
	interrupts.mu.Lock()
	defer interrupts.mu.Unlock()
	return interrupts.caught
}
