package script

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/proctest/proctest"
	"golang.org/x/sys/unix"
)

// A Verb is a step of the script language: the first word of a line, the
// flags and arguments that follow, what the step does, and how it is added
// to the plan. [Verbs] lists them all; the parser, the proctest command's
// help and the test of SCRIPTS.md all read that one list.
type Verb struct {
	// Name is the verb, as in "wait-stdout".
	Name string
	// Flags are the flags the verb takes, before its arguments, in the
	// order its usage shows them. A verb without flags reads every word
	// after it as an argument, even one that starts with '-'.
	Flags []Flag
	// Args shows the arguments after the flags, as in "NAME REGEXP". It
	// also says how many there may be: each word is one argument, a word
	// in [brackets] an optional one, and a last word ending in "..." any
	// number more.
	Args string
	// Summary says in one line what the step does. Text in `backquotes`
	// is code; SCRIPTS.md shows it so, and help text without them.
	Summary string

	// add adds the step of a line to the plan and returns it, or nil for
	// a line that adds no step; the -timeout flag, for the verbs that
	// have it, is then applied to that step.
	add func(b *builder, c *call) (*proctest.Step, error)
	// minArgs and maxArgs are how many arguments Args allows (maxArgs
	// -1: any number), computed once from Args.
	minArgs, maxArgs int
}

// A Flag is a flag of a [Verb]. Every flag takes a value, in the word that
// follows it; a flag given twice is applied twice (for most, the last one
// wins), and "--" ends the flags.
type Flag struct {
	// Name is the flag without its dash, as in "timeout".
	Name string
	// Value names its value in usage, as in "D".
	Value string
	// Repeat is set for a flag that is meant to be repeated, each value
	// adding to the others, as spawn's -env.
	Repeat bool
}

// Usage returns the line that shows how the verb is written, as in
// "wait-stdout [-timeout D] [-nth N] NAME REGEXP".
func (v Verb) Usage() string {
	var b strings.Builder
	b.WriteString(v.Name)
	for _, f := range v.Flags {
		fmt.Fprintf(&b, " [-%s %s]", f.Name, f.Value)
		if f.Repeat {
			b.WriteString("...")
		}
	}
	if v.Args != "" {
		b.WriteString(" " + v.Args)
	}
	return b.String()
}

// countArgs returns how many arguments v.Args allows: at least min, at
// most max, or any number more when max is -1.
func (v Verb) countArgs() (min, max int) {
	for _, w := range strings.Fields(v.Args) {
		switch {
		case strings.HasSuffix(w, "..."):
			if !strings.HasPrefix(w, "[") {
				min++
			}
			return min, -1
		case strings.HasPrefix(w, "["):
			max++
		default:
			min++
			max++
		}
	}
	return min, max
}

// hasFlag reports whether v takes the flag name.
func (v Verb) hasFlag(name string) bool {
	for _, f := range v.Flags {
		if f.Name == name {
			return true
		}
	}
	return false
}

// Verbs returns the verbs of the script language, in the order SCRIPTS.md
// documents them. The list is a copy: changing it changes nothing.
func Verbs() []Verb {
	vs := slices.Clone(verbs)
	for i := range vs {
		vs[i].Flags = slices.Clone(vs[i].Flags)
	}
	return vs
}

// The flags several verbs share.
var (
	timeoutFlag = Flag{Name: "timeout", Value: "D"}
	nthFlag     = Flag{Name: "nth", Value: "N"}
)

