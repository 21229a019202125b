package proctest

import (
	"encoding/json"
	"io"
	"os"
	"time"
)

// An Option changes how a plan runs. Options are given to [New] or [Run].
type Option interface {
	apply(*config)
}

// config holds what options set.
type config struct {
	logRoot      string
	keepLogs     bool
	stopGrace    time.Duration
	allowDaemons bool
	backend      Backend
	onEvent      []func(Event)
	mem          memConfig
}

// defaultConfig returns the settings before options: the environment
// variables PROCTEST_LOGDIR and PROCTEST_KEEP=1 act as LogDir and KeepLogs.
// With no log root set, each plan chooses one as it starts.
func defaultConfig() config {
	c := config{
		logRoot:   os.Getenv("PROCTEST_LOGDIR"),
		mem:       defaultMem,
		keepLogs:  os.Getenv("PROCTEST_KEEP") == "1",
		stopGrace: 2 * time.Second,
		backend:   Local,
	}
	return c
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// LogDir sets the directory under which each plan makes its own log
// directory. By default it is the environment variable PROCTEST_LOGDIR or,
// if that is empty, /dev/shm when it is a memory file system of at least
// 1 GiB that this program can write to and that has 512 MiB free, or else
// the system's temporary directory. (A plan creates two files a process:
// on a disk that can cost more than starting the process itself.) The
// directory is created if needed.
//
// The directory must be owned by this user or root, and not writable by
// other users unless its sticky bit is set (as for /tmp): a plan refuses
// to start with another, naming it and why. Each plan makes its own
// directory in it, open to no one else, and reaches its files only
// through a handle held from its creation.
//
// Logs on a memory file system take memory. While a plan runs, its logs
// may take 1 GiB of it (and at most half of what was free when it
// started): past that, the plan warns and cuts the middle out of its
// largest logs, marking the cut. When the plan chose /dev/shm itself, the
// logs of a plan that fails or keeps its logs are moved to disk as it
// ends, to the system's temporary directory, and the report names where.
func LogDir(root string) Option {
	return optionFunc(func(c *config) { c.logRoot = root })
}

// KeepLogs keeps a plan's logs when it succeeds too; they are always kept
// when it fails. The environment variable PROCTEST_KEEP=1 does the same.
func KeepLogs() Option {
	return optionFunc(func(c *config) { c.keepLogs = true })
}

// StopGrace sets how long a process stopped at the end of a plan, or by a
// timeout, has between SIGTERM and SIGKILL. The default is 2 seconds.
func StopGrace(d time.Duration) Option {
	return optionFunc(func(c *config) { c.stopGrace = d })
}

// AllowDaemons lets processes of the plan leave descendants running, such
// as a program that starts a daemon and exits. Without it, such a
// descendant fails the plan with a [StillRunningError]. Either way, they
// are killed at the end of the plan.
func AllowDaemons() Option {
	return optionFunc(func(c *config) { c.allowDaemons = true })
}

// JSONEvents writes each event of the plan to w as a line of JSON, the
// stream proctest run -json prints. Writes to w are not synchronized with
// other users of it.
func JSONEvents(w io.Writer) Option {
	enc := json.NewEncoder(w)
	return OnEvent(func(e Event) { enc.Encode(e) })
}

// OnEvent calls fn with each event of the plan as it happens, from the
// goroutine running the plan. fn must not block for long. Several OnEvent
// options call each function in turn.
func OnEvent(fn func(Event)) Option {
	return optionFunc(func(c *config) { c.onEvent = append(c.onEvent, fn) })
}

// defaultLogRoot returns where plans make their log directories unless
// told otherwise: see LogDir.
func defaultLogRoot() string {
	c := defaultConfig()
	root, _, _ := c.chooseLogRoot()
	return root
}

// LogRoot returns the directory under which the plan makes its log
// directory when it runs: as [LogDir] set it, or the default LogDir
// describes. A program that keeps files of its own beside the plan's logs,
// as a plan script's work directory, makes them there.
func (p *Plan) LogRoot() string {
	if p.cfg.logRoot == "" {
		return defaultLogRoot()
	}
	return p.cfg.logRoot
}

// KeepsLogs reports whether the plan keeps its logs when it succeeds:
// whether it was given [KeepLogs], or PROCTEST_KEEP=1 was set.
func (p *Plan) KeepsLogs() bool { return p.cfg.keepLogs }
