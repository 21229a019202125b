package docker

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"

	"github.com/proctest/proctest"
	"github.com/proctest/proctest/docker/internal/agent"
)

// Network faults between hosts, as on network-namespace hosts: every
// fault acts at the receiving host, by its agent's nftables table inside
// the container's network namespace (the agent has NET_ADMIN). This
// machine, the control point, is never cut off.
//
// The core's network-fault API (proctest.NetSession.Apply with a
// NetState) maps onto applyNet: Drop and DropNew by host names, Loss per
// link; rate limits and delay are not done in containers yet.

// hostFaults is what one host drops, by the names of the other hosts.
type hostFaults struct {
	drop, dropNew []string
	loss          map[string]float64 // fraction of the packets from a host
}

// applyNet makes each host drop what faults says for it, and nothing
// else: the zero map heals the network. Hosts are changed concurrently,
// each in one transaction.
func (s *session) applyNet(ctx context.Context, faults map[string]hostFaults) error {
	addr := map[string]netip.Addr{}
	for _, h := range s.hosts {
		addr[h.name] = h.addr
	}
	resolve := func(names []string) ([]string, error) {
		var out []string
		for _, n := range names {
			a, ok := addr[n]
			if !ok {
				return nil, fmt.Errorf("docker: network faults: no host %s", n)
			}
			out = append(out, a.String())
		}
		return out, nil
	}
	nets := make([]*agent.Net, len(s.hosts))
	for i, h := range s.hosts {
		f := faults[h.name]
		n := &agent.Net{}
		var err error
		if n.Drop, err = resolve(f.drop); err != nil {
			return err
		}
		if n.DropNew, err = resolve(f.dropNew); err != nil {
			return err
		}
		for from, frac := range f.loss {
			a, err := resolve([]string{from})
			if err != nil {
				return err
			}
			if frac < 0 || frac > 1 {
				return fmt.Errorf("docker: network faults: loss %v from %s to %s is not a fraction", frac, from, h.name)
			}
			n.Loss = append(n.Loss, agent.Loss{From: a[0], Below: uint32(frac*agent.LossMod + 0.5)})
		}
		nets[i] = n
	}
	errs := make([]error, len(s.hosts))
	var wg sync.WaitGroup
	for i, h := range s.hosts {
		wg.Go(func() { errs[i] = h.applyNet(ctx, nets[i]) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Apply implements proctest.NetSession: drops and new-connection drops by
// host, loss per link (a link from any host, an empty From, is loss from
// every other host). Rate limits are not done in containers: a state with
// one is refused.
func (s *session) Apply(ctx context.Context, st proctest.NetState) error {
	if len(st.Rate) > 0 {
		return errors.New("docker: rate limits between containers are not supported")
	}
	faults := map[string]hostFaults{}
	for h, from := range st.Drop {
		f := faults[h]
		f.drop = append(f.drop, from...)
		faults[h] = f
	}
	for h, from := range st.DropNew {
		f := faults[h]
		f.dropNew = append(f.dropNew, from...)
		faults[h] = f
	}
	for l, frac := range st.Loss {
		for _, to := range s.hosts {
			if l.To != "" && l.To != to.name {
				continue
			}
			for _, from := range s.hosts {
				if from == to || l.From != "" && l.From != from.name {
					continue
				}
				f := faults[to.name]
				if f.loss == nil {
					f.loss = map[string]float64{}
				}
				f.loss[from.name] = frac
				faults[to.name] = f
			}
		}
	}
	return s.applyNet(ctx, faults)
}