// verbs is the script language. Adding a verb means adding its entry here
// and documenting it in SCRIPTS.md (a row of the table of steps, which
// TestVerbsDocumented checks against this list, and a line of an example).
var verbs = []Verb{{
	Name: "spawn",
	Flags: []Flag{
		{Name: "name", Value: "NAME"},
		{Name: "host", Value: "HOST"},
		{Name: "env", Value: "KEY=VALUE", Repeat: true},
		{Name: "dir", Value: "DIR"},
		{Name: "stdin", Value: "FILE"},
	},
	Args:    "COMMAND [ARG]...",
	Summary: "start a program",
	add:     addSpawn,
}, {
	Name:    "spawn-par",
	Args:    "COMMAND [ARG]... [; COMMAND [ARG]...]",
	Summary: "start several programs at once, their command lines separated by `;`, each may start with `-name NAME`",
	add:     addSpawnPar,
}, {
	Name:    "wait",
	Flags:   []Flag{timeoutFlag},
	Args:    "NAME [CODE|SIGNAL]",
	Summary: "wait for NAME to exit with CODE, or to die of SIGNAL (default: exit 0)",
	add:     addWait,
}, {
	Name:    "wait-par",
	Flags:   []Flag{timeoutFlag},
	Args:    "NAME[=CODE|SIGNAL]...",
	Summary: "wait for several processes to end, each as given (default: exit 0), under one timeout",
	add:     addWaitPar,
}, {
	Name:    "kill",
	Flags:   []Flag{{Name: "signal", Value: "SIG"}, timeoutFlag},
	Args:    "NAME [CODE|SIGNAL]",
	Summary: "send SIGTERM (or SIG) to NAME, then wait for it to end: by default, death by that signal",
	add:     addKill,
}, {
	Name:    "signal",
	Args:    "NAME SIGNAL",
	Summary: "send SIGNAL to NAME, without waiting",
	add: func(b *builder, c *call) (*proctest.Step, error) {
		proc, err := b.proc(c.args[0])
		if err != nil {
			return nil, err
		}
		sig, err := parseSignal(c.args[1])
		if err != nil {
			return nil, err
		}
		return b.p.Signal(proc, sig), nil
	},
}, {
	Name:    "pause",
	Args:    "NAME",
	Summary: "send SIGSTOP to NAME; a paused process is resumed at the end of the plan",
	add:     withProc((*proctest.Plan).Pause),
}, {
	Name:    "resume",
	Args:    "NAME",
	Summary: "send SIGCONT to a paused process",
	add:     withProc((*proctest.Plan).Resume),
}, {
	Name:    "restart",
	Args:    "NAME",
	Summary: "start an ended process again, its logs appended after a marker line",
	add:     withProc((*proctest.Plan).Restart),
}, {
	Name:    "sleep",
	Args:    "DURATION",
	Summary: "let time pass (prefer a readiness wait)",
	add: func(b *builder, c *call) (*proctest.Step, error) {
		d, err := time.ParseDuration(c.args[0])
		if err != nil {
			return nil, err
		}
		return b.p.Sleep(d), nil
	},
}, {
	Name:    "wait-stdout",
	Flags:   []Flag{timeoutFlag, nthFlag},
	Args:    "NAME REGEXP",
	Summary: "wait until a line of stdout matches; named groups set variables",
	add:     addWaitOutput((*proctest.Plan).WaitStdout),
}, {
	Name:    "wait-stderr",
	Flags:   []Flag{timeoutFlag, nthFlag},
	Args:    "NAME REGEXP",
	Summary: "wait until a line of stderr matches; named groups set variables",
	add:     addWaitOutput((*proctest.Plan).WaitStderr),
}, {
	Name:    "wait-port",
	Flags:   []Flag{timeoutFlag},
	Args:    "NAME|- HOST:PORT",
	Summary: "wait until the port accepts connections",
	add: func(b *builder, c *call) (*proctest.Step, error) {
		proc, err := b.procOrNone(c.args[0])
		if err != nil {
			return nil, err
		}
		return b.p.WaitPort(proc, c.args[1]), nil
	},
}, {
	Name:    "wait-http",
	Flags:   []Flag{timeoutFlag},
	Args:    "NAME|- URL [STATUS]",
	Summary: "wait until a GET answers with STATUS (default 200)",
	add: func(b *builder, c *call) (*proctest.Step, error) {
		proc, err := b.procOrNone(c.args[0])
		if err != nil {
			return nil, err
		}
		status := 200
		if len(c.args) == 3 {
			if status, err = strconv.Atoi(c.args[2]); err != nil {
				return nil, fmt.Errorf("bad status %q", c.args[2])
			}
		}
		return b.p.WaitHTTP(proc, c.args[1], status), nil
	},
}, {
	Name:    "wait-file",
	Flags:   []Flag{timeoutFlag},
	Args:    "NAME|- PATH",
	Summary: "wait until the file exists (relative to `$WORK`)",
	add: func(b *builder, c *call) (*proctest.Step, error) {
		proc, err := b.procOrNone(c.args[0])
		if err != nil {
			return nil, err
		}
		path := c.args[1]
		if !filepath.IsAbs(path) && !strings.HasPrefix(path, "{{") {
			path = filepath.Join(b.work, path)
		}
		return b.p.WaitFile(proc, path), nil
	},
}, {
	Name:    "expect-stdout",
	Args:    "NAME REGEXP",
	Summary: "after NAME ended: its stdout matches (multi-line mode)",
	add:     addExpect((*proctest.Plan).ExpectStdout, false),
}, {
	Name:    "expect-stderr",
	Args:    "NAME REGEXP",
	Summary: "after NAME ended: its stderr matches (multi-line mode)",
	add:     addExpect((*proctest.Plan).ExpectStderr, false),
}, {
	Name:    "expect-stdout-file",
	Args:    "NAME FILE",
	Summary: "after NAME ended: its stdout equals FILE; `PROCTEST_UPDATE=1` rewrites FILE",
	add:     addExpect((*proctest.Plan).ExpectStdoutFile, true),
}, {
	Name:    "expect-stderr-file",
	Args:    "NAME FILE",
	Summary: "after NAME ended: its stderr equals FILE; `PROCTEST_UPDATE=1` rewrites FILE",
	add:     addExpect((*proctest.Plan).ExpectStderrFile, true),
}, {
	Name:    "exec",
	Flags:   append([]Flag{timeoutFlag, {Name: "status", Value: "CODE|SIGNAL"}}, commandFlags...),
	Args:    "COMMAND [ARG]...",
	Summary: "run a program to its end: it must exit with CODE (default 0) or die of SIGNAL, and its output match; named groups set variables",
	add:     addCommand((*proctest.Plan).Exec),
}, {
	Name:    "retry",
	Flags:   append([]Flag{timeoutFlag, {Name: "interval", Value: "D"}}, commandFlags...),
	Args:    "COMMAND [ARG]...",
	Summary: "run a program again every D (default 100ms) until it exits 0 and its output matches; named groups set variables",
	add:     addCommand((*proctest.Plan).Retry),
}, {
	Name:    "write-file",
	Args:    "PATH TEXT",
	Summary: "write TEXT into PATH (relative to `$WORK`) when the step runs, its variables expanded then",
	add: func(b *builder, c *call) (*proctest.Step, error) {
		return b.p.WriteFile(b.inWork(c.args[0]), c.args[1]), nil
	},
}, {
	Name:    "expand",
	Args:    "FILE [DEST]",
	Summary: "write the archive's FILE into DEST (default FILE) with each `{{NAME}}` replaced by the value of `$NAME` when the step runs",
	add:     addExpand,
}, {
	Name:    "timeout",
	Flags:   []Flag{{Name: "signal", Value: "SIG"}},
	Args:    "DURATION",
	Summary: "the default timeout of every wait of the plan (default 20s); a process a wait gives up on gets SIG (default SIGTERM), then SIGKILL",
	add: func(b *builder, c *call) (*proctest.Step, error) {
		d, err := time.ParseDuration(c.args[0])
		if err != nil {
			return nil, err
		}
		b.p.SetTimeout(d)
		for _, s := range c.flag("signal") {
			sig, err := parseSignal(s)
			if err != nil {
				return nil, err
			}
			b.p.SetTimeoutSignal(sig)
		}
		return nil, nil
	},
}, {
	Name:    "env",
	Args:    "KEY=VALUE...",
	Summary: "add to the environment of every process, and set `$KEY` for the lines after",
	add: func(b *builder, c *call) (*proctest.Step, error) {
		for _, kv := range c.args {
			if k, _, ok := strings.Cut(kv, "="); !ok || k == "" {
				return nil, fmt.Errorf("env %q: want KEY=VALUE", kv)
			}
		}
		b.p.Env = append(b.p.Env, c.args...)
		for _, kv := range c.args {
			if k, v, _ := strings.Cut(kv, "="); isName(k) {
				b.p.SetVar(k, v)
			}
		}
		return nil, nil
	},
}, {
	Name:    "set",
	Args:    "NAME=VALUE...",
	Summary: "set the variable `$NAME` to VALUE for the lines after (not in the environment)",
	add: func(b *builder, c *call) (*proctest.Step, error) {
		for _, kv := range c.args {
			k, v, ok := strings.Cut(kv, "=")
			if !ok || !isName(k) {
				return nil, fmt.Errorf("set %q: want NAME=VALUE, NAME a letter or '_' then letters, digits and '_'", kv)
			}
			b.p.SetVar(k, v)
		}
		return nil, nil
	},
}, {
	Name:    "host",
	Args:    "NAME...",
	Summary: "declare hosts: machines of their own, each with its address `${NAME.addr}`, a name `${NAME.host}` that the other hosts resolve (the address on namespace hosts) and a directory `${NAME.dir}` (Linux, root)",
	add: func(b *builder, c *call) (*proctest.Step, error) {
		for _, name := range c.args {
			if b.hosts[name] != nil {
				return nil, fmt.Errorf("host %s is already declared", name)
			}
			b.hosts[name] = b.p.Host(name)
		}
		return nil, nil
	},
}, {
	Name:    "kill-host",
	Flags:   []Flag{timeoutFlag},
	Args:    "HOST",
	Summary: "kill everything on HOST with SIGKILL; each of its running processes is expected to die so",
	add:     withHost((*proctest.Plan).KillHost),
}, {
	Name:    "restart-host",
	Args:    "HOST",
	Summary: "bring a killed host back: same address and directory, no processes",
	add:     withHost((*proctest.Plan).RestartHost),
}, {
	Name:    "pause-host",
	Args:    "HOST",
	Summary: "freeze every process on HOST; a paused host is resumed at the end of the plan",
	add:     withHost((*proctest.Plan).PauseHost),
}, {
	Name:    "resume-host",
	Args:    "HOST",
	Summary: "resume a paused host",
	add:     withHost((*proctest.Plan).ResumeHost),
}, {
	Name:    "partition",
	Flags:   []Flag{{Name: "shape", Value: "SHAPE"}},
	Args:    "HOST... [/ HOST...]...",
	Summary: "split the network: groups separated by `/`, or `-shape random-halves|random-node|majorities-ring|bridge` over the hosts given; hosts in no group keep every link",
	add:     addPartition,
}, {
	Name:    "isolate",
	Args:    "HOST",
	Summary: "cut HOST from every other host, both ways",
	add:     withHost((*proctest.Plan).Isolate),
}, {
	Name:    "block",
	Args:    "FROM TO",
	Summary: "TO drops the packets of FROM: one way for datagrams, while TCP breaks both ways",
	add:     addBlock(),
}, {
	Name:    "block-new",
	Args:    "FROM TO",
	Summary: "TO drops the new connections of FROM: FROM cannot connect to TO, TO can connect to FROM",
	add:     addBlock(proctest.NewConnectionsOnly()),
}, {
	Name:    "shape",
	Flags:   []Flag{{Name: "loss", Value: "P%"}, {Name: "rate", Value: "RATE"}, {Name: "delay", Value: "D"}, {Name: "jitter", Value: "D"}},
	Args:    "FROM|- TO|-",
	Summary: "shape the link from FROM to TO (`-`: any host), replacing its shaping: loss, rate (as `1mbit`), delay (needs the kernel's netem)",
	add:     addShape,
}, {
	Name:    "heal",
	Summary: "end every network fault",
	add: func(b *builder, c *call) (*proctest.Step, error) {
		return b.p.Heal(), nil
	},
}, {
	Name:    "seed",
	Args:    "N",
	Summary: "the seed of the plan's random shapes (default: `$PROCTEST_SEED`, else the clock; reports print it)",
	add: func(b *builder, c *call) (*proctest.Step, error) {
		n, err := strconv.ParseUint(c.args[0], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("bad seed %q", c.args[0])
		}
		b.p.Seed(n)
		return nil, nil
	},
}, {
	Name:    "free-port",
	Args:    "NAME...",
	Summary: "set each variable NAME to a TCP port free on 127.0.0.1",
	add: func(b *builder, c *call) (*proctest.Step, error) {
		for _, name := range c.args {
			if !isName(name) {
				return nil, fmt.Errorf("bad variable name %q", name)
			}
			b.p.FreePort(name)
		}
		return nil, nil
	},
}}

