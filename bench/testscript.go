package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// The testscript variants: a script generated for each size, of exec, &
// (background), kill and wait commands, run by testscript.RunT outside of
// go test. testscript keeps each command's output in memory, and copies
// it into the script's log.

// scriptT is the testscript.T that runs a script outside of go test:
// Fatal, FailNow and Skip end the goroutine running the script, as with
// a *testing.T.
type scriptT struct {
	mu      sync.Mutex
	failed  bool
	skipped bool
	log     strings.Builder
	subs    []*scriptT
}

// Skip logs args and ends the script as skipped.
func (t *scriptT) Skip(args ...any) {
	t.Log(args...)
	t.mu.Lock()
	t.skipped = true
	t.mu.Unlock()
	runtime.Goexit()
}

// Fatal logs args and ends the script as failed.
func (t *scriptT) Fatal(args ...any) {
	t.Log(args...)
	t.FailNow()
}

// FailNow ends the script as failed.
func (t *scriptT) FailNow() {
	t.mu.Lock()
	t.failed = true
	t.mu.Unlock()
	runtime.Goexit()
}

// Parallel does nothing: scripts run one at a time.
func (t *scriptT) Parallel() {}

// Log records args in the log.
func (t *scriptT) Log(args ...any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	fmt.Fprintln(&t.log, args...)
}

// Run runs f as a subtest, in a goroutine of its own, and waits for it.
func (t *scriptT) Run(name string, f func(testscript.T)) {
	sub := &scriptT{}
	t.mu.Lock()
	t.subs = append(t.subs, sub)
	t.mu.Unlock()
	run(sub, func() { f(sub) })
}

// Verbose reports false: logs of scripts that pass are dropped.
func (t *scriptT) Verbose() bool { return false }

// err returns an error holding the logs of t and its subtests if any of
// them failed or was skipped.
func (t *scriptT) err() error {
	var b strings.Builder
	bad := false
	var walk func(t *scriptT)
	walk = func(t *scriptT) {
		t.mu.Lock()
		defer t.mu.Unlock()
		if t.failed || t.skipped {
			bad = true
		}
		b.WriteString(t.log.String())
		for _, s := range t.subs {
			walk(s)
		}
	}
	walk(t)
	if !bad {
		return nil
	}
	const max = 4 << 10
	msg := b.String()
	if len(msg) > max {
		msg = "..." + msg[len(msg)-max:]
	}
	return fmt.Errorf("testscript failed:\n%s", msg)
}

// run calls f in a goroutine of its own, so that runtime.Goexit ends only
// f, and waits for it.
func run(t *scriptT, f func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	<-done
}

// runScript runs script, with extra added to its environment and the
// command "mark I" calling mark(I), and returns how long it took, from the
// start of RunT to its end.
func (e *Env) runScript(name, script string, extra []string, mark func(i int)) (time.Duration, error) {
	dir, err := os.MkdirTemp(e.LogRoot, "testscript-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, name+".txtar")
	if err := os.WriteFile(file, []byte(script), 0o600); err != nil {
		return 0, err
	}
	p := testscript.Params{
		Files: []string{file},
		Setup: func(env *testscript.Env) error {
			env.Vars = append(env.Vars, extra...)
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"mark": func(ts *testscript.TestScript, neg bool, args []string) {
				i, err := strconv.Atoi(args[0])
				ts.Check(err)
				if mark != nil {
					mark(i)
				}
			},
		},
		Deadline: time.Now().Add(e.Timeout),
	}
	t := &scriptT{}
	start := time.Now()
	run(t, func() { testscript.RunT(t, p) })
	d := time.Since(start)
	return d, t.err()
}

// script builds the text of a script.
type script struct{ strings.Builder }

// line adds a line made of args joined by spaces.
func (s *script) line(args ...string) {
	s.WriteString(strings.Join(args, " "))
	s.WriteByte('\n')
}

// sequential returns a script that runs argv n times in a row, with
// "mark I" before the first (I = -1) and after process I at the ends of
// the windows of w processes (see Size.Window) if w > 0.
func sequential(n, w int, argv ...string) string {
	var s script
	if w > 0 {
		s.line("mark", "-1")
	}
	for i := range n {
		s.line(append([]string{"exec"}, argv...)...)
		if w > 0 && (i == w-1 || i == n-w-1 || i == n-1) {
			s.line("mark", strconv.Itoa(i))
		}
	}
	return s.String()
}

// parallel returns a script that runs n copies of argv at once and
// waits for them all to exit 0.
func parallel(n int, argv ...string) string {
	var s script
	for range n {
		s.line(append(append([]string{"exec"}, argv...), "&")...)
	}
	s.line("wait")
	return s.String()
}

func testscriptSerial(e *Env, s Size) (Raw, error) {
	d, err := e.runScript("serial", sequential(s.N, 0, e.True), nil, nil)
	return Raw{Elapsed: d}, err
}

func testscriptFanOut(e *Env, s Size) (Raw, error) {
	d, err := e.runScript("fan-out", parallel(s.N, e.True), nil, nil)
	return Raw{Elapsed: d}, err
}

func testscriptConcurrency(e *Env, s Size) (Raw, error) {
	d, err := e.runScript("concurrency", parallel(s.N, e.Sleep, seconds(s.Sleep)), nil, nil)
	return Raw{Elapsed: d}, err
}

func testscriptExitDetect(e *Env, s Size) (Raw, error) {
	d, err := e.runScript("exit-detect", sequential(s.N, 0, e.Sleep, "0.01"), nil, nil)
	return Raw{Elapsed: d}, err
}

func testscriptKill(e *Env, s Size) (Raw, error) {
	var sc script
	for i := range s.N {
		sc.line("!", "exec", e.Sleep, "60", fmt.Sprintf("&p%d&", i))
	}
	for i := range s.N {
		sc.line("kill", "-INT", fmt.Sprintf("p%d", i))
		sc.line("wait", fmt.Sprintf("p%d", i))
	}
	d, err := e.runScript("kill", sc.String(), nil, nil)
	return Raw{Elapsed: d}, err
}

func testscriptOutput(e *Env, s Size) (Raw, error) {
	d, err := e.runScript("output", sequential(1, 0, e.Self), genEnv(s.ScriptBytes), nil)
	return Raw{Elapsed: d, Bytes: s.ScriptBytes + int64(len(Marker)+1)}, err
}

func testscriptOutputWatch(e *Env, s Size) (Raw, error) {
	text := sequential(1, 0, e.Self) + "stdout '^" + Marker + "$'\n"
	d, err := e.runScript("output-watch", text, genEnv(s.ScriptBytes), nil)
	return Raw{Elapsed: d, Bytes: s.ScriptBytes + int64(len(Marker)+1)}, err
}

func testscriptScale(e *Env, s Size) (Raw, error) {
	w := newWindows(s)
	d, err := e.runScript("scale", sequential(s.N, w.w, e.True), nil, w.done)
	return w.raw(d), err
}
