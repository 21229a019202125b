package docker

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"

	"github.com/proctest/proctest"
	"github.com/proctest/proctest/docker/internal/agent"
	"github.com/proctest/proctest/internal/netns"
)

// Network faults between hosts, as on network-namespace hosts and by the
// same code: the state is split by host as proctest's internal/netns
// splits it (State.Compile), and each host's agent programs its part
// with netns's Faults inside the container's network namespace (the agent
// has NET_ADMIN). Drops and loss act at the receiving host, by its
// nftables table; rate limits at the sending host, by an HTB qdisc on its
// eth0 with a class for each limited destination. This machine, the
// control point, is never cut off. Delay is not done in containers.

// Apply implements proctest.NetSession, with the meaning the state has on
// namespace hosts: drops and new-connection drops by host, loss and rate
// per link, where an empty name stands for any host; a link named exactly
// wins over one for any host.
func (s *session) Apply(ctx context.Context, st proctest.NetState) error {
	ns := netns.State{Drop: st.Drop, DropNew: st.DropNew}
	for l, f := range st.Loss {
		if ns.Loss == nil {
			ns.Loss = map[netns.Link]float64{}
		}
		ns.Loss[netns.Link{From: l.From, To: l.To}] = f
	}
	for l, r := range st.Rate {
		if ns.Rate == nil {
			ns.Rate = map[netns.Link]uint64{}
		}
		ns.Rate[netns.Link{From: l.From, To: l.To}] = r
	}
	return s.applyNet(ctx, ns)
}

// applyNet makes each host do its part of st, and nothing else: the zero
// State heals the network. Hosts are changed concurrently, each in one
// transaction (and then its shaping).
func (s *session) applyNet(ctx context.Context, st netns.State) error {
	addrs := map[string]netip.Addr{}
	for _, h := range s.hosts {
		addrs[h.name] = h.addr
	}
	rules, err := st.Compile(addrs)
	if err != nil {
		return fmt.Errorf("docker: network faults: %w", err)
	}
	errs := make([]error, len(s.hosts))
	var wg sync.WaitGroup
	for i, h := range s.hosts {
		n := agentNet(rules[h.name])
		wg.Go(func() { errs[i] = h.applyNet(ctx, n) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// agentNet returns r as the agent's request.
func agentNet(r netns.Rules) *agent.Net {
	n := &agent.Net{}
	for _, a := range r.Drop {
		n.Drop = append(n.Drop, a.String())
	}
	for _, a := range r.DropNew {
		n.DropNew = append(n.DropNew, a.String())
	}
	for _, l := range r.Loss {
		n.Loss = append(n.Loss, agent.Loss{From: l.From.String(), Below: uint32(uint64(l.Below) * agent.LossMod / netns.LossMod)})
	}
	for _, rt := range r.Rate {
		n.Rate = append(n.Rate, agent.Rate{To: rt.To.String(), BPS: rt.BPS})
	}
	return n
}
