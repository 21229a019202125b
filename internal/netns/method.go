package netns

// A Method is how a host fault was carried out.
type Method int

const (
	// MethodCgroup is through the host's cgroup: cgroup.freeze to pause,
	// cgroup.kill to kill. Exact: nothing of the host escapes.
	MethodCgroup Method = iota + 1
	// MethodSignal is through the host's init: kill(-1, SIGSTOP) to pause,
	// kill(-1, SIGCONT) to resume, SIGKILL of the init to kill. A process
	// forking at the moment of a pause may escape it until the pause is
	// repeated; a process may catch SIGCONT.
	MethodSignal
)

// String returns "cgroup" or "signal".
func (m Method) String() string {
	switch m {
	case MethodCgroup:
		return "cgroup"
	case MethodSignal:
		return "signal"
	}
	return "none"
}
