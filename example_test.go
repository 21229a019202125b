package proctest_test

import (
	"context"
	"errors"
	"fmt"
	"os"

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