// byName finds a verb of the language.
var byName = func() map[string]*Verb {
	m := map[string]*Verb{}
	for i := range verbs {
		v := &verbs[i]
		v.minArgs, v.maxArgs = v.countArgs()
		m[v.Name] = v
	}
	return m
}()

func addSpawn(b *builder, c *call) (*proctest.Step, error) {
	p := b.p
	var proc *proctest.Proc
	spawn, spawnNamed := p.Spawn, p.SpawnNamed
	if h := c.flag("host"); len(h) > 0 {
		host, err := b.host(h[len(h)-1])
		if err != nil {
			return nil, err
		}
		spawn, spawnNamed = host.Spawn, host.SpawnNamed
	}
	if name := c.flag("name"); len(name) > 0 {
		proc = spawnNamed(name[len(name)-1], c.args[0], c.args[1:]...)
	} else {
		proc = spawn(c.args[0], c.args[1:]...)
	}
	proc.Env = c.flag("env")
	if d := c.flag("dir"); len(d) > 0 {
		proc.Dir = d[len(d)-1]
	}
	if in := c.flag("stdin"); len(in) > 0 {
		path := in[len(in)-1]
		if !filepath.IsAbs(path) {
			path = filepath.Join(b.work, path)
		}
		proc.Stdin = proctest.StdinFile(path)
	}
	b.added(proc)
	return nil, nil
}

