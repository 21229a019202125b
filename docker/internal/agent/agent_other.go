//go:build !linux

package agent

import (
	"fmt"
	"os"
)

// Main reports that the agent runs on Linux only, and returns 2.
func Main() int {
	fmt.Fprintln(os.Stderr, "proctest-agent: runs on Linux only, as the init of a container")
	return 2
}
