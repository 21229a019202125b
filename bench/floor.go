package bench

import (
	_ "embed"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// floorSource is the C floor program.
//
//go:embed floor.c
var floorSource []byte

// CompileFloor compiles floor.c with gcc into dir and returns the
// program's path. Without gcc it returns "" and a *SkipError.
func CompileFloor(dir string) (string, error) {
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		return "", skip("gcc not found")
	}
	src := filepath.Join(dir, "floor.c")
	if err := os.WriteFile(src, floorSource, 0o600); err != nil {
		return "", err
	}
	prog := filepath.Join(dir, "floor")
	out, err := exec.Command(gcc, "-O2", "-o", prog, src).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("gcc: %v\n%s", err, out)
	}
	return prog, nil
}

// floorRun runs the floor program in mode with n processes of argv, with
// extra added to the environment, and parses what it measured.
func (e *Env) floorRun(mode string, n, window int, argv, extra []string) (Raw, error) {
	if e.FloorProg == "" {
		return Raw{}, skip("%s", e.FloorMissing)
	}
	dir, err := e.logDir(Floor)
	if err != nil {
		return Raw{}, err
	}
	defer os.RemoveAll(dir)
	args := append([]string{mode, strconv.Itoa(n), strconv.Itoa(window), dir}, argv...)
	cmd := exec.Command(e.FloorProg, args...)
	cmd.Env = append(os.Environ(), extra...)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return Raw{}, fmt.Errorf("floor %s: %v", strings.Join(args, " "), err)
	}
	var r Raw
	for _, kv := range strings.Fields(string(out)) {
		k, v, _ := strings.Cut(kv, "=")
		if k == "lat_ns" {
			for _, s := range strings.Split(v, ",") {
				if s == "" {
					continue
				}
				ns, err := strconv.ParseInt(s, 10, 64)
				if err != nil {
					return Raw{}, fmt.Errorf("floor output %q: %v", out, err)
				}
				r.Latencies = append(r.Latencies, time.Duration(ns))
			}
			continue
		}
		x, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return Raw{}, fmt.Errorf("floor output %q: %v", out, err)
		}
		switch k {
		case "elapsed_ns":
			r.Elapsed = time.Duration(x)
		case "first_ns":
			r.First = time.Duration(x)
		case "last_ns":
			r.Last = time.Duration(x)
		case "bytes":
			r.Bytes = x
		case "vmhwm_kb":
			r.PeakKiB = x
		}
	}
	return r, nil
}

func floorSerial(e *Env, s Size) (Raw, error) {
	return e.floorRun("serial", s.N, 0, []string{e.True}, nil)
}

func floorFanOut(e *Env, s Size) (Raw, error) {
	return e.floorRun("fanout", s.N, 0, []string{e.True}, nil)
}

func floorConcurrency(e *Env, s Size) (Raw, error) {
	return e.floorRun("fanout", s.N, 0, []string{e.Sleep, seconds(s.Sleep)}, nil)
}

func floorExitDetect(e *Env, s Size) (Raw, error) {
	return e.floorRun("serial", s.N, 0, []string{e.Sleep, "0.01"}, nil)
}

func floorKill(e *Env, s Size) (Raw, error) {
	return e.floorRun("kill", s.N, 0, []string{e.Sleep, "60"}, nil)
}

func floorOutput(e *Env, s Size) (Raw, error) {
	r, err := e.floorRun("serial", 1, 0, []string{e.Self}, genEnv(s.Bytes))
	r.Bytes = s.Bytes + int64(len(Marker)+1)
	return r, err
}

func floorOutputWatch(e *Env, s Size) (Raw, error) {
	return e.floorRun("watch", 1, 0, []string{e.Self}, genEnv(s.Bytes))
}

func floorReadiness(e *Env, s Size) (Raw, error) {
	r, err := e.floorRun("ready", s.N, 0, []string{e.Self}, readyEnv())
	r.Noticed = r.Latencies
	return r, err
}

func floorScale(e *Env, s Size) (Raw, error) {
	return e.floorRun("serial", s.N, s.Window, []string{e.True}, nil)
}
