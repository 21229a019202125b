package netns

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"net/netip"
	"slices"
	"strings"
)

// State is what a network does to the packets between its hosts. The zero
// State is a healthy network. Every fault acts at the receiving host,
// before anything else there sees the packet, and never on packets from or
// to the network's control point (Network.Addr).
type State struct {
	// Drop maps a host's name to the names of the hosts whose packets it
	// drops, every one, established connections included (Jepsen's
	// "grudge"). Drop["n2"] = ["n1"] blocks n1 to n2 one way at the packet
	// level: UDP from n2 to n1 still arrives, but TCP fails both ways,
	// because n2 also drops n1's answers to its handshakes. Nil: no host
	// drops anything.
	Drop map[string][]string
	// DropNew maps a host's name to the names of the hosts whose new
	// connections it drops (conntrack state new), while packets of
	// connections already made pass. DropNew["n2"] = ["n1"] is a
	// connection-level one-way block: n2 can connect to n1, n1 cannot
	// connect to n2. Nil: none.
	DropNew map[string][]string
	// Loss maps a link to the fraction of its packets, from 0 to 1, that
	// the receiving host drops at random (in steps of 1/10000). An empty
	// From stands for every other host, an empty To for every host. Nil: no
	// loss.
	Loss map[Link]float64
	// Rate maps a link to the most bits per second it carries. Unlike
	// the other faults it acts at the sending host, which queues what
	// exceeds the rate (an HTB class for the destination). An empty From
	// stands for every host, an empty To for every other host; 0 is no
	// limit. Nil: none.
	Rate map[Link]uint64
}

// A Link is a direction between two hosts, named by their names.
type Link struct {
	From, To string
}

// Clone returns a deep copy of s.
func (s State) Clone() State {
	c := State{Loss: maps.Clone(s.Loss), Rate: maps.Clone(s.Rate)}
	if s.Drop != nil {
		c.Drop = make(map[string][]string, len(s.Drop))
		for k, v := range s.Drop {
			c.Drop[k] = slices.Clone(v)
		}
	}
	if s.DropNew != nil {
		c.DropNew = make(map[string][]string, len(s.DropNew))
		for k, v := range s.DropNew {
			c.DropNew[k] = slices.Clone(v)
		}
	}
	return c
}

// String describes s in words, one fault per clause, in a stable order:
// "n3 drops n1,n2; n2 drops new from n1; n1->n3 loss 30%", or "healthy".
func (s State) String() string {
	var parts []string
	for _, h := range slices.Sorted(maps.Keys(s.Drop)) {
		if len(s.Drop[h]) > 0 {
			parts = append(parts, h+" drops "+strings.Join(slices.Sorted(slices.Values(s.Drop[h])), ","))
		}
	}
	for _, h := range slices.Sorted(maps.Keys(s.DropNew)) {
		if len(s.DropNew[h]) > 0 {
			parts = append(parts, h+" drops new from "+strings.Join(slices.Sorted(slices.Values(s.DropNew[h])), ","))
		}
	}
	links := slices.SortedFunc(maps.Keys(s.Loss), func(a, b Link) int {
		return cmp.Or(cmp.Compare(a.From, b.From), cmp.Compare(a.To, b.To))
	})
	for _, l := range links {
		if s.Loss[l] > 0 {
			parts = append(parts, fmt.Sprintf("%s->%s loss %.4g%%", anyHost(l.From), anyHost(l.To), s.Loss[l]*100))
		}
	}
	links = slices.SortedFunc(maps.Keys(s.Rate), func(a, b Link) int {
		return cmp.Or(cmp.Compare(a.From, b.From), cmp.Compare(a.To, b.To))
	})
	for _, l := range links {
		if s.Rate[l] > 0 {
			parts = append(parts, fmt.Sprintf("%s->%s rate %d bit/s", anyHost(l.From), anyHost(l.To), s.Rate[l]))
		}
	}
	if len(parts) == 0 {
		return "healthy"
	}
	return strings.Join(parts, "; ")
}

// anyHost names an empty host of a Link.
func anyHost(name string) string {
	if name == "" {
		return "*"
	}
	return name
}

// wildcards reports whether s has a loss or rate from or to any host,
// which covers hosts added after it was applied.
func (s State) wildcards() bool {
	for l := range s.Loss {
		if l.From == "" || l.To == "" {
			return true
		}
	}
	for l := range s.Rate {
		if l.From == "" || l.To == "" {
			return true
		}
	}
	return false
}

// LossMod is the modulus of the random number a loss rule compares: loss
// is set in steps of 1/LossMod.
const LossMod = 10000

