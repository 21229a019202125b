// Command proctest-agent is the init process of a container host of the
// docker backend: it starts the plan's programs, signals them and reports
// how each ended, over its standard input and output. It is built static
// (CGO_ENABLED=0) by the backend and copied into each container; see
// package github.com/proctest/proctest/docker.
package main

import (
	"os"

	"github.com/proctest/proctest/docker/internal/agent"
)

func main() {
	os.Exit(agent.Main())
}
