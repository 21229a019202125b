package proctest

import (
	"flag"
	"fmt"
	"os"
	"sync"
)

// Helper programs written in Go. A test registers a function as a helper,
// and a plan spawns it as a separate process: the test binary itself,
// started again with PROCTEST_HELPER naming the function, which
// [RunHelpers] (or [Main]) in TestMain dispatches to. So a test can spawn
// "a server that crashes after 3 requests" without a main package of its
// own.

const helperEnv = "PROCTEST_HELPER"

var (
	helpersMu sync.Mutex
	helpers   = map[string]*HelperFunc{}
)

// A HelperFunc is a Go function that a plan can run as a process, made by
// [Helper].
type HelperFunc struct {
	name string
	fn   func(args []string) int
}

// Name returns the helper's name.
func (h *HelperFunc) Name() string { return h.name }

// Helper registers fn as a helper program called name, usually in a
// package-level variable of a test package. When spawned, fn gets the
// arguments and its result is the exit code. Helper panics if name is
// empty or already registered, a programmer error.
func Helper(name string, fn func(args []string) int) *HelperFunc {
	helpersMu.Lock()
	defer helpersMu.Unlock()
	if name == "" || helpers[name] != nil {
		panic(fmt.Sprintf("proctest: Helper(%q): empty or already registered", name))
	}
	h := &HelperFunc{name: name, fn: fn}
	helpers[name] = h
	return h
}

// RunHelpers returns at once in a normal test run. In a test binary
// started as a helper program, it runs the helper and exits with its code;
// call it first in TestMain.
func RunHelpers() {
	name := os.Getenv(helperEnv)
	if name == "" {
		return
	}
	helpersMu.Lock()
	h := helpers[name]
	helpersMu.Unlock()
	if h == nil {
		fmt.Fprintf(os.Stderr, "proctest: no helper %q registered in this binary\n", name)
		os.Exit(127)
	}
	os.Exit(h.fn(os.Args[1:]))
}

// M is the part of *testing.M that [Main] uses.
type M interface {
	Run() int
}

// Main is a TestMain for packages whose tests use helpers:
//
//	func TestMain(m *testing.M) { proctest.Main(m) }
func Main(m M) {
	RunHelpers()
	os.Exit(m.Run())
}

// SpawnHelper adds a step that starts the helper h with args as a process
// named after it. Under go test -cover, the helper's coverage is collected
// too.
func (p *Plan) SpawnHelper(h *HelperFunc, args ...string) *Proc {
	name := "helper"
	if h != nil {
		name = h.name
	}
	proc := p.spawn("spawn", [][]string{append([]string{name}, args...)})[0]
	if h == nil {
		p.errs = append(p.errs, &BuildError{Where: proc.where, Step: "spawn", Err: fmt.Errorf("nil helper")})
		return proc
	}
	proc.helper = true
	proc.Env = append(proc.Env, helperEnv+"="+h.name)
	if f := flag.Lookup("test.gocoverdir"); f != nil && f.Value.String() != "" {
		proc.Env = append(proc.Env, "GOCOVERDIR="+f.Value.String())
	}
	return proc
}

// helperPath returns the program that runs helpers: this one.
func helperPath() (string, error) {
	return os.Executable()
}
