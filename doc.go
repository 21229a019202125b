// Package proctest runs integration tests of programs made of several
// processes: servers, clients, workers, clusters.
//
// A test describes a plan: spawn these processes, wait until this one is
// ready, expect that one to exit 0, kill this one. The plan is built first
// and executed after, when [Run] (or [Plan.Execute]) has checked it whole:
//
//	func TestEcho(t *testing.T) {
//		proctest.Run(t, func(p *proctest.Plan) {
//			echo := p.Spawn("echo", "hello world")
//			p.Wait(echo, 0)
//		})
//	}
//
// # Strict exit accounting
//
// Every exit must be anticipated. A process that ends while no step is
// waiting for it fails the plan at once, in the middle of a wait on another
// process if need be, with an [UnexpectedExitError]. (A process may end a
// little before its wait step runs: an exit is expected if a wait for it
// comes before a wait for anything else.) A wrong exit code gives an
// [ExitCodeError], a wait that lasts too long a [TimeoutError], and what
// still runs at the end of the plan is stopped and reported in a
// [StillRunningError]. All of them come in a [PlanError] whose text is a
// report a person can act on: the failed step and the test line that built
// it, expected against actual, the last lines of each process's output,
// where the logs are kept, and a timeline.
//
// # Processes
//
// A program is looked up in PATH before anything runs. It reads the null
// device unless [Proc.Stdin] says otherwise, gets the test's environment
// plus [Plan.Env] and [Proc.Env], and writes stdout and stderr straight
// into <name>.stdout and <name>.stderr in the plan's log directory, which
// is deleted when the plan succeeds and kept when it fails ([LogDir],
// [KeepLogs], PROCTEST_LOGDIR, PROCTEST_KEEP=1). [Plan.Go] runs a Go
// function as a process of the plan, and [Plan.SpawnHelper] a Go function
// as a separate process of the test binary.
//
// # Readiness
//
// [Plan.WaitStdout], [Plan.WaitPort], [Plan.WaitHTTP], [Plan.WaitFile] and
// [Plan.WaitFunc] wait until a process is ready, and fail at once if it
// ends first. Values found while the plan runs, such as the port a server
// chose, flow into later steps through variables: see [Var].
//
// # Containment
//
// Each program runs in a process group of its own and is signalled as a
// group. No process a plan started survives it, descendants included, even
// one that called setsid: at its end the plan finds them by an environment
// variable they inherit, kills them, and fails unless [AllowDaemons]. If
// the test binary itself is killed, even by SIGKILL, its plans' processes
// die with it (see contain_linux.go for how).
//
// # Limits
//
// proctest runs on Linux. A descendant that clears its environment escapes
// the end-of-plan search. The guard that cleans up after a SIGKILLed test
// binary is the binary itself started again, once per binary, with
// PROCTEST_GUARD set: the package's init function runs it. While plans
// run, the package also handles SIGINT and SIGTERM: it stops every plan,
// prints their reports and raises the signal again. Plans of one binary
// share nothing else: many can run in parallel.
package proctest
