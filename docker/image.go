package docker

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/build"
	"github.com/moby/moby/client"
)

// A File is a file of an image made by [BuildImage].
type File struct {
	// Path is where the file is in the image: an absolute path, as
	// "/bin/kv".
	Path string
	// Package, if not empty, is a Go package (a pattern for go build,
	// as "./cmd/kv" or "example.com/kv/cmd/kv", relative to the current
	// directory and its module) built static, with CGO_ENABLED=0, for
	// Linux, into Path.
	Package string
	// Source, if Package is empty, is a file or directory of this
	// machine, copied to Path with its contents and modes.
	Source string
}

// BuildImage builds the image tag FROM scratch, with files and nothing
// else: a program built static needs nothing else. Nothing is pulled.
// The image is labelled with this program's run, and removed by
// [RemoveImage], or when this program has ended (see "Cleanup" in the
// package documentation).
func BuildImage(ctx context.Context, tag string, files ...File) error {
	c, err := engineClient()
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return fmt.Errorf("docker: build image %s: no files", tag)
	}
	// Where it fails, Open warns.
	registerReaper()
	var ctxTar bytes.Buffer
	tw := tar.NewWriter(&ctxTar)
	dockerfile := "FROM scratch\nCOPY rootfs/ /\n"
	if err := addFile(tw, "Dockerfile", 0o644, []byte(dockerfile)); err != nil {
		return err
	}
	dirs := map[string]bool{}
	for _, f := range files {
		if !path.IsAbs(f.Path) || path.Clean(f.Path) == "/" && f.Package != "" {
			return fmt.Errorf("docker: build image %s: path %q is not an absolute file path", tag, f.Path)
		}
		dest := "rootfs" + path.Clean(f.Path)
		if err := addDirs(tw, dirs, path.Dir(dest)); err != nil {
			return err
		}
		switch {
		case f.Package != "":
			bin, err := goBuild(ctx, "", f.Package)
			if err != nil {
				return fmt.Errorf("docker: build image %s: %w", tag, err)
			}
			if err := addFile(tw, dest, 0o755, bin); err != nil {
				return err
			}
		case f.Source != "":
			if err := addTree(tw, dirs, f.Source, dest); err != nil {
				return fmt.Errorf("docker: build image %s: %w", tag, err)
			}
		default:
			return fmt.Errorf("docker: build image %s: file %s has neither Package nor Source", tag, f.Path)
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	res, err := c.ImageBuild(ctx, &ctxTar, client.ImageBuildOptions{
		Tags:           []string{tag},
		Dockerfile:     "Dockerfile",
		Remove:         true,
		ForceRemove:    true,
		SuppressOutput: true,
		Labels:         labels(""),
		Version:        build.BuilderV1,
	})
	if err != nil {
		return fmt.Errorf("docker: build image %s: %w", tag, err)
	}
	defer res.Body.Close()
	return buildResult(tag, res.Body)
}

// buildResult reads the engine's account of a build, and returns the
// error it reports, if any.
func buildResult(tag string, r io.Reader) error {
	dec := json.NewDecoder(r)
	var out strings.Builder
	for {
		var m struct {
			Stream      string `json:"stream"`
			Error       string `json:"error"`
			ErrorDetail *struct {
				Message string `json:"message"`
			} `json:"errorDetail"`
		}
		if err := dec.Decode(&m); err == io.EOF {
			return nil
		} else if err != nil {
			return fmt.Errorf("docker: build image %s: %w", tag, err)
		}
		out.WriteString(m.Stream)
		if m.Error != "" || m.ErrorDetail != nil {
			msg := m.Error
			if m.ErrorDetail != nil && m.ErrorDetail.Message != "" {
				msg = m.ErrorDetail.Message
			}
			return fmt.Errorf("docker: build image %s: %s: %s", tag, msg, strings.TrimSpace(out.String()))
		}
	}
}

// addFile adds a regular file to tw.
func addFile(tw *tar.Writer, name string, mode int64, data []byte) error {
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: int64(len(data))}); err != nil {
		return err
	}
	_, err := tw.Write(data)
	return err
}

// addDirs adds dir and its parents to tw, once each.
func addDirs(tw *tar.Writer, done map[string]bool, dir string) error {
	if dir == "." || dir == "/" || done[dir] {
		return nil
	}
	if err := addDirs(tw, done, path.Dir(dir)); err != nil {
		return err
	}
	done[dir] = true
	return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: dir + "/", Mode: 0o755})
}

// addTree adds the file or tree src of this machine as dest.
func addTree(tw *tar.Writer, dirs map[string]bool, src, dest string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		name := path.Join(dest, filepath.ToSlash(rel))
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			if !dirs[name] {
				dirs[name] = true
				return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: name + "/", Mode: int64(info.Mode().Perm())})
			}
			return nil
		case info.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeSymlink, Name: name, Linkname: target, Mode: 0o777})
		case info.Mode().IsRegular():
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			return addFile(tw, name, int64(info.Mode().Perm()), data)
		}
		return fmt.Errorf("%s: not a regular file, directory or symbolic link", p)
	})
}

// RemoveImage removes the image tag, if it exists.
func RemoveImage(ctx context.Context, tag string) error {
	c, err := engineClient()
	if err != nil {
		return err
	}
	_, err = c.ImageRemove(ctx, tag, client.ImageRemoveOptions{PruneChildren: true})
	if err != nil && !cerrdefs.IsNotFound(err) {
		return fmt.Errorf("docker: remove image %s: %w", tag, err)
	}
	return nil
}
