// Command proctest runs plan scripts: integration tests of programs made of
// several processes, written as text. See SCRIPTS.md for the format.
//
// Usage:
//
//	proctest run [flags] PATH...
//	proctest check PATH...
//	proctest help
//
// A PATH is a script file, a directory (every *.plan and *.txtar file in
// it), or DIR/... (the same, in DIR and all directories below it).
//
// run prints, in the style of go test, a --- PASS or --- FAIL line for each
// plan with its duration and, for a failure, the report; then a summary.
// It exits 0 when every plan passes, 1 when one fails or the run is
// interrupted (by SIGINT or SIGTERM, even in the last moments of a plan:
// an interrupted run never passes), and 2 for a usage error or a script
// that cannot be read or parsed. A plan needing what this machine cannot
// do (hosts without root) is skipped, except when CI is set. check reads
// and validates scripts without running anything. help lists the steps a
// script is made of.
//
// The plans run on this machine; docker/cmd/proctest-docker runs the same
// command with hosts as Docker containers, and proctest run -backend
// 'docker -image IMAGE' runs it.
package main

import (
	"os"

	"github.com/proctest/proctest/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
}
