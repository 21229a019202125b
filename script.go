package proctest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
	"golang.org/x/tools/txtar"
)

// Plan scripts: a plan written as text, one step per line, for the
// proctest command and for tests in other languages. SCRIPTS.md documents
// the format; every step of the Go API has a line form, read here into the
// same Plan.

// A Script is a parsed plan script: its steps, and the files it carries.
type Script struct {
	// Name is the script's file name.
	Name string
	// Files are the files of its txtar archive, unpacked into the work
	// directory before the plan runs.
	Files []txtar.File

	lines []scriptLine
}

// scriptLine is one step line: its number and its words.
type scriptLine struct {
	n     int
	words []word
}

// A word is a word of a script line as split, before its variables are
// expanded.
type word struct {
	parts []wordPart
	sep   bool // an unquoted ";", separating commands of spawn-par
}

// wordPart is literal text, or a reference to the variable name.
type wordPart struct {
	text string
	ref  bool
}

// A ScriptError is a syntax error in a plan script.
type ScriptError struct {
	// File and Line say where.
	File string
	Line int
	// Err says what is wrong.
	Err error
}

// Error says "file:line: problem".
func (e *ScriptError) Error() string { return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err) }

// Unwrap returns e.Err.
func (e *ScriptError) Unwrap() error { return e.Err }

// ParseScript reads a plan script. data is the script text, or a txtar
// archive whose comment is the script and whose files go into the work
// directory. Every syntax error is reported, joined, each as a
// *[ScriptError].
func ParseScript(filename string, data []byte) (*Script, error) {
	ar := txtar.Parse(data)
	s := &Script{Name: filename, Files: ar.Files}
	var errs []error
	for i, text := range strings.Split(string(ar.Comment), "\n") {
		words, err := splitWords(text)
		if err != nil {
			errs = append(errs, &ScriptError{File: filename, Line: i + 1, Err: err})
			continue
		}
		if len(words) > 0 {
			s.lines = append(s.lines, scriptLine{n: i + 1, words: words})
		}
	}
	for _, f := range ar.Files {
		if name := filepath.Clean(f.Name); filepath.IsAbs(name) || name == ".." || strings.HasPrefix(name, "../") {
			errs = append(errs, &ScriptError{File: filename, Line: 0, Err: fmt.Errorf("file %q is outside the work directory", f.Name)})
		}
	}
	return s, errors.Join(errs...)
}

// splitWords splits a line into words as a shell does: blanks separate
// words; '...' quotes literally; "..." quotes with \", \\ and \$ escapes
// and variables; a backslash escapes the next character; $NAME and
// ${NAME} refer to variables outside single quotes; an unquoted ';' is a
// separator and an unquoted '#' at the start of a word begins a comment.
func splitWords(line string) ([]word, error) {
	var words []word
	var cur *word
	lit := func(s string) {
		if cur == nil {
			words = append(words, word{})
			cur = &words[len(words)-1]
		}
		if n := len(cur.parts); n > 0 && !cur.parts[n-1].ref {
			cur.parts[n-1].text += s
		} else {
			cur.parts = append(cur.parts, wordPart{text: s})
		}
	}
	ref := func(name string) {
		if cur == nil {
			words = append(words, word{})
			cur = &words[len(words)-1]
		}
		cur.parts = append(cur.parts, wordPart{text: name, ref: true})
	}
	// variable reads a reference at line[i:], just after '$', and
	// returns the index after it.
	variable := func(i int) (int, error) {
		if i < len(line) && line[i] == '{' {
			j := strings.IndexByte(line[i:], '}')
			if j < 0 {
				return 0, errors.New("unclosed ${")
			}
			name := line[i+1 : i+j]
			if !isName(name) {
				return 0, fmt.Errorf("bad variable name %q", name)
			}
			ref(name)
			return i + j + 1, nil
		}
		j := i
		for j < len(line) && (line[j] == '_' || 'a' <= line[j]|32 && line[j]|32 <= 'z' || j > i && '0' <= line[j] && line[j] <= '9') {
			j++
		}
		if j == i {
			lit("$")
			return i, nil
		}
		ref(line[i:j])
		return j, nil
	}
	for i := 0; i < len(line); {
		c := line[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r':
			cur = nil
			i++
		case c == '#' && cur == nil:
			return words, nil
		case c == ';':
			words = append(words, word{sep: true})
			cur = nil
			i++
		case c == '\'':
			j := strings.IndexByte(line[i+1:], '\'')
			if j < 0 {
				return nil, errors.New("unclosed single quote")
			}
			lit(line[i+1 : i+1+j])
			i += j + 2
		case c == '"':
			lit("") // "" is an empty word
			i++
			for {
				if i >= len(line) {
					return nil, errors.New("unclosed double quote")
				}
				c := line[i]
				if c == '"' {
					i++
					break
				}
				if c == '\\' && i+1 < len(line) && strings.IndexByte(`"\$`, line[i+1]) >= 0 {
					lit(line[i+1 : i+2])
					i += 2
					continue
				}
				if c == '$' {
					var err error
					if i, err = variable(i + 1); err != nil {
						return nil, err
					}
					continue
				}
				lit(line[i : i+1])
				i++
			}
		case c == '\\':
			if i+1 >= len(line) {
				return nil, errors.New("backslash at the end of the line")
			}
			lit(line[i+1 : i+2])
			i += 2
		case c == '$':
			var err error
			if i, err = variable(i + 1); err != nil {
				return nil, err
			}
		default:
			lit(line[i : i+1])
			i++
		}
	}
	return words, nil
}

