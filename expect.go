package proctest

import (
	"flag"
	"fmt"
	"os"
	"regexp"
	"strings"
)

// expectation is what an output check expects of an ended process.
type expectation struct {
	stream int
	re     *regexp.Regexp // the output must match, or
	golden string         // the output must equal this file
}

// An OutputError reports output that is not what a check expected.
type OutputError struct {
	// Proc names the process, Stream is "stdout" or "stderr".
	Proc, Stream string
	// Step and Where name the step.
	Step, Where string
	// Want says what was expected: a pattern, or a golden file.
	Want string
	// Diff shows how the output differs from the golden file, or is
	// empty for a pattern.
	Diff string
}

// Error says what was expected, with the diff for a golden file.
func (e *OutputError) Error() string {
	if e.Diff != "" {
		return fmt.Sprintf("%s%s of %s differs from %s (- want, + got):\n%s", prefix(e.Where, e.Step), e.Stream, e.Proc, e.Want, e.Diff)
	}
	return fmt.Sprintf("%s%s of %s does not match %s", prefix(e.Where, e.Step), e.Stream, e.Proc, e.Want)
}

// ExpectStdout adds a step that checks that the stdout of proc, which must
// have ended, matches the regular expression pattern somewhere. As in
// testscript, the pattern is in multi-line mode: ^ and $ match at the start
// and end of each line. Use regexp.QuoteMeta for plain text.
func (p *Plan) ExpectStdout(proc *Proc, pattern string) *Step {
	return p.expectOutput(proc, streamStdout, pattern, "")
}

// ExpectStderr is like [Plan.ExpectStdout], for stderr.
func (p *Plan) ExpectStderr(proc *Proc, pattern string) *Step {
	return p.expectOutput(proc, streamStderr, pattern, "")
}

// ExpectStdoutFile adds a step that checks that the stdout of proc, which
// must have ended, equals the golden file path. With the environment
// variable PROCTEST_UPDATE=1, or a test flag -update set, it writes the
// output into the file instead.
func (p *Plan) ExpectStdoutFile(proc *Proc, path string) *Step {
	return p.expectOutput(proc, streamStdout, "", path)
}

// ExpectStderrFile is like [Plan.ExpectStdoutFile], for stderr.
func (p *Plan) ExpectStderrFile(proc *Proc, path string) *Step {
	return p.expectOutput(proc, streamStderr, "", path)
}

func (p *Plan) expectOutput(proc *Proc, stream int, pattern, golden string) *Step {
	s := &Step{plan: p, kind: stepExpect, where: p.caller(), name: "expect-" + streamNames[stream],
		check: checkExpect, run: runExpect}
	s.expect = &expectation{stream: stream, golden: golden}
	if proc != nil {
		s.name += " " + proc.name
	}
	p.noStandIn(s, proc)
	if p.checkProc(s, proc) && proc.ref == nil {
		s.procs = []*Proc{proc}
	}
	if golden == "" {
		re, err := regexp.Compile("(?m)" + pattern)
		if err != nil {
			p.errs = append(p.errs, &BuildError{Where: s.where, Step: s.name, Err: fmt.Errorf("bad pattern: %v", err)})
		}
		s.expect.re = re
	}
	p.steps = append(p.steps, s)
	return s
}

// checkExpect checks an output check: its process must have ended.
func checkExpect(w *walk, s *Step, bad func(string, ...any)) {
	for _, proc := range s.procs {
		if w.ended[proc] == nil {
			bad("%s is still running: wait for it before checking its output", proc.name)
		}
	}
}

// runExpect checks the output of the process of an output check, once
// all of it is in the log.
func runExpect(e *executor, s *Step) error {
	p := s.procs[0]
	p.waitStreams()
	return s.expect.check(s, p, e.logs)
}

// updateGolden reports whether golden files are to be rewritten.
func updateGolden() bool {
	if os.Getenv("PROCTEST_UPDATE") == "1" {
		return true
	}
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// check checks the output of proc in the plan's logs.
func (x *expectation) check(s *Step, proc *Proc, logs *planLogs) error {
	stream := streamNames[x.stream]
	got, err := logs.readFile(proc.name + "." + stream)
	if err != nil {
		return fmt.Errorf("%s%w", prefix(s.where, s.name), err)
	}
	if x.re != nil {
		if !x.re.Match(got) {
			return &OutputError{Proc: proc.name, Stream: stream, Step: s.name, Where: s.where, Want: fmt.Sprintf("%q", strings.TrimPrefix(x.re.String(), "(?m)"))}
		}
		return nil
	}
	if updateGolden() {
		if err := os.WriteFile(x.golden, got, 0o644); err != nil {
			return fmt.Errorf("%supdate golden file: %w", prefix(s.where, s.name), err)
		}
		return nil
	}
	want, err := os.ReadFile(x.golden)
	if err != nil {
		return fmt.Errorf("%sgolden file: %w (PROCTEST_UPDATE=1 writes it)", prefix(s.where, s.name), err)
	}
	if string(want) != string(got) {
		return &OutputError{Proc: proc.name, Stream: stream, Step: s.name, Where: s.where, Want: x.golden,
			Diff: lineDiff(string(want), string(got))}
	}
	return nil
}

// diffContext is how many unchanged lines a diff shows around a change.
const diffContext = 3

// lineDiff returns a line diff of want and got: lines only in want start
// with "-", only in got with "+", unchanged ones with " ". Only the region
// from the first to the last change is shown, with a little context.
func lineDiff(want, got string) string {
	a := strings.SplitAfter(want, "\n")
	b := strings.SplitAfter(got, "\n")
	head := 0
	for head < len(a) && head < len(b) && a[head] == b[head] {
		head++
	}
	ta, tb := len(a), len(b)
	for ta > head && tb > head && a[ta-1] == b[tb-1] {
		ta--
		tb--
	}
	var out strings.Builder
	write := func(mark string, lines []string) {
		for _, l := range lines {
			if l != "" {
				out.WriteString(mark + ensureNL(l))
			}
		}
	}
	write(" ", a[max(head-diffContext, 0):head])
	diffMiddle(&out, a[head:ta], b[head:tb], write)
	write(" ", a[ta:min(ta+diffContext, len(a))])
	return out.String()
}

// diffMiddle writes the changes from a to b, aligned on their longest
// common subsequence; past a size where that costs too much, all of a as
// removed and all of b as added.
func diffMiddle(out *strings.Builder, a, b []string, write func(string, []string)) {
	if len(a)*len(b) > 1<<20 {
		write("-", a)
		write("+", b)
		return
	}
	// lcs[i][j] is the length of the LCS of a[i:] and b[j:].
	lcs := make([][]int, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case i < len(a) && j < len(b) && a[i] == b[j]:
			write(" ", a[i:i+1])
			i++
			j++
		case i < len(a) && (j == len(b) || lcs[i+1][j] >= lcs[i][j+1]):
			write("-", a[i:i+1])
			i++
		default:
			write("+", b[j:j+1])
			j++
		}
	}
}

// ensureNL ends l with a newline, marking a missing one.
func ensureNL(l string) string {
	if strings.HasSuffix(l, "\n") {
		return l
	}
	return l + "\n\\ no newline at end\n"
}
