package bench

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"time"
)

// An Env is where and with what the workloads run.
type Env struct {
	// LogRoot is the directory under which each run makes its log
	// directory. It must exist.
	LogRoot string
	// Self is the program that acts as the helpers when started with
	// [HelperEnv] set: the running program, unless set otherwise.
	Self string
	// FloorProg is the compiled floor.c, or "" where there is none.
	FloorProg string
	// FloorMissing says why FloorProg is empty.
	FloorMissing string
	// DockerImage is the image of the docker workloads' hosts, made by
	// [PrepareDocker], or "" where there is none.
	DockerImage string
	// DockerMissing says why DockerImage is empty.
	DockerMissing string
	// Exit0 is the program in DockerImage, on this machine, for the
	// docker workloads' local processes.
	Exit0 string
	// True and Sleep are the absolute paths of true and sleep.
	True, Sleep string
	// Timeout bounds each wait.
	Timeout time.Duration
}

// NewEnv returns an Env logging under logRoot (the system's temporary
// directory if empty), with floorProg as the compiled floor program ("" if
// none) and the running program as Self.
func NewEnv(logRoot, floorProg string) (*Env, error) {
	if logRoot == "" {
		logRoot = os.TempDir()
	}
	e := &Env{LogRoot: logRoot, FloorProg: floorProg, Timeout: 5 * time.Minute}
	var err error
	if e.Self, err = os.Executable(); err != nil {
		return nil, err
	}
	if e.True, err = exec.LookPath("true"); err != nil {
		return nil, err
	}
	if e.Sleep, err = exec.LookPath("sleep"); err != nil {
		return nil, err
	}
	if floorProg == "" {
		e.FloorMissing = "no C compiler"
	}
	e.DockerMissing = "no Docker image prepared"
	return e, nil
}

// seconds formats d as an argument of sleep.
func seconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64)
}

// PeakKiB returns the peak resident memory of this process (VmHWM in
// /proc/self/status) in KiB, or 0 if it cannot be read.
func PeakKiB() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := bytes.CutPrefix(sc.Bytes(), []byte("VmHWM:")); ok {
			v = bytes.TrimSpace(bytes.TrimSuffix(bytes.TrimSpace(v), []byte("kB")))
			n, _ := strconv.ParseInt(string(v), 10, 64)
			return n
		}
	}
	return 0
}

// warmUp runs a one-process version of variant v, so that what a program
// does once (the Go runtime starting threads, proctest starting its guard
// process, testscript's first setup) is not counted.
func warmUp(e *Env, v string) error {
	var err error
	switch v {
	case Proctest:
		_, err = proctestSerial(e, Size{N: 1})
	case OSExec:
		_, err = osexecSerial(e, Size{N: 1})
	case Testscript:
		_, err = testscriptSerial(e, Size{N: 1})
	}
	if err != nil {
		return fmt.Errorf("warm-up: %w", err)
	}
	return nil
}
