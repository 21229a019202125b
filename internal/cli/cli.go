// Package cli is the proctest command: its subcommands, flags, output
// and exit statuses, shared by cmd/proctest and by commands that run plan
// scripts on another backend (docker/cmd/proctest-docker).
package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/proctest/proctest"
	"github.com/proctest/proctest/script"
)

// Main runs the command with args (without the program's name) and
// returns its exit status. opts are given to every plan it runs, as
// proctest.WithBackend to run them elsewhere than on this machine.
func Main(args []string, stdout, stderr io.Writer, opts ...proctest.Option) int {
	return run(args, stdout, stderr, opts)
}

const usage = `usage: proctest run [flags] PATH...
       proctest check PATH...
       proctest help

A PATH is a plan script, a directory (its *.plan and *.txtar files),
or DIR/... (those of DIR and every directory below it).
Run "proctest run -h" or "proctest check -h" for the flags,
"proctest help" for the steps of a script.
`

// run runs the command with args and returns the exit status.
func run(args []string, stdout, stderr io.Writer, opts []proctest.Option) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "run":
		// SIGINT and SIGTERM stop the plans cleanly; their logs are kept.
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		return runCmd(ctx, args[1:], stdout, stderr, opts)
	case "check":
		return checkCmd(args[1:], stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		fmt.Fprintln(stdout)
		printSteps(stdout)
		return 0
	}
	fmt.Fprintf(stderr, "proctest: unknown command %q\n%s", args[0], usage)
	return 2
}

// runFlags are the flags of proctest run.
type runFlags struct {
	verbose  bool
	json     bool
	match    string
	timeout  time.Duration
	keep     bool
	parallel int
	logDir   string
	timeline string
	opts     []proctest.Option // given to every plan
}