// isName reports whether s is a variable name.
func isName(s string) bool { return varRef.MatchString("{{" + s + "}}") }

// Plan builds the script's plan, with work as its work directory: the
// directory the processes run in, where the script's files are unpacked,
// and $WORK in the script. Errors in how steps are written (an unknown
// step, a missing argument, an unknown process or variable) are returned
// joined, each as a *[ScriptError]; the plan's own checks run in
// [Plan.Validate] and [Plan.Execute].
func (s *Script) Plan(work string, opts ...Option) (*Plan, error) {
	p := New(s.Name, opts...)
	p.Dir = work
	b := &scriptBuilder{p: p, procs: map[string]*Proc{}, work: work, name: s.Name}
	var errs []error
	for _, l := range s.lines {
		p.At(s.Name, l.n)
		if err := b.step(l.words); err != nil {
			errs = append(errs, &ScriptError{File: s.Name, Line: l.n, Err: err})
		}
	}
	p.At("", 0)
	return p, errors.Join(errs...)
}

// Unpack writes the script's files into dir.
func (s *Script) Unpack(dir string) error {
	for _, f := range s.Files {
		path := filepath.Join(dir, filepath.Clean(f.Name))
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return err
		}
		if err := os.WriteFile(path, f.Data, 0o600); err != nil {
			return err
		}
	}
	return nil
}

// Run runs the script as [Plan.Execute] runs a plan: it makes a work
// directory under the log root (see [LogDir]), unpacks the files, builds
// and executes the plan, and removes the work directory, unless the plan
// failed or [KeepLogs] was given: then the report names it.
func (s *Script) Run(ctx context.Context, opts ...Option) error {
	root := New(s.Name, opts...).LogRoot()
	if err := os.MkdirAll(root, 0o755); err != nil {
		return fmt.Errorf("proctest: %s: work directory: %w", s.Name, err)
	}
	work, err := os.MkdirTemp(root, "proctest-work-"+safeName(filepath.Base(s.Name))+"-")
	if err != nil {
		return fmt.Errorf("proctest: %s: work directory: %w", s.Name, err)
	}
	p, err := s.Plan(work, opts...)
	if err == nil {
		err = s.Unpack(work)
	}
	if err == nil {
		err = p.Execute(ctx)
	}
	var pe *PlanError
	if err != nil && errors.As(err, &pe) && pe.LogDir != "" {
		pe.report += "\nwork directory kept in " + work
		return err
	}
	if p.KeepsLogs() && err == nil {
		return nil
	}
	os.RemoveAll(work)
	return err
}