func addSpawnPar(b *builder, c *call) (*proctest.Step, error) {
	var argvs [][]string
	var names []string
	start := 0
	for _, end := range append(c.seps, len(c.args)) {
		argv := c.args[start:end]
		name := ""
		if len(argv) > 0 && argv[0] == "-name" {
			if len(argv) < 2 {
				return nil, errors.New("flag -name needs a value")
			}
			name, argv = argv[1], argv[2:]
		}
		if len(argv) == 0 {
			return nil, c.usage()
		}
		argvs = append(argvs, argv)
		names = append(names, name)
		start = end
	}
	b.added(b.p.SpawnParNamed(names, argvs...)...)
	return nil, nil
}

func addWait(b *builder, c *call) (*proctest.Step, error) {
	x, err := b.exit(c.args[0], c.args[1:])
	if err != nil {
		return nil, err
	}
	return b.p.WaitExit(x), nil
}

func addWaitPar(b *builder, c *call) (*proctest.Step, error) {
	var xs []proctest.Exit
	for _, a := range c.args {
		name, want, found := strings.Cut(a, "=")
		var wantArgs []string
		if found {
			wantArgs = []string{want}
		}
		x, err := b.exit(name, wantArgs)
		if err != nil {
			return nil, err
		}
		xs = append(xs, x)
	}
	return b.p.WaitPar(xs...), nil
}

