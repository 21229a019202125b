package agent

import (
	"fmt"
	"net/netip"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// Network faults: the container's own nftables table, the same as a
// network-namespace host's (see proctest's internal/netns), made when the
// agent starts so that connection tracking is on from the start, and
// refilled in one transaction by each OpNet:
//
//	table ip proctest {
//		set drop_from { type ipv4_addr; }
//		set new_from { type ipv4_addr; }
//		chain raw {	# before conntrack: established connections too
//			type filter hook prerouting priority raw;
//			ip saddr @drop_from drop
//			ip saddr A numgen random mod 10000 < N drop
//		}
//		chain conn {	# after conntrack: new connections only
//			type filter hook prerouting priority mangle;
//			ip saddr @new_from ct state new drop
//		}
//	}

// netTable is the container's table.
type netTable struct {
	c               *nftables.Conn
	t               *nftables.Table
	raw             *nftables.Chain
	dropSet, newSet *nftables.Set
}

// newNetTable makes the table, dropping nothing.
func newNetTable() (*netTable, error) {
	c, err := nftables.New(nftables.AsLasting())
	if err != nil {
		return nil, err
	}
	tb := &netTable{c: c, t: &nftables.Table{Family: nftables.TableFamilyIPv4, Name: "proctest"}}
	c.AddTable(tb.t)
	tb.raw = c.AddChain(&nftables.Chain{
		Name: "raw", Table: tb.t, Type: nftables.ChainTypeFilter,
		Hooknum: nftables.ChainHookPrerouting, Priority: nftables.ChainPriorityRaw,
	})
	conn := c.AddChain(&nftables.Chain{
		Name: "conn", Table: tb.t, Type: nftables.ChainTypeFilter,
		Hooknum: nftables.ChainHookPrerouting, Priority: nftables.ChainPriorityMangle,
	})
	tb.dropSet = &nftables.Set{Table: tb.t, ID: 1, Name: "drop_from", KeyType: nftables.TypeIPAddr}
	tb.newSet = &nftables.Set{Table: tb.t, ID: 2, Name: "new_from", KeyType: nftables.TypeIPAddr}
	if err := c.AddSet(tb.dropSet, nil); err != nil {
		return nil, err
	}
	if err := c.AddSet(tb.newSet, nil); err != nil {
		return nil, err
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
	tb.addRaw(nil)
	if err := c.Flush(); err != nil {
		c.CloseLasting()
		return nil, fmt.Errorf("make the nftables table: %w", err)
	}
	return tb, nil
}

// apply makes the table drop what n says, in one transaction.
func (tb *netTable) apply(n *Net) error {
	drop, err := addrs(n.Drop)
	if err != nil {
		return err
	}
	dropNew, err := addrs(n.DropNew)
	if err != nil {
		return err
	}
	for _, l := range n.Loss {
		if _, err := netip.ParseAddr(l.From); err != nil {
			return err
		}
	}
	c := tb.c
	c.FlushChain(tb.raw)
	c.FlushSet(tb.dropSet)
	c.FlushSet(tb.newSet)
	if len(drop) > 0 {
		if err := c.SetAddElements(tb.dropSet, drop); err != nil {
			return err
		}
	}
	if len(dropNew) > 0 {
		if err := c.SetAddElements(tb.newSet, dropNew); err != nil {
			return err
		}
	}
	tb.addRaw(n.Loss)
	return c.Flush()
}

// addRaw queues the rules of chain raw.
func (tb *netTable) addRaw(loss []Loss) {
	tb.c.AddRule(&nftables.Rule{Table: tb.t, Chain: tb.raw, Exprs: []expr.Any{
		loadSaddr(),
		&expr.Lookup{SourceRegister: 1, SetName: tb.dropSet.Name, SetID: tb.dropSet.ID},
		&expr.Verdict{Kind: expr.VerdictDrop},
	}})
	for _, l := range loss {
		from := netip.MustParseAddr(l.From)
		tb.c.AddRule(&nftables.Rule{Table: tb.t, Chain: tb.raw, Exprs: []expr.Any{
			loadSaddr(),
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: from.AsSlice()},
			&expr.Numgen{Register: 1, Modulus: LossMod, Type: unix.NFT_NG_RANDOM},
			// numgen gives a number in host order; cmp compares bytes.
			&expr.Byteorder{SourceRegister: 1, DestRegister: 1, Op: expr.ByteorderHton, Len: 4, Size: 4},
			&expr.Cmp{Op: expr.CmpOpLt, Register: 1, Data: binaryutil.BigEndian.PutUint32(l.Below)},
			&expr.Verdict{Kind: expr.VerdictDrop},
		}})
	}
}

// loadSaddr loads a packet's IPv4 source address into register 1.
func loadSaddr() expr.Any {
	return &expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: 12, Len: 4}
}

// addrs parses IPv4 addresses into set elements.
func addrs(ss []string) ([]nftables.SetElement, error) {
	var elems []nftables.SetElement
	for _, s := range ss {
		a, err := netip.ParseAddr(s)
		if err != nil || !a.Is4() {
			return nil, fmt.Errorf("not an IPv4 address: %q", s)
		}
		elems = append(elems, nftables.SetElement{Key: a.AsSlice()})
	}
	return elems, nil
}
