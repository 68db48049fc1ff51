//go:build !unix

package deploy

import (
	"fmt"
	"os"
)

// lockDir only creates the lock file: without flock the single-writer rule
// is the operator's to keep.
func lockDir(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening storage lock: %w", err)
	}
	return f, nil
}

func unlockDir(f *os.File) error { return f.Close() }

// syncDir is a no-op where directories cannot be fsynced (Windows makes
// renames durable itself).
func syncDir(string) error { return nil }
