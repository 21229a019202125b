package proctest

import "github.com/proctest/proctest/internal/contain"

// The process-wide effects of this package are listed in doc.go, "Global
// state". This is the one that must run before main.
func init() {
	// The guard process is this program re-executed: run it, and exit,
	// if this is one.
	contain.RunGuardIfAsked()
}
