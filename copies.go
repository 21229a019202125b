package proctest

import (
	"fmt"
	"io"
	"os"
	"time"
)

// Copies. A plan copies a watched output from its pipe to its log, and a
// reader given as stdin into a pipe to the process. A copy ends when the
// other end of its pipe is closed by every process holding it, which a
// process outside the plan's reach may never do: a descendant that
// escaped the plan, or a program that was passed the descriptor. So the
// end of a plan waits for its copies for the stop ladder's grace at most,
// then closes what is still copying, waits as long again, and says what
// it cut short.
//
// The copy to stdin is not part of a process's life: os/exec's Wait
// would wait for it, and so never see the end of a process whose child
// holds its stdin open. The plan makes the pipe and owns the copy.

// stdinCopy copies a reader to a process's stdin through a pipe.
type stdinCopy struct {
	src  io.Reader
	r, w *os.File // the pipe
	done chan struct{}
}

// pipeStdin returns what to give a process as stdin for in: in itself if
// it is nil or a file, else the read end of a pipe that the stdinCopy
// returned will fill with in once started.
func pipeStdin(in io.Reader) (io.Reader, *stdinCopy, error) {
	if _, ok := in.(*os.File); in == nil || ok {
		return in, nil, nil
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, nil, err
	}
	return r, &stdinCopy{src: in, r: r, w: w, done: make(chan struct{})}, nil
}

// start closes the plan's copy of the read end and, if the process
// started, starts the copy; it returns c.
func (c *stdinCopy) start(started bool) *stdinCopy {
	c.r.Close()
	if !started {
		c.w.Close()
		close(c.done)
		return c
	}
	go func() {
		defer close(c.done)
		io.Copy(c.w, c.src) // an error means the process will read no more
		c.w.Close()
	}()
	return c
}

// ended reports whether the copy is over.
func (c *stdinCopy) ended() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// joinCopies waits for the plan's copies, at the end of the plan, for the
// stop ladder's grace; then it closes the pipes of those still copying,
// and waits as long again. It returns an error for each output whose copy
// it cut short, whose end is lost.
func (e *executor) joinCopies() []error {
	all := make(chan struct{})
	go func() {
		e.wg.Wait()
		for _, c := range e.stdins {
			<-c.done
		}
		close(all)
	}()
	grace := e.stopGrace()
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-all:
		return nil
	case <-t.C:
	}
	var errs []error
	for _, ws := range e.streams {
		if !ws.ended() {
			ws.stop()
			errs = append(errs, fmt.Errorf("proctest: log %s: its pipe was still open %v after the plan's processes ended, "+
				"held by a process outside the plan: copying stopped, output written after that is lost", ws.log, grace))
		}
	}
	for _, c := range e.stdins {
		if !c.ended() {
			c.w.Close()
			e.emit(Event{Kind: EventWarning, Detail: fmt.Sprintf("a copy to stdin was still running %v after the plan's processes ended: its pipe is closed", grace)})
		}
	}
	t.Reset(grace)
	select {
	case <-all:
	case <-t.C:
		e.emit(Event{Kind: EventWarning, Detail: fmt.Sprintf("copies of output or input still blocked %v after their pipes were closed: they are left running", grace)})
	}
	return errs
}
