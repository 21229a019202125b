package script

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/proctest/proctest"
	"golang.org/x/tools/txtar"
)

// builder turns script lines into plan steps.
type builder struct {
	p     *proctest.Plan
	procs map[string]*proctest.Proc // by name
	hosts map[string]*proctest.Host // by name
	order []*proctest.Proc          // in the order they were spawned
	work  string                    // the work directory, $WORK
	files []txtar.File              // the files of the script's archive
	name  string                    // the script's file name
}

// A call is one line as a verb reads it: its flags and arguments, with
// variables expanded.
type call struct {
	verb  *Verb
	flags []flagValue // in the order given
	args  []string
	seps  []int // where an unquoted ';' was, as indexes into args
}

// A flagValue is a flag given on a line, and its value.
type flagValue struct{ name, value string }

// flag returns the values given to the flag name, in order.
func (c *call) flag(name string) []string {
	var vs []string
	for _, f := range c.flags {
		if f.name == name {
			vs = append(vs, f.value)
		}
	}
	return vs
}

// usage returns the error that says how the verb is written.
func (c *call) usage() error { return fmt.Errorf("usage: %s", c.verb.Usage()) }

// build adds the steps of the script's lines to b.p, each at its line,
// and returns the errors of the lines, each an *Error.
func (b *builder) build(lines []line) []error {
	var errs []error
	for _, l := range lines {
		b.p.At(b.name, l.n)
		if err := b.step(l.words); err != nil {
			errs = append(errs, &Error{File: b.name, Line: l.n, Err: err})
		}
	}
	b.p.At("", 0)
	return errs
}

// step adds the step of one line.
func (b *builder) step(words []word) error {
	args, seps, err := b.expand(words)
	if err != nil {
		return err
	}
	if len(args) == 0 {
		return errors.New("a line cannot start with ';'")
	}
	name, args := args[0], args[1:]
	for i := range seps {
		seps[i]-- // counted with the verb
	}
	if len(seps) > 0 && name != "spawn-par" {
		return errors.New("';' separates the commands of spawn-par only")
	}
	if len(seps) > 0 && seps[0] < 0 {
		return errors.New("a line cannot start with ';'")
	}
	v := byName[name]
	if v == nil {
		return fmt.Errorf("unknown step %q (see SCRIPTS.md)", name)
	}
	c := &call{verb: v, args: args, seps: seps}
	if len(v.Flags) > 0 {
		var n int
		if c.flags, n, err = parseFlags(v, args); err != nil {
			return err
		}
		c.args = args[n:]
		for i := range c.seps {
			c.seps[i] -= n
		}
	}
	if len(c.args) < v.minArgs || v.maxArgs >= 0 && len(c.args) > v.maxArgs {
		return c.usage()
	}
	s, err := v.add(b, c)
	if err != nil || s == nil {
		return err
	}
	for _, t := range c.flag("timeout") {
		d, err := time.ParseDuration(t)
		if err != nil {
			return fmt.Errorf("bad -timeout: %v", err)
		}
		s.Timeout(d)
	}
	return nil
}

// parseFlags reads the leading "-flag value" pairs of args, which must be
// flags of v, and returns them with how many words they took. A flag may
// be repeated; "--" ends the flags.
func parseFlags(v *Verb, args []string) ([]flagValue, int, error) {
	var got []flagValue
	n := 0
	for n < len(args) && strings.HasPrefix(args[n], "-") && len(args[n]) > 1 {
		name := args[n][1:]
		if name == "-" {
			return got, n + 1, nil
		}
		if !v.hasFlag(name) {
			var names []string
			for _, f := range v.Flags {
				names = append(names, f.Name)
			}
			return nil, 0, fmt.Errorf("unknown flag -%s (flags here: -%s)", name, strings.Join(names, ", -"))
		}
		if n+1 >= len(args) {
			return nil, 0, fmt.Errorf("flag -%s needs a value", name)
		}
		got = append(got, flagValue{name, args[n+1]})
		n += 2
	}
	return got, n, nil
}

// expand returns the words' text with variables expanded: plan variables
// become references the plan fills in as it runs, WORK the work directory,
// SCRIPTDIR the script's directory, and other names the environment's
// value. An unquoted ';' is not returned in args, but as its index in
// seps.
func (b *builder) expand(words []word) (args []string, seps []int, err error) {
	args = make([]string, 0, len(words))
	for _, w := range words {
		switch {
		case w.sep:
			seps = append(seps, len(args))
			continue
		case len(w.parts) == 0:
			args = append(args, "")
			continue
		case len(w.parts) == 1 && !w.parts[0].ref:
			args = append(args, w.parts[0].text)
			continue
		}
		var sb strings.Builder
		for _, part := range w.parts {
			switch {
			case !part.ref:
				sb.WriteString(part.text)
			case b.p.Defined(part.text):
				// Plan variables, and those of set and env, are
				// expanded when the step runs.
				sb.WriteString("{{" + part.text + "}}")
			case part.text == "WORK":
				sb.WriteString(b.work)
			case part.text == "SCRIPTDIR":
				dir, err := filepath.Abs(filepath.Dir(b.name))
				if err != nil {
					return nil, nil, err
				}
				sb.WriteString(dir)
			case strings.Contains(part.text, "."):
				host, _, _ := strings.Cut(part.text, ".")
				return nil, nil, fmt.Errorf("undefined variable $%s: no host %s declared before this line", part.text, host)
			default:
				v, ok := os.LookupEnv(part.text)
				if !ok {
					return nil, nil, fmt.Errorf("undefined variable $%s: not set by an earlier step nor in the environment", part.text)
				}
				sb.WriteString(v)
			}
		}
		args = append(args, sb.String())
	}
	return args, seps, nil
}

// proc returns the process called name; for a word that is a plan
// variable alone, as $leader, a stand-in for the process spawned before
// this line whose name the variable holds when the step runs.
func (b *builder) proc(name string) (*proctest.Proc, error) {
	if p := b.procs[name]; p != nil {
		return p, nil
	}
	if v, ok := strings.CutPrefix(name, "{{"); ok && strings.HasSuffix(v, "}}") && b.p.Defined(v[:len(v)-2]) {
		if len(b.order) == 0 {
			return nil, fmt.Errorf("$%s names a process, and none is spawned before this line", v[:len(v)-2])
		}
		return b.p.Which(b.p.Var(v[:len(v)-2]), b.order...), nil
	}
	return nil, fmt.Errorf("no process %q spawned before this line", name)
}

// host returns the host called name.
func (b *builder) host(name string) (*proctest.Host, error) {
	if h := b.hosts[name]; h != nil {
		return h, nil
	}
	return nil, fmt.Errorf("no host %q declared before this line", name)
}

// added records processes just spawned.
func (b *builder) added(procs ...*proctest.Proc) {
	for _, p := range procs {
		b.procs[p.Name()] = p
		b.order = append(b.order, p)
	}
}

// procOrNone returns the process called name, or nil for "-".
func (b *builder) procOrNone(name string) (*proctest.Proc, error) {
	if name == "-" {
		return nil, nil
	}
	return b.proc(name)
}

// exit returns the expected end of the process name: want[0] if given,
// else exit 0.
func (b *builder) exit(name string, want []string) (proctest.Exit, error) {
	proc, err := b.proc(name)
	if err != nil {
		return proctest.Exit{}, err
	}
	if len(want) == 0 {
		return proc.Exits(0), nil
	}
	return parseExit(proc, want[0])
}
