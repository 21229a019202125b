package netns

import (
	"fmt"
	"net/netip"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"github.com/vishvananda/netlink"
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

// Faults keeps the faults of one network namespace: its table, and the
// shaping of what one of its interfaces sends (see shape). Each host of a
// Network has one; the docker backend's agent keeps one in its container.
// Its methods must not be called concurrently.
type Faults struct {
	nsFD   int             // the network namespace, or -1 for the caller's
	nft    *nftables.Conn  // in the namespace, once opened
	table  *table          // its table, once made
	nl     *netlink.Handle // netlink in the namespace
	link   int             // the index of the interface shaped
	shaped bool            // it has the qdisc of shape
}

// NewFaults returns the Faults of the calling thread's network namespace,
// shaping what its interface iface sends. It changes nothing: the first
// Program makes the table. It needs no privilege; Program needs
// CAP_NET_ADMIN.
func NewFaults(iface string) (*Faults, error) {
	nl, err := netlink.NewHandle(unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("netns: faults: netlink: %w", err)
	}
	link, err := nl.LinkByName(iface)
	if err != nil {
		nl.Close()
		return nil, fmt.Errorf("netns: faults: find %s: %w", iface, err)
	}
	return &Faults{nsFD: -1, nl: nl, link: link.Attrs().Index}, nil
}

// Program makes the namespace's table hold r, in one transaction: the
// first time, it makes the table; after that, it refills the sets and
// replaces the rules of chain raw, leaving the chains, and so the hooks,
// in place. Then it shapes what the interface sends as r.Rate says.
func (f *Faults) Program(r Rules) error {
	if f.nft == nil {
		opts := []nftables.ConnOption{nftables.AsLasting()}
		if f.nsFD >= 0 {
			opts = append(opts, nftables.WithNetNSFd(f.nsFD))
		}
		c, err := nftables.New(opts...)
		if err != nil {
			return err
		}
		f.nft = c
	}
	c := f.nft
	made := f.table == nil
	var err error
	if made {
		err = f.makeTable(c, r)
	} else {
		err = f.table.refill(c, r)
	}
	if err == nil {
		err = c.Flush()
	}
	if err != nil {
		// The queued messages must not go out with a later Flush: drop
		// the connection, and them with it; and a table whose making
		// failed is made again next time.
		c.CloseLasting()
		f.nft = nil
		if made {
			f.table = nil
		}
		return err
	}
	return f.shape(r.Rate)
}

// Close closes f's connections to the namespace. The table and the
// shaping stay, for as long as the namespace does.
func (f *Faults) Close() {
	if f.nft != nil {
		f.nft.CloseLasting()
		f.nft = nil
	}
	if f.nl != nil {
		f.nl.Close()
		f.nl = nil
	}
}

// makeTable queues the making of f's table, holding r.
func (f *Faults) makeTable(c *nftables.Conn, r Rules) error {
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
	if err := c.AddSet(tb.dropSet, elements(r.Drop)); err != nil {
		return err
	}
	if err := c.AddSet(tb.newSet, elements(r.DropNew)); err != nil {
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
	f.table = tb
	return nil
}

// refill queues the change of the table to hold r.
func (tb *table) refill(c *nftables.Conn, r Rules) error {
	c.FlushChain(tb.raw)
	c.FlushSet(tb.dropSet)
	c.FlushSet(tb.newSet)
	if len(r.Drop) > 0 {
		if err := c.SetAddElements(tb.dropSet, elements(r.Drop)); err != nil {
			return err
		}
	}
	if len(r.DropNew) > 0 {
		if err := c.SetAddElements(tb.newSet, elements(r.DropNew)); err != nil {
			return err
		}
	}
	tb.addRaw(c, r)
	return nil
}

// addRaw queues the rules of chain raw for r.
func (tb *table) addRaw(c *nftables.Conn, r Rules) {
	c.AddRule(&nftables.Rule{Table: tb.t, Chain: tb.raw, Exprs: []expr.Any{
		loadSaddr(),
		&expr.Lookup{SourceRegister: 1, SetName: tb.dropSet.Name, SetID: tb.dropSet.ID},
		&expr.Verdict{Kind: expr.VerdictDrop},
	}})
	for _, lr := range r.Loss {
		c.AddRule(&nftables.Rule{Table: tb.t, Chain: tb.raw, Exprs: []expr.Any{
			loadSaddr(),
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: lr.From.AsSlice()},
			&expr.Numgen{Register: 1, Modulus: LossMod, Type: unix.NFT_NG_RANDOM},
			// numgen gives a number in host order; cmp compares bytes.
			&expr.Byteorder{SourceRegister: 1, DestRegister: 1, Op: expr.ByteorderHton, Len: 4, Size: 4},
			&expr.Cmp{Op: expr.CmpOpLt, Register: 1, Data: binaryutil.BigEndian.PutUint32(lr.Below)},
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
