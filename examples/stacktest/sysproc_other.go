//go:build unix && !linux

package stacktest

import "syscall"

// sysProcAttr puts a child in its own process group, so that it and anything
// it starts are signalled together. Without a parent-death signal on this
// platform, a test binary killed from outside leaves the stack running.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
