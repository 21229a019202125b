package proctest

import (
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// A PlanError is what [Plan.Execute] returns when a plan fails. Its text is
// the whole failure report: each failure, the last lines of output of each
// process involved, where the logs are kept, and a timeline of the plan.
// The individual failures are reached with errors.As, through Unwrap.
type PlanError struct {
	// Plan is the plan's name.
	Plan string
	// Errors holds each failure, in the order they were found.
	Errors []error
	// LogDir is the directory where the plan's logs are kept, or "" when
	// the plan failed before it had one.
	LogDir string
	// Events is the plan's timeline.
	Events []Event

	report string
}

// Error returns the failure report.
func (e *PlanError) Error() string { return e.report }

// Unwrap returns the individual failures.
func (e *PlanError) Unwrap() []error { return e.Errors }

// A BuildError is a mistake in how a plan was built, found before anything
// runs: a nil process, a process of another plan, a wait on a process that
// was never spawned or already ended, a bad timeout, and the like.
type BuildError struct {
	// Where is the file:line of the test code that built the step.
	Where string
	// Step names the step, as in "wait server".
	Step string
	// Err says what is wrong.
	Err error
}

// Error says "where: step: problem".
func (e *BuildError) Error() string { return prefix(e.Where, e.Step) + e.Err.Error() }

// Unwrap returns e.Err.
func (e *BuildError) Unwrap() error { return e.Err }

// A CommandNotFoundError reports a program that cannot be run: not found
// in PATH, a directory, or a file without permission to execute. It
// matches exec.ErrNotFound with errors.Is.
type CommandNotFoundError struct {
	// Command is the command as given to the plan.
	Command string
	// Where is the file:line of the test code that spawned it.
	Where string
	// Err is the lookup's error.
	Err error
}

// Error says "where: spawn cmd: command not found: why".
func (e *CommandNotFoundError) Error() string {
	return prefix(e.Where, "spawn "+e.Command) + "command not found: " + lookupReason(e.Err)
}

// lookupReason turns a LookPath error into words.
func lookupReason(err error) string {
	var ee *exec.Error
	if errors.As(err, &ee) {
		err = ee.Err
	}
	switch {
	case errors.Is(err, exec.ErrNotFound):
		return "no such program in PATH"
	case err != nil && strings.Contains(err.Error(), "permission denied"):
		return "not an executable file (a directory, or no permission to execute)"
	case err != nil:
		return err.Error()
	}
	return "unknown reason"
}

// Unwrap returns e.Err.
func (e *CommandNotFoundError) Unwrap() error { return e.Err }

// Is reports whether target is exec.ErrNotFound.
func (e *CommandNotFoundError) Is(target error) bool { return target == exec.ErrNotFound }

// An ExitCodeError reports a process that ended otherwise than expected:
// another exit code, or a signal.
type ExitCodeError struct {
	// Proc and Pid name the process.
	Proc string
	Pid  int
	// Step and Where name the step that expected the end.
	Step, Where string
	// Want is the expected status, Got the actual one.
	Want, Got Status
}

// Error says want and got.
func (e *ExitCodeError) Error() string {
	return fmt.Sprintf("%s%s: want %s, got %s", prefix(e.Where, e.Step), procLabel(e.Proc, e.Pid), e.Want, e.Got)
}

// An UnexpectedExitError reports a process that ended while no step was
// waiting for it.
type UnexpectedExitError struct {
	// Proc and Pid name the process.
	Proc string
	Pid  int
	// Status is how it ended.
	Status Status
	// At is when it ended, from the start of the plan.
	At time.Duration
	// Awaiting says what the plan was doing then, as in
	// "wait server (server_test.go:12)".
	Awaiting string
}

// Error says which process, how, when and during what.
func (e *UnexpectedExitError) Error() string {
	return fmt.Sprintf("unexpected exit: %s ended with %s at +%.3fs while the plan was at %s",
		procLabel(e.Proc, e.Pid), e.Status, e.At.Seconds(), e.Awaiting)
}

// A StillRunningError lists the processes the plan found running at its
// end, which it then stopped.
type StillRunningError struct {
	// Procs lists them.
	Procs []Leftover
}

// A Leftover is a process found running at the end of a plan.
type Leftover struct {
	// Name is the plan's name of the process; for a descendant, the name
	// of the plan process it descends from, or "" where nothing tells
	// (one that left its session and cleared its environment).
	Name string
	// Pid is its process id.
	Pid int
	// Command is its command line.
	Command string
	// Descendant is true for a process the plan did not start itself:
	// a child left behind by one of its processes.
	Descendant bool
	// Stopped says how it was ended, as in "SIGTERM" or "SIGKILL after
	// 2s".
	Stopped string
}

// Error says the processes and how they were stopped.
func (e *StillRunningError) Error() string {
	var b strings.Builder
	b.WriteString("still running at the end of the plan: ")
	for i, l := range e.Procs {
		if i > 0 {
			b.WriteString(", ")
		}
		if l.Descendant && l.Name == "" {
			fmt.Fprintf(&b, "pid %d %q (left behind by a process of the plan)", l.Pid, l.Command)
		} else if l.Descendant {
			fmt.Fprintf(&b, "pid %d %q (left behind by %s)", l.Pid, l.Command, l.Name)
		} else {
			fmt.Fprintf(&b, "%s (pid %d)", l.Name, l.Pid)
		}
		if l.Stopped != "" {
			fmt.Fprintf(&b, " stopped by %s", l.Stopped)
		}
	}
	return b.String()
}

// A TimeoutError reports a wait that did not end in time. The process it
// waited for is stopped as at the end of the plan: SIGTERM (or the signal
// of [Plan.SetTimeoutSignal]), then SIGKILL after the grace.
type TimeoutError struct {
	// Proc and Pid name the process.
	Proc string
	Pid  int
	// Step and Where name the step.
	Step, Where string
	// Awaited is what the step waited for, as in "exit 0".
	Awaited string
	// Timeout is how long it waited.
	Timeout time.Duration
	// Deadline is true when the test's deadline, not the step's own
	// timeout, cut the wait short.
	Deadline bool
	// Hint, if not empty, is a likely cause, as "; its stdout is still
	// empty: ...", written after the rest.
	Hint string
	// Related names other processes of the plan whose output the report
	// shows: for a wait about no process, those running when it failed.
	Related []string
}

// relatedProcs returns the processes whose logs the report shows.
func (e *TimeoutError) relatedProcs() []string { return e.Related }

// Error says what was awaited, for how long.
func (e *TimeoutError) Error() string {
	why := "timed out"
	if e.Deadline {
		why = "the test's deadline came"
	}
	if e.Proc == "" {
		return fmt.Sprintf("%s%s after %v waiting for %s%s",
			prefix(e.Where, e.Step), why, e.Timeout.Round(time.Millisecond), e.Awaited, e.Hint)
	}
	return fmt.Sprintf("%s%s: %s after %v waiting for %s; stopped it%s",
		prefix(e.Where, e.Step), procLabel(e.Proc, e.Pid), why, e.Timeout.Round(time.Millisecond), e.Awaited, e.Hint)
}

// A StartError reports a program that was found but could not be started,
// for example because the system ran out of processes.
type StartError struct {
	// Proc names the process.
	Proc string
	// Step and Where name the step.
	Step, Where string
	// Err is the error from the backend.
	Err error
}

// Error says the process and why.
func (e *StartError) Error() string {
	return fmt.Sprintf("%scannot start %s: %v", prefix(e.Where, e.Step), e.Proc, e.Err)
}

// Unwrap returns e.Err.
func (e *StartError) Unwrap() error { return e.Err }

// prefix returns "where: step: ", leaving out what is empty.
func prefix(where, step string) string {
	var s string
	if where != "" {
		s = where + ": "
	}
	if step != "" {
		s += step + ": "
	}
	return s
}

// procLabel returns "name (pid N)", or the name alone without a pid.
func procLabel(name string, pid int) string {
	if pid == 0 {
		return name
	}
	return fmt.Sprintf("%s (pid %d)", name, pid)
}

// An UnsupportedError reports a plan that needs something its backend
// cannot do here, found before anything starts. [Supported] tells a test
// beforehand.
type UnsupportedError struct {
	// Feature is what the plan needs.
	Feature Feature
	// Where is the file:line of the first step that needs it.
	Where string
	// Reason says why the backend cannot, as in "hosts need root".
	Reason string
}

func (e *UnsupportedError) Error() string {
	return fmt.Sprintf("%sproctest: the plan needs %s, which its backend cannot do here: %s", prefix(e.Where, ""), e.Feature, e.Reason)
}
