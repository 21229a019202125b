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
// [KeepLogs], PROCTEST_LOGDIR, PROCTEST_KEEP=1). The log root must be
// owned by the user or root and not writable by others unless sticky; the
// plan reaches its directory only through a handle held from its
// creation. Logs in /dev/shm are bounded in memory, and moved to disk
// when kept. What a process wrote is shown in reports with control
// characters escaped (\x1b), so it cannot drive the terminal. [Plan.Go]
// runs a Go function as a process of the plan, and [Plan.SpawnHelper] a
// Go function as a separate process of the test binary.
//
// # Readiness
//
// [Plan.WaitStdout], [Plan.WaitPort], [Plan.WaitHTTP], [Plan.WaitFile] and
// [Plan.WaitFunc] wait until a process is ready, and fail at once if it
// ends first. Values found while the plan runs, such as the port a server
// chose, flow into later steps through variables: see [Var], and
// [Plan.Expand] for Go code. [Plan.Exec] runs a client to its end and
// checks its status and output in one step; [Plan.Retry] runs one until it
// succeeds ("until the replica has the key"); [Plan.Which] lets kill,
// signal, restart and wait steps act on the process a variable names,
// such as the leader a cluster elected; [Plan.WriteFile] writes a file
// from a template when the step runs.
//
// # Hosts and network faults
//
// [Plan.Host] declares a machine of the plan, with its own address,
// loopback, port space and process tree; [Host.Spawn] starts processes on
// it. Its variables are known from the first step: "{{n1.addr}}" is the
// address of host n1, "{{n1.dir}}" a directory of its own, and
// "{{n1.host}}" a name of it that processes on the other hosts can
// resolve and connect to. A backend whose hosts have names in a name
// service of theirs gives that name (a [HostNamer]: on Docker, the host's
// name, which the engine's DNS resolves); namespace hosts have none, and
// there "{{n1.host}}" is the address, so that a plan that uses it runs
// unchanged on both. [Plan.KillHost], [Plan.RestartHost], [Plan.PauseHost] and
// [Plan.ResumeHost] act on a host as a whole, with exit accounting:
// KillHost expects the death by SIGKILL of each process running on it.
// [Plan.Partition], [Plan.Isolate], [Plan.Block], [Plan.Grudge] and
// [Plan.Shape] change the network between hosts, and [Plan.Heal] ends
// every fault. [Local] makes hosts on Linux as root (network and PID
// namespaces, a cgroup per host); a plan with hosts on a backend that
// cannot make them fails before it starts with an [UnsupportedError].
//
// # Containment
//
// Each program runs in a process group of its own and is signalled as a
// group. At its end a plan ends whatever its processes left running, names
// the process each leftover comes from, and fails unless [AllowDaemons].
// What finds leftovers is the kernel, through the strongest layer the
// machine offers; the plan's first event (kind "info") says which are in
// force, and [Run] logs a warning for each that is missing:
//
//   - A cgroup per plan, on Linux where cgroup v2 is writable (root, or a
//     delegated user slice; the cgroup2 mount is found in
//     /proc/self/mountinfo, so hybrid layouts work). Every process starts
//     inside a group of its own under the plan's, so no descendant can
//     leave: daemons, double forks, programs that clear their
//     environment or rewrite their title, fork chains and storms, re-exec
//     loops and stopped processes are all found, attributed to the process
//     whose group they are in, and ended with cgroup.kill. [Plan.Pause]
//     freezes a process's whole tree (cgroup.freeze).
//   - Without a writable cgroup, on Linux: the running program is a child
//     subreaper while plans run, so orphaned descendants become its
//     children instead of init's. Those in the process group or session of
//     a process of the plan, or carrying its environment tag, are found
//     and ended. A descendant that both leaves its session (setsid) and
//     clears or overwrites its environment is not told apart from other
//     children of the program, and survives. Pause stops the process group
//     with SIGSTOP.
//   - Environment tags: every process gets PROCTEST_PLAN and
//     PROCTEST_PROC, which descendants inherit; they attribute leftovers
//     and are what the guard looks for without a cgroup.
//   - Off Linux, process groups only: a descendant that leaves its group
//     is not found.
//
// If the test binary itself is killed, even by SIGKILL, its processes die
// with it (Pdeathsig), and the guard (below) kills the plans' cgroups,
// then every process with one of their environment tags. With cgroups
// nothing survives; without, what the subreaper layer misses survives
// too.
//
// # Global state
//
// The package has these process-wide effects, all on Linux:
//
//   - The guard: at the first plan, the running program starts a copy of
//     itself with PROCTEST_GUARD set, which waits for the program to end
//     and then kills what its plans left. The package's init function
//     runs the guard in that copy and exits; in any other program it does
//     nothing. After it has killed what the plans left, the guard runs
//     the reapers that backends registered ([RegisterReaper]): the
//     program again, with a variable of the backend's set, which the
//     backend's package recognises in its own init function.
//   - The child subreaper mark (PR_SET_CHILD_SUBREAPER), set while plans
//     without a cgroup run and cleared when the last ends. Meanwhile,
//     orphans of any child of the program become its children.
//   - Interrupts: while plans run, SIGINT and SIGTERM stop every plan,
//     print their reports and raise the signal again; a plan running
//     when the signal came fails, even if its steps were done. A second
//     signal meanwhile kills the plans' processes and raises it at once.
//   - Flags read from the test binary, if defined: -update (rewrite golden
//     files, see [Plan.ExpectStdoutFile]) and -test.gocoverdir (passed to
//     helper programs, see [Helper]).
//
// Plans of one program share nothing else: many can run in parallel.
//
// # Backends
//
// Where and how programs run is the [Backend]'s business: [Local], the
// default, runs them on this machine; [WithBackend] chooses another.
package proctest
