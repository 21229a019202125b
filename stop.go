package proctest

import "syscall"

// SetTimeoutSignal sets the signal a process gets first when a wait on it
// times out, instead of SIGTERM: such as SIGQUIT, on which a Go program
// writes the stacks of its goroutines to stderr (so into its log) and
// exits. Either way the process then has the grace of [StopGrace] to end
// before SIGKILL, as every process stopped at the end of a plan.
func (p *Plan) SetTimeoutSignal(sig syscall.Signal) {
	if sig <= 0 || sig > 64 {
		p.misuse("set timeout signal", "invalid signal %d", int(sig))
		return
	}
	p.timeoutSig = sig
}

// stopSignal returns the signal a process that a wait gave up on gets
// first.
func (p *Plan) stopSignal() syscall.Signal {
	if p.timeoutSig != 0 {
		return p.timeoutSig
	}
	return syscall.SIGTERM
}
