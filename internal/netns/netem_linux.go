package netns

import (
	"errors"
	"fmt"
	"sync"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

var netem struct {
	once   sync.Once
	ok     bool
	reason string
}

// HasNetem reports whether the kernel can delay packets (the sch_netem
// queueing discipline), and if not, why, as a phrase such as "kernel
// lacks sch_netem (CONFIG_NET_SCH_NETEM)". It finds out once, by adding a
// netem qdisc in a network namespace of its own, made for the probe and
// gone after it.
func HasNetem() (bool, string) {
	netem.once.Do(func() {
		err := onThread(-1, func() error {
			nl, err := netlink.NewHandle(unix.NETLINK_ROUTE)
			if err != nil {
				return err
			}
			defer nl.Close()
			lo, err := nl.LinkByName("lo")
			if err != nil {
				return err
			}
			q := netlink.NewNetem(netlink.QdiscAttrs{
				LinkIndex: lo.Attrs().Index,
				Handle:    netlink.MakeHandle(1, 0),
				Parent:    netlink.HANDLE_ROOT,
			}, netlink.NetemQdiscAttrs{Latency: 1000})
			return nl.QdiscAdd(q)
		})
		switch {
		case err == nil:
			netem.ok = true
		case errors.Is(err, unix.ENOENT):
			netem.reason = "kernel lacks sch_netem (CONFIG_NET_SCH_NETEM)"
		default:
			netem.reason = fmt.Sprintf("cannot add a netem qdisc: %v", err)
		}
	})
	return netem.ok, netem.reason
}