// scriptBuilder turns script lines into plan steps.
type scriptBuilder struct {
	p     *Plan
	procs map[string]*Proc // by name
	work  string
	name  string // the script's file name
}

// expand returns the words' text with variables expanded: plan variables
// become references the plan fills in as it runs, WORK the work directory,
// SCRIPTDIR the script's directory, and other names the environment's
// value. A ';' is returned as ";" only
// in seps.
func (b *scriptBuilder) expand(words []word) (args []string, seps []int, err error) {
	for _, w := range words {
		if w.sep {
			seps = append(seps, len(args))
			continue
		}
		var sb strings.Builder
		for _, part := range w.parts {
			switch {
			case !part.ref:
				sb.WriteString(part.text)
			case b.p.Defined(part.text):
				sb.WriteString("{{" + part.text + "}}")
			case part.text == "WORK":
				sb.WriteString(b.work)
			case part.text == "SCRIPTDIR":
				dir, err := filepath.Abs(filepath.Dir(b.name))
				if err != nil {
					return nil, nil, err
				}
				sb.WriteString(dir)
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

// flags reads the leading -flag value pairs of args that are in allowed,
// and returns them with the rest. A flag may be repeated.
func flags(args []string, allowed ...string) (map[string][]string, []string, error) {
	got := map[string][]string{}
	for len(args) > 0 && strings.HasPrefix(args[0], "-") && len(args[0]) > 1 {
		name := args[0][1:]
		if name == "-" {
			return got, args[1:], nil
		}
		known := false
		for _, a := range allowed {
			known = known || a == name
		}
		if !known {
			return nil, nil, fmt.Errorf("unknown flag -%s (flags here: %s)", name, flagList(allowed))
		}
		if len(args) < 2 {
			return nil, nil, fmt.Errorf("flag -%s needs a value", name)
		}
		got[name] = append(got[name], args[1])
		args = args[2:]
	}
	return got, args, nil
}

func flagList(allowed []string) string {
	if len(allowed) == 0 {
		return "none"
	}
	return "-" + strings.Join(allowed, ", -")
}

// proc returns the process called name.
func (b *scriptBuilder) proc(name string) (*Proc, error) {
	if p := b.procs[name]; p != nil {
		return p, nil
	}
	return nil, fmt.Errorf("no process %q spawned before this line", name)
}

// parseExit reads an expected end: an exit code, or a signal name.
func parseExit(s string) (Status, error) {
	if n, err := strconv.Atoi(s); err == nil {
		if n < 0 || n > 255 {
			return Status{}, fmt.Errorf("exit code %d is not between 0 and 255", n)
		}
		return Status{Code: n}, nil
	}
	sig, err := parseSignal(s)
	if err != nil {
		return Status{}, fmt.Errorf("expected end %q is neither an exit code nor a signal", s)
	}
	return Status{Signal: sig}, nil
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

// setTimeout applies a -timeout flag to step s.
func setTimeout(s *Step, f map[string][]string) error {
	for _, v := range f["timeout"] {
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("bad -timeout: %v", err)
		}
		s.Timeout(d)
	}
	return nil
}

// nargs checks that args has between min and max entries (max -1: any).
func nargs(verb string, args []string, min, max int, usage string) error {
	if len(args) < min || max >= 0 && len(args) > max {
		return fmt.Errorf("usage: %s %s", verb, usage)
	}
	return nil
}

// step adds the step of one line.
func (b *scriptBuilder) step(words []word) error {
	args, seps, err := b.expand(words)
	if err != nil {
		return err
	}
	if len(args) == 0 {
		return errors.New("a line cannot start with ';'")
	}
	verb, args := args[0], args[1:]
	for i := range seps {
		seps[i]-- // counted with the verb
	}
	if len(seps) > 0 && verb != "spawn-par" {
		return fmt.Errorf("';' separates the commands of spawn-par only")
	}
	p := b.p
	switch verb {
	case "spawn":
		f, rest, err := flags(args, "name", "env", "dir", "stdin")
		if err != nil {
			return err
		}
		if err := nargs(verb, rest, 1, -1, "[-name NAME] [-env KEY=VALUE]... [-dir DIR] [-stdin FILE] COMMAND [ARG]..."); err != nil {
			return err
		}
		var proc *Proc
		if name := f["name"]; len(name) > 0 {
			proc = p.SpawnNamed(name[len(name)-1], rest[0], rest[1:]...)
		} else {
			proc = p.Spawn(rest[0], rest[1:]...)
		}
		proc.Env = f["env"]
		if d := f["dir"]; len(d) > 0 {
			proc.Dir = d[len(d)-1]
		}
		if in := f["stdin"]; len(in) > 0 {
			path := in[len(in)-1]
			if !filepath.IsAbs(path) {
				path = filepath.Join(b.work, path)
			}
			proc.Stdin = StdinFile(path)
		}
		b.procs[proc.name] = proc
	case "spawn-par":
		var argvs [][]string
		start := 0
		for _, end := range append(seps, len(args)) {
			if end == start {
				return errors.New("usage: spawn-par COMMAND [ARG]... [; COMMAND [ARG]...] (commands separated by ;)")
			}
			argvs = append(argvs, args[start:end])
			start = end
		}
		for _, proc := range p.SpawnPar(argvs...) {
			b.procs[proc.name] = proc
		}
	case "wait":
		f, rest, err := flags(args, "timeout")
		if err != nil {
			return err
		}
		if err := nargs(verb, rest, 1, 2, "[-timeout D] NAME [CODE|SIGNAL]"); err != nil {
			return err
		}
		x, err := b.exit(rest[0], rest[1:])
		if err != nil {
			return err
		}
		return setTimeout(p.WaitExit(x), f)
	case "wait-par":
		f, rest, err := flags(args, "timeout")
		if err != nil {
			return err
		}
		if err := nargs(verb, rest, 1, -1, "[-timeout D] NAME[=CODE|SIGNAL]..."); err != nil {
			return err
		}
		var xs []Exit
		for _, a := range rest {
			name, want, found := strings.Cut(a, "=")
			var wantArgs []string
			if found {
				wantArgs = []string{want}
			}
			x, err := b.exit(name, wantArgs)
			if err != nil {
				return err
			}
			xs = append(xs, x)
		}
		return setTimeout(p.WaitPar(xs...), f)
	case "kill":
		f, rest, err := flags(args, "signal", "timeout")
		if err != nil {
			return err
		}
		if err := nargs(verb, rest, 1, 2, "[-signal SIG] [-timeout D] NAME [CODE|SIGNAL]"); err != nil {
			return err
		}
		proc, err := b.proc(rest[0])
		if err != nil {
			return err
		}
		var kargs []KillArg
		if sig := f["signal"]; len(sig) > 0 {
			s, err := parseSignal(sig[len(sig)-1])
			if err != nil {
				return err
			}
			kargs = append(kargs, Using(s))
		}
		if len(rest) == 2 {
			st, err := parseExit(rest[1])
			if err != nil {
				return err
			}
			kargs = append(kargs, Exit{proc: proc, want: st})
		}
		return setTimeout(p.Kill(proc, kargs...), f)
	case "signal", "pause", "resume", "restart":
		usage := "NAME"
		if verb == "signal" {
			usage = "NAME SIGNAL"
		}
		if err := nargs(verb, args, len(strings.Fields(usage)), len(strings.Fields(usage)), usage); err != nil {
			return err
		}
		proc, err := b.proc(args[0])
		if err != nil {
			return err
		}
		switch verb {
		case "signal":
			sig, err := parseSignal(args[1])
			if err != nil {
				return err
			}
			p.Signal(proc, sig)
		case "pause":
			p.Pause(proc)
		case "resume":
			p.Resume(proc)
		case "restart":
			p.Restart(proc)
		}
	case "sleep":
		if err := nargs(verb, args, 1, 1, "DURATION"); err != nil {
			return err
		}
		d, err := time.ParseDuration(args[0])
		if err != nil {
			return err
		}
		p.Sleep(d)
	case "wait-stdout", "wait-stderr":
		f, rest, err := flags(args, "timeout", "nth")
		if err != nil {
			return err
		}
		if err := nargs(verb, rest, 2, 2, "[-timeout D] [-nth N] NAME REGEXP"); err != nil {
			return err
		}
		proc, err := b.proc(rest[0])
		if err != nil {
			return err
		}
		s := p.WaitStdout
		if verb == "wait-stderr" {
			s = p.WaitStderr
		}
		step := s(proc, rest[1])
		for _, n := range f["nth"] {
			nth, err := strconv.Atoi(n)
			if err != nil {
				return fmt.Errorf("bad -nth: %v", err)
			}
			step.Nth(nth)
		}
		return setTimeout(step, f)
	case "wait-port", "wait-http", "wait-file":
		f, rest, err := flags(args, "timeout")
		if err != nil {
			return err
		}
		usage := map[string]string{"wait-port": "NAME|- HOST:PORT", "wait-http": "NAME|- URL [STATUS]", "wait-file": "NAME|- PATH"}[verb]
		maxArgs := 2
		if verb == "wait-http" {
			maxArgs = 3
		}
		if err := nargs(verb, rest, 2, maxArgs, "[-timeout D] "+usage); err != nil {
			return err
		}
		var proc *Proc
		if rest[0] != "-" {
			if proc, err = b.proc(rest[0]); err != nil {
				return err
			}
		}
		var step *Step
		switch verb {
		case "wait-port":
			step = p.WaitPort(proc, rest[1])
		case "wait-file":
			path := rest[1]
			if !filepath.IsAbs(path) && !strings.HasPrefix(path, "{{") {
				path = filepath.Join(b.work, path)
			}
			step = p.WaitFile(proc, path)
		case "wait-http":
			status := 200
			if len(rest) == 3 {
				if status, err = strconv.Atoi(rest[2]); err != nil {
					return fmt.Errorf("bad status %q", rest[2])
				}
			}
			step = p.WaitHTTP(proc, rest[1], status)
		}
		return setTimeout(step, f)
	case "expect-stdout", "expect-stderr", "expect-stdout-file", "expect-stderr-file":
		if err := nargs(verb, args, 2, 2, "NAME PATTERN|FILE"); err != nil {
			return err
		}
		proc, err := b.proc(args[0])
		if err != nil {
			return err
		}
		switch verb {
		case "expect-stdout":
			p.ExpectStdout(proc, args[1])
		case "expect-stderr":
			p.ExpectStderr(proc, args[1])
		default:
			path := args[1]
			if !filepath.IsAbs(path) {
				path = filepath.Join(b.work, path)
			}
			if verb == "expect-stdout-file" {
				p.ExpectStdoutFile(proc, path)
			} else {
				p.ExpectStderrFile(proc, path)
			}
		}
	case "timeout":
		if err := nargs(verb, args, 1, 1, "DURATION"); err != nil {
			return err
		}
		d, err := time.ParseDuration(args[0])
		if err != nil {
			return err
		}
		p.SetTimeout(d)
	case "env":
		if err := nargs(verb, args, 1, -1, "KEY=VALUE..."); err != nil {
			return err
		}
		for _, kv := range args {
			if k, _, ok := strings.Cut(kv, "="); !ok || k == "" {
				return fmt.Errorf("env %q: want KEY=VALUE", kv)
			}
		}
		p.Env = append(p.Env, args...)
	case "free-port":
		if err := nargs(verb, args, 1, -1, "NAME..."); err != nil {
			return err
		}
		for _, name := range args {
			if !isName(name) {
				return fmt.Errorf("bad variable name %q", name)
			}
			p.FreePort(name)
		}
	default:
		return fmt.Errorf("unknown step %q (see SCRIPTS.md)", verb)
	}
	return nil
}

// exit returns the expected end of the process name: want[0] if given,
// else exit 0.
func (b *scriptBuilder) exit(name string, want []string) (Exit, error) {
	proc, err := b.proc(name)
	if err != nil {
		return Exit{}, err
	}
	st := Status{}
	if len(want) > 0 {
		if st, err = parseExit(want[0]); err != nil {
			return Exit{}, err
		}
	}
	return Exit{proc: proc, want: st}, nil
}
