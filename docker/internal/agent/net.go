package agent

import (
	"fmt"
	"net/netip"

	"github.com/proctest/proctest/internal/netns"
)

// rules returns what n says as the rules of proctest's internal/netns,
// whose Faults programs the container as it does a namespace host.
func (n *Net) rules() (netns.Rules, error) {
	var r netns.Rules
	var err error
	if r.Drop, err = addrs("drop", n.Drop); err != nil {
		return r, err
	}
	if r.DropNew, err = addrs("drop new", n.DropNew); err != nil {
		return r, err
	}
	for _, l := range n.Loss {
		a, err := addr("loss", l.From)
		if err != nil {
			return r, err
		}
		if l.Below > LossMod {
			return r, fmt.Errorf("loss from %s: %d is more than %d", l.From, l.Below, LossMod)
		}
		r.Loss = append(r.Loss, netns.LossRule{From: a, Below: uint32(uint64(l.Below) * netns.LossMod / LossMod)})
	}
	for _, rt := range n.Rate {
		a, err := addr("rate", rt.To)
		if err != nil {
			return r, err
		}
		if rt.BPS > 0 {
			r.Rate = append(r.Rate, netns.RateRule{To: a, BPS: rt.BPS})
		}
	}
	return r, nil
}

// addrs parses IPv4 addresses, for what.
func addrs(what string, ss []string) ([]netip.Addr, error) {
	var out []netip.Addr
	for _, s := range ss {
		a, err := addr(what, s)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

// addr parses an IPv4 address, for what.
func addr(what, s string) (netip.Addr, error) {
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is4() {
		return netip.Addr{}, fmt.Errorf("%s: not an IPv4 address: %q", what, s)
	}
	return a, nil
}
