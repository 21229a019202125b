package proctest_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/proctest/proctest"
)

// A plan built and executed without the testing package, as the proctest
// command does.
func ExamplePlan_Execute() {
	p := proctest.New("example")
	echo := p.Spawn("echo", "hello world")
	p.Wait(echo, 0)
	err := p.Execute(context.Background())
	fmt.Println("error:", err)
	// Output: error: <nil>
}

// A failure is a *PlanError with the whole report as its text; the
// individual failures are reached with errors.As.
func ExamplePlanError() {
	p := proctest.New("example", proctest.LogDir(os.TempDir()))
	f := p.Spawn("false")
	p.Wait(f, 0)
	err := p.Execute(context.Background())

	var ec *proctest.ExitCodeError
	if errors.As(err, &ec) {
		fmt.Printf("%s: want %s, got %s\n", ec.Proc, ec.Want, ec.Got)
	}
	var pe *proctest.PlanError
	if errors.As(err, &pe) {
		os.RemoveAll(pe.LogDir)
	}
	// Output: false: want exit 0, got exit 1
}

// A server that chooses its own port prints it; the captured value flows
// into a later step through a variable.
func ExamplePlan_WaitStdout() {
	p := proctest.New("example")
	srv := p.Spawn("sh", "-c", "echo listening on 127.0.0.1:4242; exec sleep 60")
	p.WaitStdout(srv, `listening on (?P<addr>\S+)`)
	client := p.Spawn("echo", "connecting to {{addr}}")
	p.Wait(client, 0)
	p.ExpectStdout(client, `connecting to 127\.0\.0\.1:4242`)
	p.Kill(srv)
	fmt.Println(p.Execute(context.Background()))
	// Output: <nil>
}

// exampleT stands in for the *testing.T a test passes to Run.
type exampleT struct{}

func (exampleT) Helper()                     {}
func (exampleT) Name() string                { return "TestExample" }
func (exampleT) Fatal(args ...any)           { fmt.Println(args...) }
func (exampleT) Logf(string, ...any)         {}
func (exampleT) Deadline() (time.Time, bool) { return time.Time{}, false }

// Run builds a plan, checks it, runs it after the function returns, and
// fails the test with the report if anything went otherwise. In a test,
// pass the *testing.T.
func ExampleRun() {
	var t proctest.TB = exampleT{} // in a test: t *testing.T
	proctest.Run(t, func(p *proctest.Plan) {
		sh := p.Spawn("sh", "-c", "echo ready; read line; echo got $line")
		sh.Stdin = strings.NewReader("hello\n")
		p.WaitStdout(sh, "^ready$")
		p.Wait(sh, 0)
		p.ExpectStdout(sh, "^got hello$")
	})
	fmt.Println("passed")
	// Output: passed
}

// A Go helper program: the test binary itself, started again, runs fn.
// The helper is declared at package level and RunHelpers (or Main) is
// called first thing in TestMain, so that the copy runs it and exits.
var exampleGreeter = proctest.Helper("greeter", func(args []string) int {
	fmt.Println("hello,", args[0])
	return 0
})

func ExampleHelper() {
	p := proctest.New("helper-example")
	g := p.SpawnHelper(exampleGreeter, "world")
	p.Wait(g, 0)
	p.ExpectStdout(g, "^hello, world$")
	fmt.Println(p.Execute(context.Background()))
	// Output: <nil>
}

// A timeline page drawn from recorded events, as proctest writes into the
// log directory of every failed plan.
func ExampleWriteTimeline() {
	var events []proctest.Event
	p := proctest.New("timeline-example", proctest.OnEvent(func(e proctest.Event) { events = append(events, e) }))
	p.Wait(p.Spawn("true"), 0)
	if err := p.Execute(context.Background()); err != nil {
		fmt.Println(err)
		return
	}
	var page strings.Builder
	if err := proctest.WriteTimeline(&page, proctest.Timeline{Plan: "timeline-example", Events: events}); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(strings.HasPrefix(page.String(), "<!DOCTYPE html>"), strings.Contains(page.String(), "<svg"))
	// Output: true true
}
