package proctest

import (
	"context"
	"errors"
	"syscall"
)

// interruptError is the failure of a step cut short by the end of the
// plan's context: a signal, a cancellation, the deadline. It says why in
// words and unwraps to the context's error, so that errors.Is(err,
// context.Canceled) holds.
type interruptError struct {
	where, step string
	why         string
	err         error
}

func (e *interruptError) Error() string { return prefix(e.where, e.step) + e.why }

func (e *interruptError) Unwrap() error { return e.err }

// interruptReason says in words why ctx ended, err being its error.
func interruptReason(ctx context.Context, err error) string {
	if sig, ok := interruptedBy().(syscall.Signal); ok {
		how := ""
		switch sig {
		case syscall.SIGINT:
			how = " (Ctrl-C)"
		case syscall.SIGTERM:
			how = " (asked to terminate)"
		}
		return "interrupted: the program running the plan received " + signalName(sig) + how +
			"; the plan stopped its processes and kept their logs"
	}
	if cause := context.Cause(ctx); cause != nil && cause != err {
		return "interrupted: " + cause.Error()
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "interrupted: the plan's deadline came"
	}
	return "interrupted: the plan's context was canceled (" + err.Error() + ")"
}
