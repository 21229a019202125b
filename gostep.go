package proctest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
)

// runGoFunc calls fn and sets *st to how it ended: returning nil is exit
// 0; returning an error is exit 1, with the error in stderr; a panic is
// exit 2, with the panic and stack in stderr; and ending the goroutine
// with runtime.Goexit, as t.Fatal, t.FailNow and testify's require do, is
// exit 1, with what called it in stderr. fn's goroutine goes on to run
// the caller's deferred calls after a Goexit, and no further.
func runGoFunc(ctx context.Context, fn func(context.Context) error, stderr *os.File, st *Status) {
	returned := false
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "panic: %v\n\n%s", r, debug.Stack())
			*st = Status{Code: 2}
			return
		}
		if !returned {
			fmt.Fprintf(stderr, "proctest: the function called runtime.Goexit%s (t.Fatal, t.FailNow or require?); "+
				"what it said, if anything, is in the test's log\n", goexitCaller())
			*st = Status{Code: 1}
		}
	}()
	err := fn(ctx)
	returned = true
	if err != nil {
		fmt.Fprintf(stderr, "%v\n", err)
		*st = Status{Code: 1}
		return
	}
	*st = Status{}
}

// goexitCaller returns " at file:line" for the call that led to
// runtime.Goexit, seen from a function it defers to: the first frame
// below Goexit that is not in the runtime, the testing package or
// testify. It returns "" if there is none.
func goexitCaller() string {
	pc := make([]uintptr, 64)
	frames := runtime.CallersFrames(pc[:runtime.Callers(2, pc)])
	below := false
	for {
		f, more := frames.Next()
		switch {
		case f.Function == "runtime.Goexit":
			below = true
		case below && !strings.HasPrefix(f.Function, "runtime.") && !strings.HasPrefix(f.Function, "testing.") &&
			!strings.HasPrefix(f.Function, "github.com/stretchr/testify/"):
			return fmt.Sprintf(" at %s:%d", filepath.Base(f.File), f.Line)
		}
		if !more {
			return ""
		}
	}
}