func addKill(b *builder, c *call) (*proctest.Step, error) {
	proc, err := b.proc(c.args[0])
	if err != nil {
		return nil, err
	}
	// The expected end is of the same process (or stand-in).
	var kargs []proctest.KillArg
	if sig := c.flag("signal"); len(sig) > 0 {
		s, err := parseSignal(sig[len(sig)-1])
		if err != nil {
			return nil, err
		}
		kargs = append(kargs, proctest.Using(s))
	}
	if len(c.args) == 2 {
		x, err := parseExit(proc, c.args[1])
		if err != nil {
			return nil, err
		}
		kargs = append(kargs, x)
	}
	return b.p.Kill(proc, kargs...), nil
}

// withProc adds the step of a verb whose only argument is a process.
func withProc(step func(*proctest.Plan, *proctest.Proc) *proctest.Step) func(*builder, *call) (*proctest.Step, error) {
	return func(b *builder, c *call) (*proctest.Step, error) {
		proc, err := b.proc(c.args[0])
		if err != nil {
			return nil, err
		}
		return step(b.p, proc), nil
	}
}

// addWaitOutput adds the step of wait-stdout or wait-stderr.
func addWaitOutput(wait func(*proctest.Plan, *proctest.Proc, string) *proctest.Step) func(*builder, *call) (*proctest.Step, error) {
	return func(b *builder, c *call) (*proctest.Step, error) {
		proc, err := b.proc(c.args[0])
		if err != nil {
			return nil, err
		}
		step := wait(b.p, proc, c.args[1])
		for _, n := range c.flag("nth") {
			nth, err := strconv.Atoi(n)
			if err != nil {
				return nil, fmt.Errorf("bad -nth: %v", err)
			}
			step.Nth(nth)
		}
		return step, nil
	}
}

