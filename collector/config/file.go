package config

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// MaxFileSize bounds every file the configuration is read from: the main
// file, each target file and each TLS file. A larger file is an error,
// never read in part.
const MaxFileSize = 16 << 20

// ReadFile is the one way a file the configuration names is read (Load,
// Digest, the TLS files): only a regular file, or a link to one, of at
// most MaxFileSize bytes. A FIFO would block the reader (and every reload
// behind it) forever and a device such as /dev/zero never ends, so the
// kind is checked before the file is opened, and again on the opened
// descriptor, which is opened non-blocking: a file swapped for a FIFO in
// between cannot block either. Errors are *fs.PathError naming the file.
func ReadFile(name string) ([]byte, error) { return readFile(name, MaxFileSize) }

func readFile(name string, limit int64) ([]byte, error) {
	refuse := func(err error) ([]byte, error) {
		return nil, &fs.PathError{Op: "read", Path: name, Err: err}
	}
	fi, err := os.Stat(name)
	if err != nil {
		return nil, err
	}
	if err := usable(fi, limit); err != nil {
		return refuse(err)
	}
	return readOpened(name, limit)
}

// readOpened opens name without waiting on a FIFO and checks what it
// opened: the file may have been swapped since it was looked at (stat
// of the descriptor, not of the name).
func readOpened(name string, limit int64) ([]byte, error) {
	refuse := func(err error) ([]byte, error) {
		return nil, &fs.PathError{Op: "read", Path: name, Err: err}
	}
	f, err := os.OpenFile(name, os.O_RDONLY|openNonBlocking, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if err := usable(fi, limit); err != nil {
		return refuse(err)
	}
	// The size can lie (a file in /proc) or grow after the Stat: read one
	// byte past the limit to tell.
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return refuse(tooLarge(limit))
	}
	return data, nil
}

// usable says why fi is not a regular file of at most limit bytes.
func usable(fi fs.FileInfo, limit int64) error {
	m := fi.Mode()
	switch {
	case m.IsRegular():
		if fi.Size() > limit {
			return tooLarge(limit)
		}
		return nil
	case m.IsDir():
		return errors.New("is a directory, not a regular file")
	case m&fs.ModeNamedPipe != 0:
		return errors.New("is a named pipe (FIFO), not a regular file")
	case m&fs.ModeSocket != 0:
		return errors.New("is a socket, not a regular file")
	case m&fs.ModeDevice != 0:
		return errors.New("is a device, not a regular file")
	}
	return errors.New("is not a regular file")
}

func tooLarge(limit int64) error {
	return fmt.Errorf("is larger than %s, the limit of a configuration file", ByteSize(limit))
}
