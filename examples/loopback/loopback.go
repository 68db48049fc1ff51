// Package loopback picks loopback ports for the stack and lab tests, which
// hand ports to other processes (Prometheus, nginx, php, ...).
//
// A port bound at ":0" and freed again for another process to bind is
// often taken meanwhile on a machine running several suites: the kernel
// hands the same ephemeral range to every ":0" listener and outgoing
// connection. Listen picks ports below that range, where only another
// test's random pick can land.
package loopback

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"syscall"
	"testing"
)

// The range Listen picks from, below the kernel's ephemeral range (read
// from /proc where there is one; Linux's default starts at 32768).
const (
	low  = 10000
	high = 32767
)

// Listen binds a TCP port on 127.0.0.1 below the kernel's ephemeral
// range. Hold it until every port of a setup is chosen, then close the
// ones another process is to bind.
func Listen() (net.Listener, error) {
	hi := high
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		var first int
		if _, err := fmt.Sscan(string(b), &first); err == nil && first > low+1000 {
			hi = first - 1
		}
	}
	var last error
	for range 1000 {
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", low+rand.IntN(hi-low+1)))
		if err == nil {
			return ln, nil
		}
		last = err
	}
	return nil, fmt.Errorf("no free loopback port in %d-%d: %w", low, hi, last)
}

// Port returns a port below the ephemeral range that was free just now.
func Port() (int, error) {
	ln, err := Listen()
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// Refused returns a loopback address that refuses connections until the
// test ends: its port is bound but never listened on, so nothing else can
// take it meanwhile (as it could a port bound and freed again).
func Refused(t testing.TB) string {
	t.Helper()
	syscall.ForkLock.RLock() // no child process inherits it
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err == nil {
		syscall.CloseOnExec(fd)
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("127.0.0.1:%d", sa.(*syscall.SockaddrInet4).Port)
}