// addExpect adds the step of an expect verb. A file is relative to the
// work directory.
func addExpect(expect func(*proctest.Plan, *proctest.Proc, string) *proctest.Step, file bool) func(*builder, *call) (*proctest.Step, error) {
	return func(b *builder, c *call) (*proctest.Step, error) {
		proc, err := b.proc(c.args[0])
		if err != nil {
			return nil, err
		}
		arg := c.args[1]
		if file && !filepath.IsAbs(arg) {
			arg = filepath.Join(b.work, arg)
		}
		return expect(b.p, proc, arg), nil
	}
}

// parseExit reads an expected end: an exit code, or a signal name.
func parseExit(proc *proctest.Proc, s string) (proctest.Exit, error) {
	if n, err := strconv.Atoi(s); err == nil {
		if n < 0 || n > 255 {
			return proctest.Exit{}, fmt.Errorf("exit code %d is not between 0 and 255", n)
		}
		return proc.Exits(n), nil
	}
	sig, err := parseSignal(s)
	if err != nil {
		return proctest.Exit{}, fmt.Errorf("expected end %q is neither an exit code nor a signal", s)
	}
	return proc.Dies(sig), nil
}

// parseSignal reads a signal: SIGTERM, TERM or 15.
func parseSignal(s string) (syscall.Signal, error) {
	if n, err := strconv.Atoi(s); err == nil && n > 0 && n < 65 {
		return syscall.Signal(n), nil
	}
	name := strings.ToUpper(s)
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	if sig := unix.SignalNum(name); sig != 0 {
		return sig, nil
	}
	return 0, fmt.Errorf("unknown signal %q", s)
}

// withHost adds a step acting on the host named by the line's argument.
func withHost(add func(*proctest.Plan, *proctest.Host) *proctest.Step) func(b *builder, c *call) (*proctest.Step, error) {
	return func(b *builder, c *call) (*proctest.Step, error) {
		h, err := b.host(c.args[0])
		if err != nil {
			return nil, err
		}
		return add(b.p, h), nil
	}
}

func addPartition(b *builder, c *call) (*proctest.Step, error) {
	var groups []proctest.Hosts
	var group proctest.Hosts
	for _, a := range append(c.args, "/") {
		if a == "/" {
			if len(group) == 0 {
				return nil, c.usage()
			}
			groups = append(groups, group)
			group = nil
			continue
		}
		h, err := b.host(a)
		if err != nil {
			return nil, err
		}
		group = append(group, h)
	}
	shape := c.flag("shape")
	if len(shape) == 0 {
		return b.p.Partition(groups...), nil
	}
	if len(groups) != 1 {
		return nil, errors.New("-shape takes one group of hosts")
	}
	hs := groups[0]
	var g proctest.Grudge
	switch shape[len(shape)-1] {
	case "random-halves":
		g = proctest.RandomHalves(b.p.Rand(), hs...)
	case "random-node":
		g = proctest.RandomNode(b.p.Rand(), hs...)
	case "majorities-ring":
		g = proctest.MajoritiesRing(b.p.Rand(), hs...)
	case "bridge":
		g = proctest.Bridge(hs...)
	default:
		return nil, fmt.Errorf("unknown -shape %q: want random-halves, random-node, majorities-ring or bridge", shape[len(shape)-1])
	}
	return b.p.Grudge(g), nil
}

