// Package script reads and runs plan scripts: plans of
// [github.com/proctest/proctest] written as text, one step per line, for
// the proctest command and for tests of programs in any language.
// SCRIPTS.md, at the root of the module, documents the language.
//
// A script is read by [Parse], which checks every line, and run by
// [Script.Run]; [Check] checks it whole without running anything. Every
// step of the language ([Verbs]) is a call of proctest's exported API: a
// script's plan is a [proctest.Plan] like any other, and fails with the
// same errors and reports, at the lines of the script.
//
//	s, err := script.Parse("echo.plan", []byte("spawn echo hi\nwait echo 0\n"))
//	if err != nil {
//		return err // "echo.plan:2: ...", one line per mistake
//	}
//	return s.Run(ctx, proctest.LogDir(dir))
package script

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/proctest/proctest"
	"golang.org/x/tools/txtar"
)

// A Script is a parsed plan script: its steps, and the files it carries.
type Script struct {
	// Name is the script's file name. Its lines are reported as
	// Name:line, and $SCRIPTDIR is its directory.
	Name string
	// Files are the files of its txtar archive, unpacked into the work
	// directory before the plan runs.
	Files []txtar.File

	lines []line
}

// A line is one step line: its number and its words.
type line struct {
	n     int
	words []word
}

// An Error is a mistake in how a line of a script is written: its syntax,
// an unknown step, a missing argument, an unknown process or variable.
type Error struct {
	// File and Line say where. Line is 0 for a mistake in the script's
	// files.
	File string
	Line int
	// Err says what is wrong.
	Err error
}

// Error says "file:line: problem".
func (e *Error) Error() string { return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err) }

// Unwrap returns e.Err.
func (e *Error) Unwrap() error { return e.Err }

// checkWork is the work directory of a plan that is only checked: it does
// not exist, so nothing can be written there by mistake.
const checkWork = "/nonexistent/work"

// Parse reads a plan script. data is the script text, or a txtar archive
// whose comment is the script and whose files go into the work directory.
// Parse checks how each line is written, building the plan once (in a
// work directory that does not exist, with the variables of the current
// environment): every mistake is reported, in line order, joined, each as
// an *[Error]. The script is returned even then, with the lines that could
// be read.
func Parse(filename string, data []byte) (*Script, error) {
	ar := txtar.Parse(data)
	s := &Script{Name: filename, Files: ar.Files}
	var errs []error
	for _, f := range ar.Files {
		if name := filepath.Clean(f.Name); filepath.IsAbs(name) || name == ".." || strings.HasPrefix(name, "../") {
			errs = append(errs, &Error{File: filename, Line: 0, Err: fmt.Errorf("file %q is outside the work directory", f.Name)})
		}
	}
	var sp splitter
	for i, text := range strings.Split(string(ar.Comment), "\n") {
		words, err := sp.split(text)
		if err != nil {
			errs = append(errs, &Error{File: filename, Line: i + 1, Err: err})
			continue
		}
		if len(words) > 0 {
			s.lines = append(s.lines, line{n: i + 1, words: words})
		}
	}
	errs = append(errs, s.build(proctest.New(filename), checkWork)...)
	slices.SortStableFunc(errs, func(a, b error) int { return a.(*Error).Line - b.(*Error).Line })
	return s, errors.Join(errs...)
}

// Plan builds the script's plan, with work as its work directory: the
// directory the processes run in, where the script's files are unpacked,
// and $WORK in the script. Mistakes in how lines are written (those
// [Parse] reports) are returned joined, each as an *[Error]; the plan's
// own checks run in [proctest.Plan.Validate] and
// [proctest.Plan.Execute].
func (s *Script) Plan(work string, opts ...proctest.Option) (*proctest.Plan, error) {
	p := proctest.New(s.Name, opts...)
	return p, errors.Join(s.build(p, work)...)
}

// build adds the script's steps to p, with work as its work directory,
// and returns the mistakes of its lines.
func (s *Script) build(p *proctest.Plan, work string) []error {
	p.Dir = work
	b := &builder{p: p, procs: map[string]*proctest.Proc{}, hosts: map[string]*proctest.Host{}, work: work, name: s.Name, files: s.Files}
	return b.build(s.lines)
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

// Check checks the script as [proctest.Plan.Execute] does before it runs
// anything, and starts nothing: how each line is written, as [Parse] does,
// then the plan as [proctest.Plan.Validate] does (each command can be
// found, each process is used in an order that can work).
func Check(s *Script) error {
	p, err := s.Plan(checkWork)
	if err != nil {
		return err
	}
	return p.Validate()
}

// Run runs the script as [proctest.Plan.Execute] runs a plan: it makes a
// work directory under the log root ([proctest.Plan.LogRoot]), unpacks the
// files there, builds and executes the plan, and removes the work
// directory, unless the plan failed or [proctest.KeepLogs] was given:
// then the failure report ends by naming it. A failure of the plan is
// returned as an error that unwraps to the *[proctest.PlanError].
func (s *Script) Run(ctx context.Context, opts ...proctest.Option) error {
	p := proctest.New(s.Name, opts...)
	// The work directory is made as safely as the plan's logs: in a
	// checked log root, 0700, so that no one else can swap it for theirs
	// between the unpacking of its files and their use.
	work, err := p.MakeDir("proctest-work-" + shorten(filepath.Base(s.Name), 40) + "-")
	if err != nil {
		return fmt.Errorf("proctest: %s: work directory: %w", s.Name, err)
	}
	err = errors.Join(s.build(p, work)...)
	if err == nil {
		err = s.Unpack(work)
	}
	if err == nil {
		err = p.Execute(ctx)
	}
	var pe *proctest.PlanError
	if err != nil && errors.As(err, &pe) && pe.LogDir != "" {
		return &keptError{err: err, work: work}
	}
	if p.KeepsLogs() && err == nil {
		return nil
	}
	os.RemoveAll(work)
	return err
}

// keptError is the failure of a script whose work directory was kept.
type keptError struct {
	err  error
	work string
}

// Error returns the failure report, with the work directory.
func (e *keptError) Error() string { return e.err.Error() + "\nwork directory kept in " + e.work }

// Unwrap returns the plan's failure.
func (e *keptError) Unwrap() error { return e.err }

// shorten returns s cut to at most n bytes.
func shorten(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
