package proctest_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/proctest/proctest"
	"golang.org/x/sys/unix"
)

// Logs in memory: the tests use a directory of /dev/shm as the memory
// file system a plan chooses by itself, and small bounds through
// proctest.MemoryLogs, so that they need not write gigabytes.

// shmDir returns a new directory in /dev/shm, removed at cleanup, or skips
// the test if /dev/shm is not a large enough memory file system.
func shmDir(t *testing.T) string {
	t.Helper()
	var st unix.Statfs_t
	if err := unix.Statfs("/dev/shm", &st); err != nil || st.Type != 0x01021994 || int64(st.Blocks)*int64(st.Bsize) < 1<<30 {
		t.Skip("needs /dev/shm, a tmpfs of 1 GiB or more")
	}
	dir, err := os.MkdirTemp("/dev/shm", "proctest-test-")
	if err != nil {
		t.Skip(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// events collects the events of a plan.
type events []proctest.Event

func (ev *events) option() proctest.Option {
	return proctest.OnEvent(func(e proctest.Event) { *ev = append(*ev, e) })
}

// find returns the first event of kind whose detail contains text.
func (ev events) find(kind proctest.EventKind, text string) (proctest.Event, bool) {
	for _, e := range ev {
		if e.Kind == kind && strings.Contains(e.Detail, text) {
			return e, true
		}
	}
	return proctest.Event{}, false
}

// The logs of a plan that fails do not stay in memory: they move to disk,
// whole, and the report names where they are.
func TestFailedPlanLogsLeaveMemory(t *testing.T) {
	t.Parallel()
	shm, disk := shmDir(t), t.TempDir()
	var ev events
	err := execute(t, func(p *proctest.Plan) {
		p.Wait(p.Spawn("sh", "-c", "echo hello; echo oops >&2; exit 1"), 0)
	}, proctest.MemoryLogs(shm, disk, 0, 1<<30), ev.option())
	var pe *proctest.PlanError
	if !errors.As(err, &pe) {
		t.Fatalf("Execute = %v, want a PlanError", err)
	}
	if filepath.Dir(pe.LogDir) != disk {
		t.Errorf("PlanError.LogDir = %s, want a directory in %s", pe.LogDir, disk)
	}
	if !strings.Contains(err.Error(), "logs kept in "+pe.LogDir+"\n") {
		t.Errorf("the report does not name where the logs are now, %s:\n%s", pe.LogDir, err)
	}
	if ents, _ := os.ReadDir(shm); len(ents) != 0 {
		t.Errorf("%s (memory) holds %v, want nothing", shm, ents)
	}
	for name, want := range map[string]string{"sh.stdout": "hello\n", "sh.stderr": "oops\n"} {
		if b, err := os.ReadFile(filepath.Join(pe.LogDir, name)); string(b) != want {
			t.Errorf("%s = %q, %v, want %q", name, b, err, want)
		}
	}
	if _, err := os.Stat(filepath.Join(pe.LogDir, "timeline.html")); err != nil {
		t.Errorf("no timeline page with the logs: %v", err)
	}
	if _, ok := ev.find(proctest.EventInfo, "logs moved out of memory to "+pe.LogDir); !ok {
		t.Errorf("no event says the logs moved")
	}
}

// Kept logs of a plan that passes move out of memory too.
func TestKeptLogsLeaveMemory(t *testing.T) {
	t.Parallel()
	shm, disk := shmDir(t), t.TempDir()
	err := execute(t, func(p *proctest.Plan) {
		p.Wait(p.Spawn("true"), 0)
	}, proctest.MemoryLogs(shm, disk, 0, 1<<30), proctest.KeepLogs())
	if err != nil {
		t.Fatal(err)
	}
	if ents, _ := os.ReadDir(shm); len(ents) != 0 {
		t.Errorf("%s (memory) holds %v, want nothing", shm, ents)
	}
	if ents, _ := os.ReadDir(disk); len(ents) != 1 {
		t.Errorf("%s (disk) holds %v, want the plan's logs", disk, ents)
	}
}

// A memory file system with less room free than the floor is not chosen:
// the logs go to disk, and the plan says why.
func TestMemoryFloorSendsLogsToDisk(t *testing.T) {
	t.Parallel()
	shm, disk := shmDir(t), t.TempDir()
	var ev events
	err := execute(t, func(p *proctest.Plan) {
		p.Wait(p.Spawn("false"), 0)
	}, proctest.MemoryLogs(shm, disk, 1<<62, 1<<30), ev.option())
	var pe *proctest.PlanError
	if !errors.As(err, &pe) || filepath.Dir(pe.LogDir) != disk {
		t.Fatalf("Execute = %v, want a failure with logs in %s", err, disk)
	}
	if _, ok := ev.find(proctest.EventInfo, "logs on disk: "+shm+" has "); !ok {
		t.Errorf("no event says why the logs are on disk")
	}
}

// Logs in memory past their bound are cut: the plan warns, the middle of
// the large log is replaced by a marker, its start and end are kept.
func TestMemoryLogsBounded(t *testing.T) {
	t.Parallel()
	shm, disk := shmDir(t), t.TempDir()
	var ev events
	const n = 32 << 20
	err := execute(t, func(p *proctest.Plan) {
		p.Wait(p.Spawn("sh", "-c", `printf START; head -c 33554432 /dev/zero | tr '\0' x; printf END`), 0)
	}, proctest.MemoryLogs(shm, disk, 0, 1<<20), proctest.KeepLogs(), ev.option())
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := ev.find(proctest.EventWarning, "more than their bound of 1.0 MiB: the middle of 1 logs was cut"); !ok {
		t.Errorf("no warning that the logs passed their bound; events: %v", ev)
	}
	ents, _ := os.ReadDir(disk)
	if len(ents) != 1 {
		t.Fatalf("%s holds %v, want the kept logs", disk, ents)
	}
	b, err := os.ReadFile(filepath.Join(disk, ents[0].Name(), "sh.stdout"))
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > 1<<20 || !strings.HasPrefix(string(b), "STARTxxx") || !strings.HasSuffix(string(b), "xxxEND") ||
		!strings.Contains(string(b), "\n--- proctest: output cut here: the plan's logs passed their bound of 1.0 MiB in memory ---\n") {
		t.Errorf("kept sh.stdout has %d bytes (of %d written), starting %.20q, ending %.20q: want its start and end, and the cut marked",
			len(b), n+8, b, b[max(len(b)-20, 0):])
	}
}
