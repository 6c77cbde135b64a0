//go:build unix

package bundle

import (
	"errors"
	"os"
	"syscall"
)

var errLocked = errors.New("locked by another process")

// lockFile takes an exclusive advisory lock on f, without waiting. The lock
// goes with the process: a killed export holds none. A file system without
// flock (some FUSE mounts) goes unlocked rather than unwritable.
func lockFile(f *os.File) error {
	err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return errLocked
	}
	return nil
}
