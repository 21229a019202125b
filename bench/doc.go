// Package bench measures what proctest costs. It runs the same workloads
// four ways:
//
//   - proctest: plans built with the library's API;
//   - os/exec: a hand-written baseline that starts each child with its
//     stdout and stderr in log files of its own, waits for it in a
//     goroutine, and bounds each wait with a timeout;
//   - C floor: a C program, floor.c, that does the same with posix_spawn
//     and waitpid, the physical floor on this machine;
//   - testscript: github.com/rogpeppe/go-internal/testscript, running a
//     generated script of exec, & and wait commands.
//
// The docker workloads measure what hosts cost as containers of a Docker
// engine (the docker backend): the start of a plan of three hosts, and a
// process spawned and waited for in a container against one on this
// machine. They are proctest's alone, and skipped where no engine
// answers ([PrepareDocker]).
//
// The workloads are listed by [Workloads]. The program in cmd/benchtable
// runs each variant of each workload in a process of its own, several
// times, and prints a markdown table of the medians; run.sh builds and runs
// it. The Benchmark functions of the package's tests run the Go variants
// under go test, for profiling.
//
// The program running the benchmarks also stands in for the helper
// programs some workloads need (an output generator, a process that
// announces it is ready): see [HelperEnv].
package bench
