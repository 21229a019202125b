// Package agent is the init process of a container host, and the protocol
// the docker backend speaks with it.
//
// The agent runs as pid 1 of its container. It starts the plan's programs
// as its own children, each in a process group of its own, so that it
// alone reaps them and reports their exact end (an exit code, or the
// signal that killed them: the engine's own wait reports a death by
// SIGKILL and "exit 137" alike), signals them without ever hitting a
// reused pid, and reaps every orphan of the container.
//
// The protocol is JSON, one object a line, over the agent's standard
// input (requests) and standard output (replies and events), which the
// backend reaches by attaching to the container: no port is published and
// nothing else is needed in the image. Each [Request] gets one [Message]
// with its ID in reply; events (the agent is ready, a program ended, data
// read from a stream) have ID 0. The reply to a start is written before
// the program's exit event, that to a dial before any data of its
// connection; data of a program's output may come before the reply to
// its start.
// Standard error carries the agent's own diagnostics.
//
// Streams carry bytes that do not go to a file both sides share: the
// standard streams of a program that are not such files, and connections
// dialled from the container. The backend numbers them. What the agent
// reads from one comes in [EventData] events, the last with EOF set;
// what the backend writes to one goes in [OpWrite] requests, each
// answered once written, so that a stream never holds more than one
// request. The exit event of a program comes after the end of its output
// streams, or 100 ms after its end if something else still holds them
// (a daemon it started): data may then follow the exit event.
//
// When its standard input ends (the backend is gone, or the test binary
// was killed), the agent kills every process of the container with
// SIGKILL and exits, which ends the container.
package agent

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// Version is the protocol's version, sent in the ready event.
const Version = 2

// Operations of a [Request].
const (
	// OpStart starts a program: Args, Path, Env, Dir, Files. The reply
	// carries its pid.
	OpStart = "start"
	// OpSignal sends Sig to the process group of Pid, or to Pid alone if
	// it left its group, if Pid is still the program started by the
	// request Task. The reply's Err is [ErrDone] once the process has
	// ended.
	OpSignal = "signal"
	// OpProcs lists the container's processes other than the agent.
	OpProcs = "procs"
	// OpNet makes the container's nftables table drop what Net says,
	// replacing what it dropped before, in one transaction.
	OpNet = "net"
	// OpWrite writes Data to Stream, then closes it for writing if EOF
	// is set.
	OpWrite = "write"
	// OpDial connects to Addr over Network ("tcp") from the container;
	// the connection is Stream.
	OpDial = "dial"
	// OpClose closes the connection Stream.
	OpClose = "close"
	// OpStat checks that Path exists in the container.
	OpStat = "stat"
)

// Events of a [Message].
const (
	// EventReady is the agent's first message.
	EventReady = "ready"
	// EventExit says that the program started as Pid by the request
	// Task ended: Code, or Signal if not 0.
	EventExit = "exit"
	// EventData carries Data read from Stream, or its end (EOF).
	EventData = "data"
)

// ErrNotExist is the Err of a stat's reply when the path does not exist.
const ErrNotExist = "file does not exist"

// ErrDone is the Err of a signal's reply when the process has ended.
const ErrDone = "process already finished"

// A Request is a line the backend writes to the agent.
type Request struct {
	// ID is echoed in the reply; it must not be 0.
	ID uint64 `json:"id"`
	// Op is one of the Op constants.
	Op string `json:"op"`

	// Args is the command line of a program to start; Args[0] is looked
	// up in the container's PATH (the PATH of Env, if it sets one) unless
	// it holds a '/'.
	Args []string `json:"args,omitempty"`
	// Path, if not empty, is tried when Args[0] is not found; for
	// OpStat, it is the path checked.
	Path string `json:"path,omitempty"`
	// Env is added to the agent's environment; later entries win.
	Env []string `json:"env,omitempty"`
	// Dir is the working directory; empty means the agent's.
	Dir string `json:"dir,omitempty"`
	// Files are the paths, in the container, of the program's standard
	// input, output and error: files or FIFOs on a mount shared with the
	// backend. Empty means the null device, unless Streams says
	// otherwise. Output is appended to.
	Files [3]string `json:"files"`
	// Streams, where not 0, make the program's standard input, output
	// or error a pipe relayed as that stream.
	Streams [3]uint64 `json:"streams,omitzero"`

	// Stream is the stream of OpWrite, OpDial and OpClose; Data and EOF
	// what OpWrite writes.
	Stream uint64 `json:"stream,omitempty"`
	Data   []byte `json:"data,omitempty"`
	EOF    bool   `json:"eof,omitempty"`
	// Network and Addr are where OpDial connects, within Timeout (if
	// not 0; else 30 s).
	Network string        `json:"network,omitempty"`
	Addr    string        `json:"addr,omitempty"`
	Timeout time.Duration `json:"timeout,omitempty"`

	// Pid and Sig are a signal's target and number; Task is the ID of
	// the request that started it (a pid may be reused).
	Pid  int    `json:"pid,omitempty"`
	Sig  int    `json:"sig,omitempty"`
	Task uint64 `json:"task,omitempty"`

	// Net is the network faults of OpNet.
	Net *Net `json:"net,omitempty"`
}

