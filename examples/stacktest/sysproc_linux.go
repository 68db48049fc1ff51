//go:build linux

package stacktest

import "syscall"

// sysProcAttr puts a child in its own process group, so that it and anything
// it starts are signalled together, and has the kernel kill it should the
// test binary die first.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
