package netns

import (
	"context"
	"net"
	"net/netip"
	"os/exec"
)

// The API is the same on every system; elsewhere than Linux it only
// fails. These assertions keep the two in step.
var (
	_ interface {
		Prefix() netip.Prefix
		Addr() netip.Addr
		Hosts() []*Host
		AddHost(ctx context.Context, name string, addr netip.Addr, cgroupParent string) (*Host, error)
		DialContext(ctx context.Context, network, addr string) (net.Conn, error)
		ListenPacket(ctx context.Context, network, addr string) (net.PacketConn, error)
		State() State
		Apply(state State) error
		Close(ctx context.Context) error
	} = (*Network)(nil)
	_ interface {
		Name() string
		Addr() netip.Addr
		Cgroup() string
		InitPid() int
		Start(cmd *exec.Cmd) error
		Kill() (Method, error)
		Wait(ctx context.Context) error
		Restart(ctx context.Context) error
		Pause(ctx context.Context) (Method, error)
		Resume(ctx context.Context) error
		Procs() ([]int, error)
		DialContext(ctx context.Context, network, addr string) (net.Conn, error)
		Listen(ctx context.Context, network, addr string) (net.Listener, error)
		ListenPacket(ctx context.Context, network, addr string) (net.PacketConn, error)
	} = (*Host)(nil)
	_ func() error                         = Available
	_ func(netip.Prefix) (*Network, error) = NewNetwork
	_ func() (string, error)               = CgroupDir
	_ func(context.Context, string) error  = RemoveCgroups
	_ func() (bool, string)                = HasNetem
	_ func()                               = MaybeRunInit
)
