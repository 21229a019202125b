// Package contain keeps track of every process a plan starts and of every
// descendant they leave behind, and ends them all when the plan ends.
//
// On Linux it uses, strongest first, what the machine allows:
//
//   - A cgroup (v2) per plan, with one group per process under it, where
//     cgroup v2 is writable (root, or a delegated user slice). Every
//     process starts inside its group (clone3 CLONE_INTO_CGROUP), so no
//     descendant can leave it: whatever is still in the plan's group at
//     its end is left behind, named after the group it is in, and
//     cgroup.kill ends it. Pause and Resume freeze a process's whole tree.
//   - The program as a child subreaper: descendants orphaned by the
//     plan's processes become children of this program instead of init,
//     so they are found without scanning the machine. They are told apart
//     by their process group or session (those of a process of the plan
//     or of a leftover already found) or by the environment tag below.
//   - Environment tags: every process gets PROCTEST_PLAN and
//     PROCTEST_PROC, which its descendants inherit. They name the process
//     a leftover comes from, and are what the guard looks for when
//     cgroups are not available.
//
// If the program dies without cleaning up (SIGKILL), its direct children
// die with it (Pdeathsig), and a guard process, the program re-executed
// once, kills the plans' cgroups and then every process tagged with one of
// its plans.
//
// Elsewhere, a process group per process is the only containment.
package contain

import (
	"strings"
)

// Environment variables set on every process of a plan, and on the guard.
const (
	PlanEnv  = "PROCTEST_PLAN"
	ProcEnv  = "PROCTEST_PROC"
	GuardEnv = "PROCTEST_GUARD"
)

// A Found is a process left behind by a plan's process.
type Found struct {
	Pid  int
	Name string // the plan's name of the process it was left by
	Cmd  string // its command line
}

// groupName turns a process name into a cgroup directory name: only
// letters, digits, '.', '_' and '-', and never a name the cgroup file
// system uses.
func groupName(name string) string {
	b := []byte("p-" + name)
	for i, c := range b {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			b[i] = '_'
		}
	}
	return strings.ToValidUTF8(string(b), "_")
}
