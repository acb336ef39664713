//go:build unix

package pgtune

import (
	"os"
	"syscall"
)

// chownLike gives path the owner and group of ref, when they differ from
// what it has.
func chownLike(path string, ref os.FileInfo) error {
	want, ok := ref.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if have, ok := fi.Sys().(*syscall.Stat_t); ok && have.Uid == want.Uid && have.Gid == want.Gid {
		return nil
	}
	return os.Chown(path, int(want.Uid), int(want.Gid))
}
