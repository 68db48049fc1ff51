//go:build unix

package config

import "syscall"

// openNonBlocking makes opening a FIFO return at once instead of waiting
// for a writer; reads of a regular file do not change.
const openNonBlocking = syscall.O_NONBLOCK
