package docker_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/proctest/proctest"
	"github.com/proctest/proctest/docker"
	"github.com/proctest/proctest/examples/kv/kvtest"
)

// TestQuorumPartitions runs the quorum example's plan
// (kvtest.QuorumPartitions, which examples/kv runs on namespace hosts) on
// containers: the same plan, but for the backend option and the
// program's path in the image, which the test builds from scratch with
// the kv program, nothing pulled.
func TestQuorumPartitions(t *testing.T) {
	needEngine(t)
	ctx := context.Background()
	image := fmt.Sprintf("proctest-kv-test:%d", os.Getpid())
	if err := docker.BuildImage(ctx, image, docker.File{Path: "/bin/kv", Package: "github.com/proctest/proctest/examples/kv"}); err != nil {
		t.Fatal(err)
	}
	defer docker.RemoveImage(ctx, image)
	proctest.Run(t, kvtest.QuorumPartitions("/bin/kv"), proctest.LogDir(t.TempDir()), proctest.WithBackend(docker.New(docker.Image(image))))
}
