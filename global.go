package proctest

import (
	"github.com/proctest/proctest/internal/contain"
	"github.com/proctest/proctest/internal/netns"
)

// The process-wide effects of this package are listed in doc.go, "Global
// state". This is the one that must run before main.
func init() {
	// The guard process is this program re-executed: run it, and exit,
	// if this is one.
	contain.RunGuardIfAsked()
	// So is the init process of each host (see Plan.Host).
	netns.MaybeRunInit()
}
