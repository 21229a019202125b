package proctest_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/proctest/proctest"
)

// The steps of a plan generated from a table are reported at the rows of
// the table, not at the Go code that reads it.
func ExamplePlan_At() {
	p := proctest.New("table")
	p.At("steps.txt", 3)
	p.SetTimeout(-1)
	p.At("", 0)
	var be *proctest.BuildError
	if errors.As(p.Validate(), &be) {
		fmt.Println(be)
	}
	// Output: steps.txt:3: set timeout: timeout must be positive, got -1ns
}

func TestAt(t *testing.T) {
	t.Parallel()
	p := proctest.New("at")
	p.At("gen.plan", 7)
	p.Spawn("no-such-program-xyz")
	p.Sleep(-1)
	p.At("", 0)
	p.Wait(nil, 0)
	err := p.Validate()
	var nf *proctest.CommandNotFoundError
	if !errors.As(err, &nf) || nf.Where != "gen.plan:7" {
		t.Errorf("Validate() = %v, want a CommandNotFoundError at gen.plan:7", err)
	}
	var wheres []string
	var pe *proctest.PlanError
	if errors.As(err, &pe) {
		for _, e := range pe.Errors {
			var be *proctest.BuildError
			if errors.As(e, &be) {
				wheres = append(wheres, be.Where)
			}
		}
	}
	if len(wheres) != 2 || wheres[0] != "gen.plan:7" || !strings.HasPrefix(wheres[1], "where_test.go:") {
		t.Errorf("build errors at %q, want gen.plan:7 then this file's line", wheres)
	}
}

func TestWaitExit(t *testing.T) {
	t.Parallel()
	p := proctest.New("wait-exit", proctest.LogDir(t.TempDir()))
	sh := p.Spawn("sh", "-c", "kill -TERM $$")
	if s := p.WaitExit(sh.Dies(syscall.SIGTERM)); s.String() != "wait sh" {
		t.Errorf("WaitExit(...).String() = %q, want %q", s, "wait sh")
	}
	if err := p.Execute(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestDefined(t *testing.T) {
	t.Parallel()
	p := proctest.New("defined")
	if p.Defined("port") {
		t.Errorf("Defined(port) = true before any step sets it")
	}
	p.Var("addr") // declared, not set
	p.FreePort("port")
	srv := p.Spawn("echo", "at x")
	p.WaitStdout(srv, `at (?P<where>\S+)`)
	for name, want := range map[string]bool{"port": true, "where": true, "addr": false, "nope": false} {
		if got := p.Defined(name); got != want {
			t.Errorf("Defined(%s) = %v, want %v", name, got, want)
		}
	}
}

func TestStdinFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "in.txt")
	p := proctest.New("stdin", proctest.LogDir(t.TempDir()))
	// The file does not exist yet: an earlier step makes it.
	mk := p.Spawn("sh", "-c", `echo made > "$0"`, path)
	p.Wait(mk, 0)
	cat := p.Spawn("cat")
	cat.Stdin = proctest.StdinFile(path)
	p.Wait(cat, 0)
	p.ExpectStdout(cat, `^made$`)
	if err := p.Execute(context.Background()); err != nil {
		t.Fatal(err)
	}

	p = proctest.New("stdin-missing", proctest.LogDir(t.TempDir()))
	cat = p.Spawn("cat")
	cat.Stdin = proctest.StdinFile(filepath.Join(dir, "missing.txt"))
	p.Wait(cat, 0)
	err := p.Execute(context.Background())
	var se *proctest.StartError
	if !errors.As(err, &se) || !strings.Contains(se.Error(), "stdin: open "+filepath.Join(dir, "missing.txt")) {
		t.Errorf("Execute = %v, want a StartError naming the missing file", err)
	}
	var pe *proctest.PlanError
	if errors.As(err, &pe) {
		os.RemoveAll(pe.LogDir)
	}
}

func TestLogRootKeepsLogs(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := proctest.New("x", proctest.LogDir(dir), proctest.KeepLogs())
	if p.LogRoot() != dir || !p.KeepsLogs() {
		t.Errorf("LogRoot(), KeepsLogs() = %q, %v, want %q, true", p.LogRoot(), p.KeepsLogs(), dir)
	}
	if root := proctest.New("y", proctest.LogDir("")).LogRoot(); root == "" {
		t.Errorf("LogRoot() with LogDir(\"\") = \"\", want the default root")
	}
}
