// Package docker is a [proctest.Backend] whose hosts are containers of a
// Docker engine: the plans that run on network-namespace hosts run
// unchanged on containers, by choosing this backend.
//
//	err := docker.BuildImage(ctx, "kv:test", docker.File{Path: "/bin/kv", Package: "./cmd/kv"})
//	...
//	proctest.Run(t, func(p *proctest.Plan) {
//		n1, n2 := p.Host("n1"), p.Host("n2")
//		srv := n1.Spawn("kv", "serve", "{{n1.addr}}:7000")
//		p.WaitPort(srv, "{{n1.addr}}:7000")
//		p.Wait(n2.Spawn("kv", "put", "{{n1.addr}}:7000", "k", "v"), 0)
//		p.KillHost(n1)
//	}, proctest.WithBackend(docker.New(docker.Image("kv:test"))))
//
// It lives in a module of its own, so that the proctest module needs none
// of the Docker client's dependencies.
//
// # Hosts
//
// Each host is a container of the image given by [Image] or [HostImage],
// on a network made for the plan: an internal bridge (no route out of it)
// on a /24 that no network of the engine and no address of this machine
// uses, so that "{{n1.addr}}" is known before the first step and stays the
// same across [proctest.Plan.RestartHost]; host n is the n-th address of
// the subnet, this machine is .254. Inside the network, Docker's DNS
// resolves each host's name, which "{{n1.host}}" holds (a
// [proctest.HostNamer]): processes on the other hosts can connect to
// "{{n1.host}}:7000". Images are never pulled: there may be no
// registry. A plan naming an image the engine does not have fails before
// anything starts, with an error naming it. [BuildImage] builds images
// FROM scratch with static Go programs.
//
// The init (pid 1) of each container is the agent, a small static program
// (docker/cmd/proctest-agent, built once per program with the go command,
// or named by PROCTEST_DOCKER_AGENT), which the backend speaks to over the
// container's attached standard input and output. The agent starts the
// host's processes as its children, each in a process group of its own,
// so that their statuses are exact (an "exit 137" is not a death by
// SIGKILL, which the engine's own wait cannot tell apart), they can be
// signalled (which processes started with docker exec cannot), and the
// orphans of the container are reaped. Pids are those of the container's
// PID namespace. The agent runs as the image's user, with NET_ADMIN.
//
// Host faults go through the engine: [proctest.Plan.PauseHost] is docker
// pause (the cgroup freezer), [proctest.Plan.KillHost] is docker kill with
// SIGKILL (the agent dies, and with it, by the kernel's hand, every
// process of the container: each reports death by SIGKILL),
// [proctest.Plan.RestartHost] starts the same container again, with the
// same address and a fresh agent. A signal to a process of a paused host
// is delivered when the host resumes; starting a process on a paused host
// is an error. [proctest.Plan.Pause] of one process stops its process
// group with SIGSTOP.
//
// # Files and output
//
// When the engine shares this machine's files (it is reached by a socket
// or TCP on the loopback, and calls itself by this machine's host name),
// the plan's log directory, which holds the hosts' directories
// ("{{n1.dir}}"), is bind-mounted into every container at the same path.
// Processes on hosts write their own log files there, as local ones do,
// and the plan sees the hosts' files as they are written.
//
// Otherwise nothing is mounted: DOCKER_HOST names another machine, or
// the engine's socket is mounted into a container the tests run in (its
// bind mounts would be the engine machine's directories, not this
// one's), or [Remote] or [RemoteEnv] says so of an engine reached through
// a tunnel. The plan runs the same, and:
//   - output goes to the plan's log files through the agent;
//   - each host's directory is made in its container, and copied back
//     into the log directory at the end of the plan (regular files and
//     directories);
//   - [proctest.Plan.WaitFile] of a path in a host's directory asks that
//     host's agent;
//   - [proctest.Plan.WaitPort], [proctest.Plan.WaitHTTP] and the plan's
//     dials to a host's address or name connect from inside that host,
//     through its agent (which no network fault cuts off from its own
//     host, as none cuts off this machine).
//
// What needs shared files, and does not work with such an engine: the
// steps that write into a host's directory from this machine
// ([proctest.Plan.WriteFile], [proctest.Plan.MakeDir] there, which the
// container does not see), Go steps that read a host's directory during
// the plan (this machine's copy is filled at the end), and programs or
// files of this machine named in a host's command line. The plan's
// report says, at its start, whether the engine shares files.
//
// Output the plan watches, and standard input from a Go reader or a
// file, always go through the agent: it makes pipes in the container and
// relays them as streams of its protocol. A program's exit is reported
// once its output has all arrived (or 100 ms after its end, if a daemon
// it started holds its output open). A program is looked up, when it
// starts, in the container's PATH; a program of this machine is not in
// the container.
//
// Processes spawned without a host run on this machine, contained as with
// [proctest.Local].
//
// # Cleanup
//
// Every container, network and image the package makes is labelled with
// [LabelRun], the run of the program (its pid and a random part), and
// containers and networks with [LabelPlan], the plan. At the end of a
// plan its containers and network are removed, and what still ran on a
// host is reported as left behind. When the program has ended, normally
// or killed by SIGKILL, proctest's guard runs the program once more as
// the reaper ([proctest.RegisterReaper]), which removes everything
// labelled with its run: the containers and networks of plans that did
// not end, and the images built by [BuildImage]. No reaper container is
// needed. The agent also kills its container's processes and exits when
// its standard input ends, which it does when the program dies.
//
// # Global state
//
// The package's init function checks PROCTEST_DOCKER_REAP: set (by the
// guard), the program is the reaper; it removes what that run made, and
// exits. The engine's client is made once, from the environment, at the
// first use. The directory the program starts in is noted, to build the
// agent there (in its module) whatever the working directory later.
//
// # Network faults
//
// The agent makes an nftables table in its container's network namespace
// when it starts (it has NET_ADMIN), the same table as a namespace host's
// and made by the same code: packets from chosen hosts dropped at the
// receiving host before connection tracking (established connections
// too), new connections only, or random loss. Rate limits act at the
// sending host, as on namespace hosts: an HTB qdisc on the container's
// eth0 with a class for each limited destination, removed once no rate is
// left. The core's network-fault steps (Partition, Isolate, Block, Grudge,
// Shape with Loss or Rate, Heal) map onto them with the meaning they have
// on namespace hosts. The faults are applied in one transaction per host,
// kept across a restart of the host, and never cut off this machine.
// Packet delay is not done in containers: a plan with a Delay fails
// before it starts.
//
// # Limits
//
// [proctest.Command] Setup hooks and
// helper functions of the test binary ([proctest.Plan.SpawnHelper]) do
// not run in containers, unless the image has the test binary at its
// path. A plan's hosts are made at once, before its first step.
package docker