// Rules is what one host does to packets: its part of a State, by
// address (see State.Compile).
type Rules struct {
	Drop    []netip.Addr // sources whose packets it drops
	DropNew []netip.Addr // sources whose new connections it drops
	Loss    []LossRule   // random drops, by source
	Rate    []RateRule   // limits of what it sends, by destination
}

// A RateRule limits what a host sends to a destination.
type RateRule struct {
	To  netip.Addr
	BPS uint64 // bits per second
}

// A LossRule drops a packet from a source when a random number modulo
// LossMod is below Below.
type LossRule struct {
	From  netip.Addr
	Below uint32
}

// Compile checks s against the hosts of a network (name to address) and
// splits it by host: what each drops of the packets it receives, and how
// fast it sends to each destination. Every host of addrs has an entry.
func (s State) Compile(addrs map[string]netip.Addr) (map[string]Rules, error) {
	rules := make(map[string]Rules, len(addrs))
	for name := range addrs {
		rules[name] = Rules{}
	}
	sources := func(what, to string, from []string) ([]netip.Addr, error) {
		if _, ok := addrs[to]; !ok {
			return nil, fmt.Errorf("%s: unknown host %q", what, to)
		}
		var out []netip.Addr
		for _, f := range from {
			a, ok := addrs[f]
			switch {
			case !ok:
				return nil, fmt.Errorf("%s of %s: unknown host %q", what, to, f)
			case f == to:
				return nil, fmt.Errorf("%s of %s: a host cannot drop its own packets", what, to)
			}
			out = append(out, a)
		}
		slices.SortFunc(out, netip.Addr.Compare)
		return slices.Compact(out), nil
	}
	for to, from := range s.Drop {
		a, err := sources("drop", to, from)
		if err != nil {
			return nil, err
		}
		r := rules[to]
		r.Drop = a
		rules[to] = r
	}
	for to, from := range s.DropNew {
		a, err := sources("drop new", to, from)
		if err != nil {
			return nil, err
		}
		r := rules[to]
		r.DropNew = a
		rules[to] = r
	}
	loss, err := expand(s.Loss, addrs, "loss", func(f float64) error {
		if math.IsNaN(f) || f < 0 || f > 1 {
			return fmt.Errorf("%v is not a fraction from 0 to 1", f)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	rate, err := expand(s.Rate, addrs, "rate", func(uint64) error { return nil })
	if err != nil {
		return nil, err
	}
	for p, bps := range rate {
		if bps == 0 {
			continue
		}
		r := rules[p.From]
		r.Rate = append(r.Rate, RateRule{To: addrs[p.To], BPS: bps})
		rules[p.From] = r
	}
	for p, f := range loss {
		below := uint32(math.Round(f * LossMod))
		if below == 0 {
			continue
		}
		r := rules[p.To]
		r.Loss = append(r.Loss, LossRule{From: addrs[p.From], Below: below})
		rules[p.To] = r
	}
	for name, r := range rules {
		slices.SortFunc(r.Loss, func(a, b LossRule) int { return a.From.Compare(b.From) })
		slices.SortFunc(r.Rate, func(a, b RateRule) int { return a.To.Compare(b.To) })
		rules[name] = r
	}
	return rules, nil
}

// expand checks the per-link values m of kind what and gives each pair of
// distinct hosts its value: one given for the pair wins over one given for
// any host; of two for any host, the larger.
func expand[V cmp.Ordered](m map[Link]V, addrs map[string]netip.Addr, what string, check func(V) error) (map[Link]V, error) {
	out := map[Link]V{}
	exact := map[Link]bool{}
	for l, v := range m {
		name := fmt.Sprintf("%s %s->%s", what, anyHost(l.From), anyHost(l.To))
		if err := check(v); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		for _, n := range []string{l.From, l.To} {
			if _, ok := addrs[n]; n != "" && !ok {
				return nil, fmt.Errorf("%s: unknown host %q", name, n)
			}
		}
		if l.From != "" && l.From == l.To {
			return nil, fmt.Errorf("%s: a link joins two hosts", name)
		}
		isExact := l.From != "" && l.To != ""
		for to := range addrs {
			for from := range addrs {
				if from == to || l.To != "" && l.To != to || l.From != "" && l.From != from {
					continue
				}
				p := Link{From: from, To: to}
				switch {
				case isExact && !exact[p]:
					out[p], exact[p] = v, true
				case isExact == exact[p]:
					out[p] = max(out[p], v)
				}
			}
		}
	}
	return out, nil
}
