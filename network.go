package proctest

import (
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Network faults. The network between a plan's hosts is one value, a
// [NetState]: for each host, the hosts whose packets it drops (Jepsen's
// "grudge"), plus loss and rate limits per link. Fault steps change it,
// and faults accumulate until [Plan.Heal]. Packets are dropped at the
// receiving host, established connections included; readiness waits dial
// from a control point that no fault touches.

// Hosts is a group of hosts, for [Plan.Partition].
type Hosts []*Host

// A Grudge maps each host to the hosts whose packets it drops: any shape of
// partition. The generators [Components], [RandomHalves], [RandomNode],
// [MajoritiesRing] and [Bridge] make the shapes Jepsen uses.
type Grudge map[*Host][]*Host

// Components returns the grudge of a complete split between groups: each
// host drops the packets of every host of the other groups. Hosts in no
// group keep every link.
func Components(groups ...Hosts) Grudge {
	g := Grudge{}
	for i, a := range groups {
		for j, b := range groups {
			if i != j {
				for _, h := range a {
					g[h] = append(g[h], b...)
				}
			}
		}
	}
	return g
}

// RandomHalves splits hs at random into two halves, the smaller first,
// and returns the grudge between them.
func RandomHalves(r *rand.Rand, hs ...*Host) Grudge {
	s := shuffled(r, hs)
	return Components(s[:len(s)/2], s[len(s)/2:])
}

// RandomNode cuts one host of hs, chosen at random, from the others.
func RandomNode(r *rand.Rand, hs ...*Host) Grudge {
	s := shuffled(r, hs)
	if len(s) == 0 {
		return Grudge{}
	}
	return Components(s[:1], s[1:])
}

// MajoritiesRing places hs on a ring in random order; each host then
// accepts packets only from its nearest neighbours, so that with them it
// makes a bare majority, and drops the others': every host sees a
// majority, and no two see the same one.
func MajoritiesRing(r *rand.Rand, hs ...*Host) Grudge {
	s := shuffled(r, hs)
	n := len(s)
	g := Grudge{}
	for i, h := range s {
		accept := map[*Host]bool{h: true}
		for d := 1; len(accept) < n/2+1; d++ {
			accept[s[(i+d)%n]] = true
			if len(accept) < n/2+1 {
				accept[s[(i-d+n)%n]] = true
			}
		}
		for _, o := range s {
			if !accept[o] {
				g[h] = append(g[h], o)
			}
		}
	}
	return g
}

// Bridge splits hs in two halves around the host in the middle, which
// keeps its links with both: the halves do not talk to each other.
func Bridge(hs ...*Host) Grudge {
	if len(hs) < 3 {
		return Grudge{}
	}
	mid := len(hs) / 2
	return Components(hs[:mid], hs[mid+1:])
}

// shuffled returns a shuffled copy of hs.
func shuffled(r *rand.Rand, hs []*Host) Hosts {
	s := slices.Clone(hs)
	if r != nil {
		r.Shuffle(len(s), func(i, j int) { s[i], s[j] = s[j], s[i] })
	}
	return s
}

// Rand returns the plan's source of randomness, for the generators: seeded
// with [Plan.Seed], else from PROCTEST_SEED, else from the clock. The seed
// is printed in the plan's failure report, so that PROCTEST_SEED=N replays
// the same shapes.
func (p *Plan) Rand() *rand.Rand {
	if p.rand == nil {
		if !p.seeded {
			p.seed = uint64(time.Now().UnixNano())
			if s := os.Getenv("PROCTEST_SEED"); s != "" {
				n, err := strconv.ParseUint(s, 10, 64)
				if err != nil {
					p.misuse("seed", "PROCTEST_SEED=%q is not a number", s)
				}
				p.seed = n
			}
			p.seeded = true
		}
		p.rand = rand.New(rand.NewPCG(p.seed, p.seed))
	}
	return p.rand
}

// Seed sets the seed of [Plan.Rand]. It must come before the first use of
// Rand.
func (p *Plan) Seed(seed uint64) {
	if p.rand != nil {
		p.misuse("seed", "Seed must come before the first use of Rand")
		return
	}
	p.seed, p.seeded = seed, true
}

// A BlockOption changes what [Plan.Block] blocks.
type BlockOption interface{ blockOption() }

type newOnly struct{}

func (newOnly) blockOption() {}

// NewConnectionsOnly makes a block connection-level: new connections from
// one host to the other are dropped, packets of connections already made
// pass, and the other way works. (A packet-level one-way block breaks TCP
// both ways, since the answers to one side's handshakes are dropped.)
func NewConnectionsOnly() BlockOption { return newOnly{} }

// A Shaping is what [Plan.Shape] does to a link.
type Shaping interface{ shaping() }

type loss float64

func (loss) shaping() {}

type rate struct {
	text string
	bits uint64
}

func (rate) shaping() {}

type delay struct{ mean, jitter time.Duration }

func (delay) shaping() {}

// Loss drops a fraction of a link's packets, from 0 to 1, at random.
func Loss(fraction float64) Shaping { return loss(fraction) }

// Rate limits a link to a rate written as tc does: "1mbit", "500kbit",
// "10mbps" (bytes), "2gbit".
func Rate(r string) Shaping {
	bits, err := parseRate(r)
	if err != nil {
		return rate{text: r}
	}
	return rate{text: r, bits: bits}
}

// Delay delays a link's packets by mean, varying by jitter. It needs the
// kernel's sch_netem: where it is missing a plan using Delay fails before
// it starts, with an [UnsupportedError].
func Delay(mean, jitter time.Duration) Shaping { return delay{mean, jitter} }

// parseRate reads a rate in tc's units into bits per second.
func parseRate(s string) (uint64, error) {
	units := []struct {
		suffix string
		mult   uint64
	}{{"gbit", 1e9}, {"mbit", 1e6}, {"kbit", 1e3}, {"bit", 1}, {"gbps", 8e9}, {"mbps", 8e6}, {"kbps", 8e3}, {"bps", 8}}
	low := strings.ToLower(s)
	for _, u := range units {
		if num, ok := strings.CutSuffix(low, u.suffix); ok {
			f, err := strconv.ParseFloat(num, 64)
			if err != nil || f <= 0 {
				break
			}
			return uint64(f * float64(u.mult)), nil
		}
	}
	return 0, fmt.Errorf("rate %q: want a number and a unit such as 1mbit, 500kbit or 10mbps", s)
}

// netStep adds a step that changes the network state by change, described
// in words by words. hosts are the hosts it names, checked to belong to
// the plan.
func (p *Plan) netStep(verb, words string, hosts []*Host, change func(s *NetState)) *Step {
	s := &Step{plan: p, kind: stepHost, where: p.caller(), name: verb}
	for _, h := range hosts {
		switch {
		case h == nil:
			p.errs = append(p.errs, &BuildError{Where: s.where, Step: verb, Err: errors.New("nil host")})
			return s
		case h.plan != p:
			p.errs = append(p.errs, &BuildError{Where: s.where, Step: verb,
				Err: fmt.Errorf("host %s belongs to plan %q, not %q", h.name, h.plan.name, p.name)})
			return s
		}
	}
	if words != "" {
		s.name += " " + words
	}
	p.netSteps = true
	s.run = func(e *executor, s *Step) error {
		next := e.net.clone()
		change(&next)
		if err := e.applyNet(next); err != nil {
			return fmt.Errorf("%s%w", prefix(s.where, s.name), err)
		}
		if words == "" {
			e.netWords = nil
		} else {
			e.netWords = append(e.netWords, words)
		}
		e.netSince = time.Since(e.start)
		e.emit(Event{Kind: EventNet, Detail: e.netText()})
		return nil
	}
	p.steps = append(p.steps, s)
	return s
}

// Partition adds a step that splits the network between groups: each host
// drops the packets of every host of the other groups. Hosts in no group
// keep every link: that is how a client stays outside a split. A host may
// be in one group only.
func (p *Plan) Partition(groups ...Hosts) *Step {
	var all []*Host
	var words []string
	for _, g := range groups {
		all = append(all, g...)
		words = append(words, hostNames(g))
	}
	s := p.netStep("partition", strings.Join(words, " | "), all, func(st *NetState) { st.addGrudge(Components(groups...)) })
	seen := map[*Host]bool{}
	for _, h := range all {
		if seen[h] && h != nil {
			p.errs = append(p.errs, &BuildError{Where: s.where, Step: s.name, Err: fmt.Errorf("host %s is in two groups", h.name)})
		}
		seen[h] = true
	}
	if len(groups) < 2 {
		p.errs = append(p.errs, &BuildError{Where: s.where, Step: s.name, Err: errors.New("a partition needs at least two groups")})
	}
	return s
}

// Isolate adds a step that cuts h from every other host of the plan, both
// ways.
func (p *Plan) Isolate(h *Host) *Step {
	name := ""
	if h != nil {
		name = h.name
	}
	return p.netStep("isolate", name+" isolated", []*Host{h}, func(st *NetState) {
		var others Hosts
		for _, o := range p.hosts {
			if o != h {
				others = append(others, o)
			}
		}
		st.addGrudge(Components(Hosts{h}, others))
	})
}

// Block adds a step that makes to drop the packets of from: one way at the
// packet level (which breaks TCP both ways), or, with
// [NewConnectionsOnly], only from's new connections to to.
func (p *Plan) Block(from, to *Host, opts ...BlockOption) *Step {
	only := false
	for _, o := range opts {
		if _, ok := o.(newOnly); ok {
			only = true
		}
	}
	words := ""
	if from != nil && to != nil {
		words = from.name + " -/-> " + to.name
		if only {
			words += " (new connections)"
		}
	}
	s := p.netStep("block", words, []*Host{from, to}, func(st *NetState) {
		if only {
			st.DropNew = addDrop(st.DropNew, to.name, from.name)
		} else {
			st.Drop = addDrop(st.Drop, to.name, from.name)
		}
	})
	if from != nil && from == to {
		p.errs = append(p.errs, &BuildError{Where: s.where, Step: s.name, Err: fmt.Errorf("host %s cannot block itself", from.name)})
	}
	return s
}

// Grudge adds a step that makes each host of g drop the packets of the
// hosts it maps to: any shape, such as one of the generators make.
func (p *Plan) Grudge(g Grudge) *Step {
	var hosts []*Host
	for _, k := range g.hosts() {
		hosts = append(hosts, k)
		hosts = append(hosts, g[k]...)
	}
	return p.netStep("grudge", g.String(), hosts, func(st *NetState) { st.addGrudge(g) })
}

// Heal adds a step that ends every network fault: full connectivity, no
// loss, no limit.
func (p *Plan) Heal() *Step {
	s := p.netStep("heal", "", nil, func(st *NetState) { *st = NetState{} })
	return s
}

// Shape adds a step that shapes the link from one host to another (nil for
// any host), replacing its earlier shaping: [Loss], [Rate], [Delay].
func (p *Plan) Shape(from, to *Host, shapings ...Shaping) *Step {
	link := Link{From: nameOrAny(from), To: nameOrAny(to)}
	var parts []string
	var lossV float64
	var rateV uint64
	var needDelay bool
	var errs []error
	for _, sh := range shapings {
		switch v := sh.(type) {
		case loss:
			if v < 0 || v > 1 || v != v {
				errs = append(errs, fmt.Errorf("loss %v: want a fraction from 0 to 1", float64(v)))
			}
			lossV = float64(v)
			parts = append(parts, fmt.Sprintf("loss %.4g%%", float64(v)*100))
		case rate:
			if v.bits == 0 {
				_, err := parseRate(v.text)
				errs = append(errs, err)
			}
			rateV = v.bits
			parts = append(parts, "rate "+v.text)
		case delay:
			needDelay = true
			parts = append(parts, fmt.Sprintf("delay %v±%v", v.mean, v.jitter))
		}
	}
	words := fmt.Sprintf("%s->%s %s", hostLabel(link.From), hostLabel(link.To), strings.Join(parts, " "))
	var hosts []*Host
	for _, h := range []*Host{from, to} {
		if h != nil {
			hosts = append(hosts, h)
		}
	}
	s := p.netStep("shape", words, hosts, func(st *NetState) {
		delete(st.Loss, link)
		delete(st.Rate, link)
		if lossV > 0 {
			st.Loss = setLink(st.Loss, link, lossV)
		}
		if rateV > 0 {
			st.Rate = setLink(st.Rate, link, rateV)
		}
	})
	for _, err := range errs {
		p.errs = append(p.errs, &BuildError{Where: s.where, Step: s.name, Err: err})
	}
	if needDelay {
		s.needs = FeatureDelay
	}
	return s
}

func setLink[V any](m map[Link]V, l Link, v V) map[Link]V {
	if m == nil {
		m = map[Link]V{}
	}
	m[l] = v
	return m
}

// nameOrAny returns h's name, or "" for nil: any host.
func nameOrAny(h *Host) string {
	if h == nil {
		return ""
	}
	return h.name
}

// hostLabel names a host of a link: "*" for any.
func hostLabel(name string) string {
	if name == "" {
		return "*"
	}
	return name
}

// hostNames joins the names of hs with commas.
func hostNames(hs []*Host) string {
	var names []string
	for _, h := range hs {
		if h != nil {
			names = append(names, h.name)
		}
	}
	return strings.Join(names, ",")
}

// hosts returns the hosts of g that drop something, by name.
func (g Grudge) hosts() []*Host {
	return slices.SortedFunc(maps.Keys(g), func(a, b *Host) int { return strings.Compare(nameOrAny(a), nameOrAny(b)) })
}

// String describes g: "n3 drops n1,n2; n1 drops n3".
func (g Grudge) String() string {
	var parts []string
	for _, h := range g.hosts() {
		if len(g[h]) > 0 {
			parts = append(parts, nameOrAny(h)+" drops "+hostNames(g[h]))
		}
	}
	return strings.Join(parts, "; ")
}

// addDrop records that host drops from's packets in m.
func addDrop(m map[string][]string, host, from string) map[string][]string {
	if m == nil {
		m = map[string][]string{}
	}
	if !slices.Contains(m[host], from) {
		m[host] = append(m[host], from)
	}
	return m
}

// addGrudge adds g to the packet drops of s.
func (s *NetState) addGrudge(g Grudge) {
	for h, from := range g {
		for _, f := range from {
			if h != nil && f != nil && f != h {
				s.Drop = addDrop(s.Drop, h.name, f.name)
			}
		}
	}
}

// clone returns a deep copy of s.
func (s NetState) clone() NetState {
	c := NetState{Loss: maps.Clone(s.Loss), Rate: maps.Clone(s.Rate)}
	for _, m := range []struct {
		dst *map[string][]string
		src map[string][]string
	}{{&c.Drop, s.Drop}, {&c.DropNew, s.DropNew}} {
		if m.src != nil {
			*m.dst = map[string][]string{}
			for k, v := range m.src {
				(*m.dst)[k] = slices.Clone(v)
			}
		}
	}
	return c
}

// applyNet makes the network match next.
func (e *executor) applyNet(next NetState) error {
	ns, ok := e.session.(NetSession)
	if !ok {
		return errors.New("the backend cannot change the network")
	}
	if err := ns.Apply(e.ctx, next); err != nil {
		return err
	}
	e.net = next
	return nil
}

// netHealed is the detail of a net event that ends every fault. The
// timeline page reads it (timeline.go).
const netHealed = "healed"

// netText says in words what the network does now: the faults in force,
// or "healed".
func (e *executor) netText() string {
	if len(e.netWords) == 0 {
		return netHealed
	}
	return strings.Join(e.netWords, "; ")
}
