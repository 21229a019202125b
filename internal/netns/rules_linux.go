package netns

import (
	"net/netip"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// Network faults. Each host has one nftables table, ip proctest, in its
// own network namespace, made with the host and replaced whole in one
// transaction at each Apply:
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

// program replaces l's table with one for r, in one transaction. The
// caller holds the Network's mu.
func (l *life) program(r hostRules) error {
	if l.nft == nil {
		c, err := nftables.New(nftables.WithNetNSFd(l.nsFD), nftables.AsLasting())
		if err != nil {
			return err
		}
		l.nft = c
	}
	c := l.nft
	t := &nftables.Table{Family: nftables.TableFamilyIPv4, Name: tableName}
	// Adding a table that exists does nothing: then it can be deleted in
	// any case.
	c.AddTable(t)
	c.DelTable(t)
	c.AddTable(t)
	if err := addRules(c, t, r); err != nil {
		// The queued messages must not go out with a later Flush: drop
		// the connection, and them with it.
		c.CloseLasting()
		l.nft = nil
		return err
	}
	return c.Flush()
}

// addRules adds to t the sets, chains and rules for r.
func addRules(c *nftables.Conn, t *nftables.Table, r hostRules) error {
	raw := c.AddChain(&nftables.Chain{
		Name: "raw", Table: t, Type: nftables.ChainTypeFilter,
		Hooknum: nftables.ChainHookPrerouting, Priority: nftables.ChainPriorityRaw,
	})
	if len(r.drop) > 0 {
		set, err := addSet(c, t, 1, "drop_from", r.drop)
		if err != nil {
			return err
		}
		c.AddRule(&nftables.Rule{Table: t, Chain: raw, Exprs: []expr.Any{
			loadSaddr(),
			&expr.Lookup{SourceRegister: 1, SetName: set.Name, SetID: set.ID},
			&expr.Verdict{Kind: expr.VerdictDrop},
		}})
	}
	for _, lr := range r.loss {
		c.AddRule(&nftables.Rule{Table: t, Chain: raw, Exprs: []expr.Any{
			loadSaddr(),
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: lr.from.AsSlice()},
			&expr.Numgen{Register: 1, Modulus: lossMod, Type: unix.NFT_NG_RANDOM},
			// numgen gives a number in host order; cmp compares bytes.
			&expr.Byteorder{SourceRegister: 1, DestRegister: 1, Op: expr.ByteorderHton, Len: 4, Size: 4},
			&expr.Cmp{Op: expr.CmpOpLt, Register: 1, Data: binaryutil.BigEndian.PutUint32(lr.below)},
			&expr.Verdict{Kind: expr.VerdictDrop},
		}})
	}
	conn := c.AddChain(&nftables.Chain{
		Name: "conn", Table: t, Type: nftables.ChainTypeFilter,
		Hooknum: nftables.ChainHookPrerouting, Priority: nftables.ChainPriorityMangle,
	})
	set, err := addSet(c, t, 2, "new_from", r.dropNew)
	if err != nil {
		return err
	}
	c.AddRule(&nftables.Rule{Table: t, Chain: conn, Exprs: []expr.Any{
		loadSaddr(),
		&expr.Lookup{SourceRegister: 1, SetName: set.Name, SetID: set.ID},
		&expr.Ct{Register: 1, Key: expr.CtKeySTATE},
		&expr.Bitwise{
			SourceRegister: 1, DestRegister: 1, Len: 4,
			Mask: binaryutil.NativeEndian.PutUint32(expr.CtStateBitNEW),
			Xor:  binaryutil.NativeEndian.PutUint32(0),
		},
		&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: binaryutil.NativeEndian.PutUint32(0)},
		&expr.Verdict{Kind: expr.VerdictDrop},
	}})
	return nil
}

// loadSaddr loads a packet's IPv4 source address into register 1.
func loadSaddr() expr.Any {
	return &expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: 12, Len: 4}
}

// addSet adds to t a set of IPv4 addresses, with an id unique in the
// transaction. (Giving it saves nftables from counting in a global that
// is not safe for concurrent use.)
func addSet(c *nftables.Conn, t *nftables.Table, id uint32, name string, addrs []netip.Addr) (*nftables.Set, error) {
	set := &nftables.Set{Table: t, ID: id, Name: name, KeyType: nftables.TypeIPAddr}
	elems := make([]nftables.SetElement, len(addrs))
	for i, a := range addrs {
		elems[i] = nftables.SetElement{Key: a.AsSlice()}
	}
	return set, c.AddSet(set, elems)
}