// Net is what a container drops of the packets it receives, and how fast
// it sends to some addresses. The zero Net drops nothing and sends at full
// speed.
type Net struct {
	// Drop lists the IPv4 addresses whose packets are dropped,
	// established connections included.
	Drop []string `json:"drop,omitempty"`
	// DropNew lists the addresses whose new connections are dropped.
	DropNew []string `json:"drop_new,omitempty"`
	// Loss lists addresses whose packets are dropped at random.
	Loss []Loss `json:"loss,omitempty"`
	// Rate lists addresses to which the container sends at a limited
	// rate: its eth0 queues what exceeds it.
	Rate []Rate `json:"rate,omitempty"`
}

// Rate limits what the container sends to an address.
type Rate struct {
	To string `json:"to"`
	// BPS is the rate in bits per second; 0 is no limit.
	BPS uint64 `json:"bps"`
}

// Loss drops a fraction of the packets from an address.
type Loss struct {
	From string `json:"from"`
	// Below is the fraction, in units of 1/LossMod: a packet is dropped
	// if a random number below LossMod is below it.
	Below uint32 `json:"below"`
}

// LossMod is the modulus of the random numbers of Loss.
const LossMod = 10000

// A Message is a line the agent writes: a reply (ID not 0) or an event.
type Message struct {
	// ID is the ID of the request this replies to, or 0 for an event.
	ID uint64 `json:"id,omitempty"`
	// Event is EventReady or EventExit, for an event.
	Event string `json:"event,omitempty"`
	// Err is why a request failed; empty if it did not.
	Err string `json:"err,omitempty"`
	// Pid is the pid of a started program, or of one that ended.
	Pid int `json:"pid,omitempty"`
	// Code and Signal are how a program ended: Signal if not 0, else
	// Code.
	Code   int `json:"code,omitempty"`
	Signal int `json:"signal,omitempty"`
	// Procs lists the processes, in reply to OpProcs.
	Procs []Proc `json:"procs,omitempty"`
	// Version is the protocol's version, in the ready event.
	Version int `json:"version,omitempty"`
	// Task is, in an exit event, the ID of the request that started the
	// program (a pid may be reused).
	Task uint64 `json:"task,omitempty"`
	// Stream, Data and EOF are those of EventData.
	Stream uint64 `json:"stream,omitempty"`
	Data   []byte `json:"data,omitempty"`
	EOF    bool   `json:"eof,omitempty"`
}

// A Proc is a process of the container.
type Proc struct {
	Pid int `json:"pid"`
	// Cmdline is its command line, arguments separated by spaces.
	Cmdline string `json:"cmdline"`
	// Name is its PROCTEST_PROC, the plan's name of the process it
	// descends from.
	Name string `json:"name,omitempty"`
}

// MaxLine is the longest line either side accepts.
const MaxLine = 16 << 20

// A Decoder reads the lines of the protocol.
type Decoder struct {
	sc *bufio.Scanner
}

// NewDecoder returns a decoder reading r.
func NewDecoder(r io.Reader) *Decoder {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), MaxLine)
	return &Decoder{sc: sc}
}

// Decode reads the next line into v. It returns io.EOF at the end of the
// input, and an error naming the line for one that is not a JSON object.
func (d *Decoder) Decode(v any) error {
	for d.sc.Scan() {
		line := d.sc.Bytes()
		if len(line) == 0 {
			continue
		}
		if err := json.Unmarshal(line, v); err != nil {
			return fmt.Errorf("agent protocol: bad line %.80q: %w", line, err)
		}
		return nil
	}
	if err := d.sc.Err(); err != nil {
		return err
	}
	return io.EOF
}
