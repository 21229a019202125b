package docker

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"
)

// copyBack copies the host's directory out of its container into the
// plan's log directory, where it is when the engine shares this
// machine's files: for an engine that does not, at the end of the plan.
// Regular files (with their permissions) and directories are copied;
// symbolic links and special files are not. Nothing is written outside
// the host's directory.
func (h *host) copyBack(ctx context.Context) error {
	if h.id == "" {
		return nil // never made
	}
	res, err := h.s.c.CopyFromContainer(ctx, h.id, client.CopyFromContainerOptions{SourcePath: h.dir})
	if cerrdefs.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("docker: copy the directory of host %s: %w", h.name, err)
	}
	defer res.Content.Close()
	root, err := os.OpenRoot(h.dir)
	if err != nil {
		return fmt.Errorf("docker: copy the directory of host %s: %w", h.name, err)
	}
	defer root.Close()
	tr := tar.NewReader(res.Content)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("docker: copy the directory of host %s: %w", h.name, err)
		}
		// Names start with the directory's own name.
		_, name, _ := strings.Cut(path.Clean(hdr.Name), "/")
		if name == "" {
			continue
		}
		switch hdr.Typeflag {
		case tar.TypeDir:
			err = root.MkdirAll(name, 0o755)
		case tar.TypeReg:
			err = copyFile(root, name, tr, hdr.FileInfo().Mode().Perm())
		}
		if err != nil {
			return fmt.Errorf("docker: copy the directory of host %s: %s: %w", h.name, name, err)
		}
	}
}

// copyFile writes what r gives to the file name of root, made with perm.
func copyFile(root *os.Root, name string, r io.Reader, perm os.FileMode) error {
	f, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		return err
	}
	_, err = io.Copy(f, r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
