package docker

import (
	"context"
	"errors"
	"net"
	"testing"

	"github.com/moby/moby/client"
)

// TestSharesFiles: an engine at an address of another machine does not
// share this machine's files, nor one that Remote or RemoteEnv says is
// remote. (No request is needed to decide it, and none can leave this machine.)
func TestSharesFiles(t *testing.T) {
	for _, tc := range []struct {
		host   string
		remote bool
		env    string
	}{
		{host: "tcp://192.0.2.1:2375"},
		{host: "ssh://user@example.com"},
		{host: "unix:///var/run/docker.sock", remote: true},
		{host: "tcp://127.0.0.1:2375", env: "1"},
	} {
		t.Setenv(RemoteEnv, tc.env)
		// Whatever happens, nothing leaves this machine.
		refuse := func(ctx context.Context, network, addr string) (net.Conn, error) {
			return nil, errors.New("no connection in this test")
		}
		c, err := client.New(client.WithHost(tc.host), client.WithDialContext(refuse))
		if err != nil {
			t.Fatal(err)
		}
		b := &backend{remote: tc.remote}
		if b.sharesFiles(context.Background(), c) {
			t.Errorf("%s (Remote %v, %s=%q): shares files, want not", tc.host, tc.remote, RemoteEnv, tc.env)
		}
		c.Close()
	}
}
