package main

import (
	"os"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// The command is tested end to end by the scripts in testdata: each runs
// proctest (this test binary, standing in for it) on plan scripts and
// checks its output and exit status.

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"proctest": func() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) },
	})
}

func TestScripts(t *testing.T) {
	t.Parallel()
	testscript.Run(t, testscript.Params{Dir: "testdata"})
}