// runCmd runs proctest run with args; ctx is done when the command is
// interrupted.
func runCmd(ctx context.Context, args []string, stdout, stderr io.Writer, opts []proctest.Option) int {
	backend, args, err := cutBackend(args)
	if err != nil {
		fmt.Fprintf(stderr, "proctest run: %v\n", err)
		return 2
	}
	if backend != "" && backend != "local" {
		if len(opts) > 0 {
			fmt.Fprintln(stderr, "proctest run: -backend: this command runs the plans on a backend of its own already")
			return 2
		}
		return runBackend(ctx, backend, args, stdout, stderr)
	}
	fs := flag.NewFlagSet("proctest run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	f := runFlags{opts: opts}
	fs.String("backend", "local", backendUsage) // cut from args above
	fs.BoolVar(&f.verbose, "v", false, "print each step and event as it happens")
	fs.BoolVar(&f.json, "json", false, "print a stream of JSON events instead of text")
	fs.StringVar(&f.match, "run", "", "run only the scripts whose path matches the regular expression")
	fs.DurationVar(&f.timeout, "timeout", 10*time.Minute, "fail a plan that runs longer than this")
	fs.BoolVar(&f.keep, "keep", false, "keep the logs of plans that pass too")
	fs.IntVar(&f.parallel, "parallel", 1, "run up to this many plans at once")
	fs.StringVar(&f.logDir, "logdir", "", "make the plans' log directories (and scripts' work directories) under this directory (default $PROCTEST_LOGDIR; without it, /dev/shm when it is a memory file system of 1 GiB or more, else the system temp dir)")
	fs.StringVar(&f.timeline, "timeline", "", "write each plan's timeline page to this HTML file (NAME-PLAN.html when several plans run)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: proctest run [flags] PATH...\n\nRuns plan scripts and reports, like go test, which pass and which fail.\nExit status: 0 all passed, 1 one failed, 2 usage or parse error.\n\nFlags:\n")
		fs.PrintDefaults()
		fmt.Fprintln(stderr)
		printSteps(stderr)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() == 0 || f.parallel < 1 || f.timeout <= 0 {
		fs.Usage()
		return 2
	}
	var re *regexp.Regexp
	if f.match != "" {
		var err error
		if re, err = regexp.Compile(f.match); err != nil {
			fmt.Fprintf(stderr, "proctest: -run: %v\n", err)
			return 2
		}
	}
	scripts, ok := load(fs.Args(), re, stderr)
	if !ok {
		return 2
	}
	if len(scripts) == 0 {
		fmt.Fprintln(stderr, "proctest: no scripts to run")
		return 2
	}

	out := &printer{w: stdout, json: f.json, verbose: f.verbose}
	var (
		wg      sync.WaitGroup
		sem     = make(chan struct{}, f.parallel)
		mu      sync.Mutex
		failed  int
		skipped int
		start   = time.Now()
	)
	for _, s := range scripts {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			switch runScript(ctx, s, &f, out, len(scripts) > 1) {
			case failedPlan:
				mu.Lock()
				failed++
				mu.Unlock()
			case skippedPlan:
				mu.Lock()
				skipped++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	// A run interrupted, even after its last plan, does not pass.
	interrupted := ctx.Err() != nil
	out.summary(len(scripts)-failed-skipped, failed, skipped, interrupted, time.Since(start))
	if failed > 0 || interrupted {
		return 1
	}
	return 0
}

// runScript runs one script and prints its result; it reports whether the
// plan passed.
// The outcomes of a plan.
const (
	passedPlan = iota
	failedPlan
	skippedPlan
)

// runScript runs one plan and prints its outcome. A plan needing what
// this machine cannot do (hosts without root) is skipped, except in CI
// (the CI environment variable set), where it fails.
func runScript(interrupted context.Context, s *script.Script, f *runFlags, out *printer, several bool) int {
	ctx, cancel := context.WithTimeout(interrupted, f.timeout)
	defer cancel()
	var events []proctest.Event
	opts := append([]proctest.Option{}, f.opts...)
	opts = append(opts, proctest.OnEvent(func(e proctest.Event) {
		events = append(events, e)
		out.event(e)
	}))
	if f.keep {
		opts = append(opts, proctest.KeepLogs())
	}
	if f.logDir != "" {
		opts = append(opts, proctest.LogDir(f.logDir))
	}
	out.start(s.Name)
	begin := time.Now()
	err := s.Run(ctx, opts...)
	elapsed := time.Since(begin)
	if err == nil && interrupted.Err() != nil {
		err = fmt.Errorf("proctest: %s: interrupted by a signal as it ended: a run that was interrupted does not pass", s.Name)
	}
	if f.timeline != "" {
		path := f.timeline
		if several {
			ext := filepath.Ext(path)
			path = strings.TrimSuffix(path, ext) + "-" + strings.ReplaceAll(strings.TrimSuffix(s.Name, filepath.Ext(s.Name)), "/", "_") + ext
		}
		if werr := writeTimeline(path, s.Name, events, err); werr != nil {
			err = errors.Join(err, werr)
		}
	}
	note := ""
	for _, e := range events {
		if e.Kind == proctest.EventPlanEnd {
			note = e.Detail // with -keep, where the logs are kept
		}
	}
	var unsupported *proctest.UnsupportedError
	if errors.As(err, &unsupported) && os.Getenv("CI") == "" {
		out.skip(s.Name, unsupported.Error(), elapsed)
		return skippedPlan
	}
	out.result(s.Name, err, elapsed, note)
	if err != nil {
		return failedPlan
	}
	return passedPlan
}

// writeTimeline writes the timeline page of one plan to path.
func writeTimeline(path, name string, events []proctest.Event, planErr error) error {
	t := proctest.Timeline{Plan: name, Events: events, Failed: planErr != nil}
	var pe *proctest.PlanError
	if errors.As(planErr, &pe) {
		t.LogDir = pe.LogDir
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("proctest: -timeline: %w", err)
	}
	if err := proctest.WriteTimeline(f, t); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func checkCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("proctest check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: proctest check PATH...\n\nReads and validates plan scripts without running anything: syntax,\nsteps, processes, variables, and that each command can be found.\nExit status: 0 all valid, 2 otherwise.\n")
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return 2
	}
	scripts, ok := load(fs.Args(), nil, stderr)
	if !ok {
		return 2
	}
	bad := 0
	for _, s := range scripts {
		if err := script.Check(s); err != nil {
			bad++
			fmt.Fprintln(stderr, err)
		}
	}
	if bad > 0 {
		return 2
	}
	fmt.Fprintf(stdout, "ok: %d scripts valid\n", len(scripts))
	return 0
}

// load reads and parses the scripts the paths name, keeping those whose
// path matches re (if not nil). It prints every error and reports whether
// there was none.
func load(paths []string, re *regexp.Regexp, stderr io.Writer) ([]*script.Script, bool) {
	files, err := script.Find(paths...)
	if err != nil {
		fmt.Fprintf(stderr, "proctest: %v\n", err)
		return nil, false
	}
	var scripts []*script.Script
	ok := true
	for _, file := range files {
		if re != nil && !re.MatchString(file) {
			continue
		}
		data, err := os.ReadFile(file)
		if err != nil {
			fmt.Fprintf(stderr, "proctest: %v\n", err)
			ok = false
			continue
		}
		s, err := script.Parse(file, data)
		if err != nil {
			fmt.Fprintln(stderr, err) // one line per mistake
			ok = false
			continue
		}
		scripts = append(scripts, s)
	}
	return scripts, ok
}

// printSteps lists the steps of a plan script, from the script package's
// table of verbs.
func printSteps(w io.Writer) {
	fmt.Fprintln(w, "Steps of a plan script (SCRIPTS.md has the details):")
	for _, v := range script.Verbs() {
		fmt.Fprintf(w, "  %s\n    \t%s\n", v.Usage(), strings.ReplaceAll(v.Summary, "`", ""))
	}
}

// printer writes the command's output; plans running in parallel share it.
type printer struct {
	mu      sync.Mutex
	w       io.Writer
	json    bool
	verbose bool
}

// jsonResult is the JSON line that ends a plan.
type jsonResult struct {
	Time    time.Time `json:"time"`
	Plan    string    `json:"plan"`
	Event   string    `json:"event"` // "pass" or "fail"
	Elapsed float64   `json:"elapsed_seconds"`
	Report  string    `json:"report,omitempty"`
}

func (p *printer) start(name string) {
	if p.verbose && !p.json {
		p.mu.Lock()
		fmt.Fprintf(p.w, "=== RUN   %s\n", name)
		p.mu.Unlock()
	}
}

func (p *printer) event(e proctest.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case p.json:
		b, _ := json.Marshal(e)
		fmt.Fprintf(p.w, "%s\n", b)
	case p.verbose:
		fmt.Fprintf(p.w, "    %s: %s\n", e.Plan, e) // e.String escapes what came from processes
	}
}

func (p *printer) result(name string, err error, elapsed time.Duration, note string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.json {
		r := jsonResult{Time: time.Now(), Plan: name, Event: "pass", Elapsed: elapsed.Seconds()}
		if err != nil {
			r.Event, r.Report = "fail", err.Error()
		}
		b, _ := json.Marshal(r)
		fmt.Fprintf(p.w, "%s\n", b)
		return
	}
	if err == nil {
		fmt.Fprintf(p.w, "--- PASS: %s (%.2fs)\n", name, elapsed.Seconds())
		if note != "" {
			fmt.Fprintf(p.w, "    %s\n", note)
		}
		return
	}
	fmt.Fprintf(p.w, "--- FAIL: %s (%.2fs)\n", name, elapsed.Seconds())
	for _, line := range strings.Split(err.Error(), "\n") {
		fmt.Fprintf(p.w, "    %s\n", line)
	}
}

// skip prints that a plan was skipped, and why.
func (p *printer) skip(name, why string, elapsed time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.json {
		b, _ := json.Marshal(jsonResult{Time: time.Now(), Plan: name, Event: "skip", Elapsed: elapsed.Seconds(), Report: why})
		fmt.Fprintf(p.w, "%s\n", b)
		return
	}
	fmt.Fprintf(p.w, "--- SKIP: %s (%.2fs)\n    %s\n", name, elapsed.Seconds(), why)
}

func (p *printer) summary(passed, failed, skipped int, interrupted bool, elapsed time.Duration) {
	if p.json {
		return
	}
	word := "PASS"
	if failed > 0 || interrupted {
		word = "FAIL"
	}
	fmt.Fprintf(p.w, "%s (%.2fs)\n%d passed, %d failed", word, elapsed.Seconds(), passed, failed)
	if skipped > 0 {
		fmt.Fprintf(p.w, ", %d skipped", skipped)
	}
	if interrupted {
		p.w.Write([]byte(", interrupted"))
	}
	p.w.Write([]byte("\n"))
}
