package main

import (
	"os"
	"strings"
	"testing"

	"github.com/proctest/proctest/internal/cli"
	"github.com/proctest/proctest/script"
	"github.com/rogpeppe/go-internal/testscript"
)

// The command is tested end to end by the scripts in testdata: each runs
// proctest (this test binary, standing in for it) on plan scripts and
// checks its output and exit status.

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"proctest": func() { os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr)) },
	})
}

func TestScripts(t *testing.T) {
	t.Parallel()
	testscript.Run(t, testscript.Params{Dir: "testdata"})
}

// TestHelpListsVerbs checks that proctest help shows every verb of the
// script language, as its table says.
func TestHelpListsVerbs(t *testing.T) {
	t.Parallel()
	var stdout, stderr strings.Builder
	if code := cli.Main([]string{"help"}, &stdout, &stderr); code != 0 {
		t.Fatalf("run(help) = %d, want 0; stderr:\n%s", code, stderr.String())
	}
	for _, v := range script.Verbs() {
		if !strings.Contains(stdout.String(), "\n  "+v.Usage()+"\n") {
			t.Errorf("run(help) does not list %q", v.Usage())
		}
	}
}
