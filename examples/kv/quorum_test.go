package main

import (
	"os"
	"testing"

	"github.com/proctest/proctest"
	"github.com/proctest/proctest/examples/kv/kvtest"
)

// TestQuorumPartitions runs the quorum example's plan
// (kvtest.QuorumPartitions) on network-namespace hosts: a three-member
// cluster in quorum mode, partitioned and healed.
func TestQuorumPartitions(t *testing.T) {
	if ok, why := proctest.Supported(proctest.FeatureHosts); !ok {
		if os.Getenv("CI") != "" {
			t.Fatalf("hosts are not supported here, in CI: %s", why)
		}
		t.Skip("hosts are not supported here:", why)
	}
	proctest.Run(t, kvtest.QuorumPartitions(kv))
}
