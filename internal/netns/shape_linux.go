package netns

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Rate limits. A host that sends at a limited rate to some destinations
// has, on its eth0 (the interface of its Faults), an HTB root qdisc 1:
// with one class 1:N per such destination, at that rate, and a u32 filter sending the packets for the
// destination's address to it; everything else is not classified, and HTB
// sends it unshaped. Each Apply removes the qdisc and makes it anew, so
// that for a moment the host's packets are not shaped. HTB charges a packet
// once sent, and a GSO packet can hold 64 KB: a short transfer can arrive
// that much ahead of the rate.

// shape makes f's interface limit what it sends as rules say.
func (f *Faults) shape(rules []RateRule) error {
	if !f.shaped && len(rules) == 0 {
		return nil
	}
	root := netlink.MakeHandle(1, 0)
	if f.shaped {
		err := f.nl.QdiscDel(netlink.NewHtb(netlink.QdiscAttrs{LinkIndex: f.link, Handle: root, Parent: netlink.HANDLE_ROOT}))
		if err != nil && !errors.Is(err, unix.ENOENT) && !errors.Is(err, unix.EINVAL) {
			return fmt.Errorf("remove qdisc: %w", err)
		}
		f.shaped = false
	}
	if len(rules) == 0 {
		return nil
	}
	if err := f.nl.QdiscAdd(netlink.NewHtb(netlink.QdiscAttrs{LinkIndex: f.link, Handle: root, Parent: netlink.HANDLE_ROOT})); err != nil {
		return fmt.Errorf("add htb qdisc: %w", err)
	}
	f.shaped = true
	for i, r := range rules {
		class := netlink.MakeHandle(1, uint16(i+1))
		c := netlink.NewHtbClass(netlink.ClassAttrs{LinkIndex: f.link, Parent: root, Handle: class},
			netlink.HtbClassAttrs{Rate: r.BPS, Ceil: r.BPS})
		if err := f.nl.ClassAdd(c); err != nil {
			return fmt.Errorf("add htb class for %v: %w", r.To, err)
		}
		b := r.To.As4()
		u32 := &netlink.U32{
			FilterAttrs: netlink.FilterAttrs{LinkIndex: f.link, Parent: root, Priority: 1, Protocol: unix.ETH_P_IP},
			ClassId:     class,
			Sel: &netlink.TcU32Sel{
				Flags: netlink.TC_U32_TERMINAL,
				Keys: []netlink.TcU32Key{{
					Mask: 0xffffffff,
					Val:  binary.BigEndian.Uint32(b[:]),
					Off:  16, // the IPv4 destination address
				}},
			},
		}
		if err := f.nl.FilterAdd(u32); err != nil {
			return fmt.Errorf("add u32 filter for %v: %w", r.To, err)
		}
	}
	return nil
}
