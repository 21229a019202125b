package proctest_test

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestReaper: the guard runs a registered reaper, the program re-executed
// with the reaper's variable, once the program has ended, whether killed
// or not.
func TestReaper(t *testing.T) {
	for _, end := range []string{"kill", "exit"} {
		t.Run(end, func(t *testing.T) {
			t.Parallel()
			file := filepath.Join(t.TempDir(), "reaped")
			cmd := exec.Command("register-reaper", file, end)
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			line, err := bufio.NewReader(out).ReadString('\n')
			if line != "registered\n" {
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatalf("register-reaper printed %q, %v", line, err)
			}
			if end == "kill" {
				cmd.Process.Kill()
			}
			cmd.Wait()
			ended := time.Now()
			for {
				b, err := os.ReadFile(file)
				if err == nil && string(b) == "reaped" {
					break
				}
				if time.Since(ended) > 30*time.Second {
					t.Fatalf("the reaper did not run within %v of the program's end (%s: %q, %v)", time.Since(ended), file, b, err)
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
}
