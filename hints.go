package proctest

import (
	"os"
	"path/filepath"
)

// bufferingHint is what a report says of a process whose stdout is still
// empty when a wait on its stdout times out.
const bufferingHint = "; its stdout is still empty: if it prints what the step waits for, it may be " +
	"holding it in a buffer, as many programs do when their output is not a terminal " +
	"(Python: PYTHONUNBUFFERED=1 or python -u; C programs: stdbuf -oL COMMAND)"

// explainTimeout adds to the timeout err of readiness step s what may
// help to understand it: that the program may be buffering its output,
// and the other processes the step concerns, or for a step about no
// process, those running, whose output the report then shows.
func (e *executor) explainTimeout(s *Step, err error) error {
	te, ok := err.(*TimeoutError)
	if !ok {
		return err
	}
	for i, p := range s.procs {
		p.killedBy = "the timeout"
		if i > 0 {
			te.Related = append(te.Related, p.name)
		}
	}
	if len(s.procs) == 0 {
		te.Related = e.runningProcs()
	}
	if out := s.ready.out; out != nil && out.stream == streamStdout && len(s.procs) > 0 {
		st, err := os.Stat(filepath.Join(e.dir, s.procs[0].name+".stdout"))
		if err == nil && st.Size() == 0 {
			te.Hint = bufferingHint
		}
	}
	return te
}
