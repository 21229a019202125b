package netns

import (
	"net/netip"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// Network faults. Each host has one nftables table, ip proctest, in its
// own network namespace, made with the host; each Apply refills its sets
// and replaces the rules of its chain raw in one transaction:
//
//	table ip proctest {
//		set drop_from { type ipv4_addr; elements = { ... } }
//		set new_from { type ipv4_addr; elements = { ... } }
//		chain raw {	# before conntrack: established connections too
//			type filter hook prerouting priority raw;
//			ip saddr @drop_from drop
//			ip saddr 10.77.0.1 numgen random mod 10000 < 5000 drop
//		}
//		chain conn {	# after conntrack: new connections only
//			type filter hook prerouting priority mangle;
//			ip saddr @new_from ct state new drop
//		}
//	}
//
// The table exists from the host's start, even with nothing to drop,
// because its ct rule keeps connection tracking on in the namespace: a
// connection made before tracking began would be taken, at its next packet,
// for a new one.

// tableName is the name of the hosts' nftables table.
const tableName = "proctest"

// A table is a host's table, as made at its start.
type table struct {
	t               *nftables.Table
	raw             *nftables.Chain
	dropSet, newSet *nftables.Set
}

// program makes l's table hold r, in one transaction: the first time, it
// makes the table; after that, it refills the sets and replaces the rules
// of chain raw, leaving the chains, and so the hooks, in place. Then it
// shapes what l sends (see shape). The caller holds the Network's mu.
func (l *life) program(r hostRules) error {
	if l.nft == nil {
		c, err := nftables.New(nftables.WithNetNSFd(l.nsFD), nftables.AsLasting())
		if err != nil {
			return err
		}
		l.nft = c
	}
	c := l.nft
	var err error
	if l.table == nil {
		err = l.makeTable(c, r)
	} else {
		err = l.table.refill(c, r)
	}
	if err != nil {
		// The queued messages must not go out with a later Flush: drop
		// the connection, and them with it.
		c.CloseLasting()
		l.nft = nil
		return err
	}
	if err := c.Flush(); err != nil {
		return err
	}
	return l.shape(r.rate)
}

// makeTable queues the making of l's table, holding r.
func (l *life) makeTable(c *nftables.Conn, r hostRules) error {
	tb := &table{t: &nftables.Table{Family: nftables.TableFamilyIPv4, Name: tableName}}
	c.AddTable(tb.t)
	tb.raw = c.AddChain(&nftables.Chain{
		Name: "raw", Table: tb.t, Type: nftables.ChainTypeFilter,
		Hooknum: nftables.ChainHookPrerouting, Priority: nftables.ChainPriorityRaw,
	})
	conn := c.AddChain(&nftables.Chain{
		Name: "conn", Table: tb.t, Type: nftables.ChainTypeFilter,
		Hooknum: nftables.ChainHookPrerouting, Priority: nftables.ChainPriorityMangle,
	})
	// Set ids need only be unique in a transaction. (Giving them saves
	// nftables from counting in a global that is not safe for concurrent
	// use.)
	tb.dropSet = &nftables.Set{Table: tb.t, ID: 1, Name: "drop_from", KeyType: nftables.TypeIPAddr}
	tb.newSet = &nftables.Set{Table: tb.t, ID: 2, Name: "new_from", KeyType: nftables.TypeIPAddr}
	if err := c.AddSet(tb.dropSet, elements(r.drop)); err != nil {
		return err
	}
	if err := c.AddSet(tb.newSet, elements(r.dropNew)); err != nil {
		return err
	}
	c.AddRule(&nftables.Rule{Table: tb.t, Chain: conn, Exprs: []expr.Any{
		loadSaddr(),
		&expr.Lookup{SourceRegister: 1, SetName: tb.newSet.Name, SetID: tb.newSet.ID},
		&expr.Ct{Register: 1, Key: expr.CtKeySTATE},
		&expr.Bitwise{
			SourceRegister: 1, DestRegister: 1, Len: 4,
			Mask: binaryutil.NativeEndian.PutUint32(expr.CtStateBitNEW),
			Xor:  binaryutil.NativeEndian.PutUint32(0),
		},
		&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: binaryutil.NativeEndian.PutUint32(0)},
		&expr.Verdict{Kind: expr.VerdictDrop},
	}})
	tb.addRaw(c, r)
	l.table = tb
	return nil
}

// refill queues the change of the table to hold r.
func (tb *table) refill(c *nftables.Conn, r hostRules) error {
	c.FlushChain(tb.raw)
	c.FlushSet(tb.dropSet)
	c.FlushSet(tb.newSet)
	if len(r.drop) > 0 {
		if err := c.SetAddElements(tb.dropSet, elements(r.drop)); err != nil {
			return err
		}
	}
	if len(r.dropNew) > 0 {
		if err := c.SetAddElements(tb.newSet, elements(r.dropNew)); err != nil {
			return err
		}
	}
	tb.addRaw(c, r)
	return nil
}

// addRaw queues the rules of chain raw for r.
func (tb *table) addRaw(c *nftables.Conn, r hostRules) {
	c.AddRule(&nftables.Rule{Table: tb.t, Chain: tb.raw, Exprs: []expr.Any{
		loadSaddr(),
		&expr.Lookup{SourceRegister: 1, SetName: tb.dropSet.Name, SetID: tb.dropSet.ID},
		&expr.Verdict{Kind: expr.VerdictDrop},
	}})
	for _, lr := range r.loss {
		c.AddRule(&nftables.Rule{Table: tb.t, Chain: tb.raw, Exprs: []expr.Any{
			loadSaddr(),
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: lr.from.AsSlice()},
			&expr.Numgen{Register: 1, Modulus: lossMod, Type: unix.NFT_NG_RANDOM},
			// numgen gives a number in host order; cmp compares bytes.
			&expr.Byteorder{SourceRegister: 1, DestRegister: 1, Op: expr.ByteorderHton, Len: 4, Size: 4},
			&expr.Cmp{Op: expr.CmpOpLt, Register: 1, Data: binaryutil.BigEndian.PutUint32(lr.below)},
			&expr.Verdict{Kind: expr.VerdictDrop},
		}})
	}
}

// loadSaddr loads a packet's IPv4 source address into register 1.
func loadSaddr() expr.Any {
	return &expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: 12, Len: 4}
}

// elements returns the set elements for addrs.
func elements(addrs []netip.Addr) []nftables.SetElement {
	elems := make([]nftables.SetElement, len(addrs))
	for i, a := range addrs {
		elems[i] = nftables.SetElement{Key: a.AsSlice()}
	}
	return elems
}
