//go:build !linux

package docker

func execAllowed(dir string) bool { return false }