func addShape(b *builder, c *call) (*proctest.Step, error) {
	var ends [2]*proctest.Host
	for i, a := range c.args {
		if a == "-" {
			continue
		}
		h, err := b.host(a)
		if err != nil {
			return nil, err
		}
		ends[i] = h
	}
	var sh []proctest.Shaping
	if v := c.flag("loss"); len(v) > 0 {
		pct, err := strconv.ParseFloat(strings.TrimSuffix(v[len(v)-1], "%"), 64)
		if err != nil {
			return nil, fmt.Errorf("bad -loss %q: want a percentage such as 30%%", v[len(v)-1])
		}
		sh = append(sh, proctest.Loss(pct/100))
	}
	if v := c.flag("rate"); len(v) > 0 {
		sh = append(sh, proctest.Rate(v[len(v)-1]))
	}
	if v := c.flag("delay"); len(v) > 0 {
		d, err := time.ParseDuration(v[len(v)-1])
		if err != nil {
			return nil, fmt.Errorf("bad -delay: %v", err)
		}
		var jitter time.Duration
		if j := c.flag("jitter"); len(j) > 0 {
			if jitter, err = time.ParseDuration(j[len(j)-1]); err != nil {
				return nil, fmt.Errorf("bad -jitter: %v", err)
			}
		}
		sh = append(sh, proctest.Delay(d, jitter))
	}
	if len(sh) == 0 {
		return nil, errors.New("shape needs -loss, -rate or -delay")
	}
	return b.p.Shape(ends[0], ends[1], sh...), nil
}

// addBlock adds a block step with opts.
func addBlock(opts ...proctest.BlockOption) func(b *builder, c *call) (*proctest.Step, error) {
	return func(b *builder, c *call) (*proctest.Step, error) {
		from, err := b.host(c.args[0])
		if err != nil {
			return nil, err
		}
		to, err := b.host(c.args[1])
		if err != nil {
			return nil, err
		}
		return b.p.Block(from, to, opts...), nil
	}
}

// commandFlags are the flags exec and retry share with spawn, and their
// output patterns.
var commandFlags = []Flag{
	{Name: "stdout", Value: "REGEXP"},
	{Name: "stderr", Value: "REGEXP"},
	{Name: "name", Value: "NAME"},
	{Name: "env", Value: "KEY=VALUE", Repeat: true},
	{Name: "dir", Value: "DIR"},
}

// addCommand adds the step of exec or retry.
func addCommand(step func(*proctest.Plan, string, ...string) *proctest.Step) func(*builder, *call) (*proctest.Step, error) {
	return func(b *builder, c *call) (*proctest.Step, error) {
		s := step(b.p, c.args[0], c.args[1:]...)
		for _, n := range c.flag("name") {
			s.Named(n)
		}
		if env := c.flag("env"); len(env) > 0 {
			s.Env(env...)
		}
		for _, d := range c.flag("dir") {
			s.Dir(d)
		}
		for _, st := range c.flag("status") {
			if n, err := strconv.Atoi(st); err == nil {
				s.Exits(n)
				continue
			}
			sig, err := parseSignal(st)
			if err != nil {
				return nil, fmt.Errorf("-status %q is neither an exit code nor a signal", st)
			}
			s.Dies(sig)
		}
		for _, re := range c.flag("stdout") {
			s.Stdout(re)
		}
		for _, re := range c.flag("stderr") {
			s.Stderr(re)
		}
		for _, iv := range c.flag("interval") {
			d, err := time.ParseDuration(iv)
			if err != nil {
				return nil, fmt.Errorf("bad -interval: %v", err)
			}
			s.Interval(d)
		}
		return s, nil
	}
}

// addExpand adds the step of expand: a file of the archive written with
// its references expanded. $WORK and $SCRIPTDIR, which are no plan
// variables, are written as {{WORK}} and {{SCRIPTDIR}}.
func addExpand(b *builder, c *call) (*proctest.Step, error) {
	name := filepath.Clean(c.args[0])
	var data []byte
	found := false
	for _, f := range b.files {
		if filepath.Clean(f.Name) == name {
			data, found = f.Data, true
		}
	}
	if !found {
		return nil, fmt.Errorf("no file %q in the script's archive", c.args[0])
	}
	dest := c.args[0]
	if len(c.args) == 2 {
		dest = c.args[1]
	}
	dir, err := filepath.Abs(filepath.Dir(b.name))
	if err != nil {
		return nil, err
	}
	text := strings.NewReplacer("{{WORK}}", b.work, "{{SCRIPTDIR}}", dir).Replace(string(data))
	return b.p.WriteFile(b.inWork(dest), text), nil
}

// inWork returns path, relative to the work directory unless it is
// absolute or starts with a variable.
func (b *builder) inWork(path string) string {
	if filepath.IsAbs(path) || strings.HasPrefix(path, "{{") {
		return path
	}
	return filepath.Join(b.work, path)
}
