package agent

import (
	"fmt"

	"github.com/proctest/proctest/internal/netns"
)

// Network faults: the container's own nftables table and the shaping of
// its eth0, the same as a network-namespace host's and made by the same
// code (proctest's internal/netns, whose Faults works on the caller's
// namespace). The table is made when the agent starts, so that connection
// tracking is on from the start, and refilled in one transaction by each
// OpNet, which then shapes what the container sends (an HTB qdisc on
// eth0, removed when no rate is left).

// netTable is the container's table and the shaping of its eth0.
type netTable struct {
	f *netns.Faults
}

// newNetTable makes the table, dropping nothing.
func newNetTable() (*netTable, error) {
	f, err := netns.NewFaults("eth0")
	if err != nil {
		return nil, err
	}
	if err := f.Program(netns.Rules{}); err != nil {
		f.Close()
		return nil, fmt.Errorf("make the nftables table: %w", err)
	}
	return &netTable{f: f}, nil
}

// apply makes the table drop what n says, in one transaction, and eth0
// send as n says.
func (tb *netTable) apply(n *Net) error {
	r, err := n.rules()
	if err != nil {
		return err
	}
	return tb.f.Program(r)
}
