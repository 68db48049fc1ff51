package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/prometheus/exporter-toolkit/web"
)

// listen opens the listeners exporter-toolkit's ListenAndServe would open
// (the --web.listen-address TCP addresses, or systemd's sockets with
// --web.systemd-socket), so that they can be wrapped in a connection limit
// before web.ServeMultiple serves them. max <= 0 means no limit.
func listen(flags *web.FlagConfig, max int) ([]net.Listener, error) {
	var ls []net.Listener
	closeAll := func() {
		for _, l := range ls {
			l.Close()
		}
	}
	if flags.WebSystemdSocket != nil && *flags.WebSystemdSocket {
		var err error
		if ls, err = systemdListeners(); err != nil {
			return nil, err
		}
	} else {
		if flags.WebListenAddresses == nil || len(*flags.WebListenAddresses) == 0 {
			return nil, errors.New("no --web.listen-address")
		}
		for _, addr := range *flags.WebListenAddresses {
			if strings.HasPrefix(addr, "vsock://") {
				closeAll()
				return nil, fmt.Errorf("listen address %s: vsock is not supported", addr)
			}
			l, err := net.Listen("tcp", addr)
			if err != nil {
				closeAll()
				return nil, err
			}
			ls = append(ls, l)
		}
	}
	if max > 0 {
		// One limit across all listeners: it protects the process's file
		// descriptors, which they share.
		slots := make(chan struct{}, max)
		for i, l := range ls {
			ls[i] = &limitListener{Listener: l, slots: slots, done: make(chan struct{})}
		}
	}
	return ls, nil
}

// systemdListeners returns the sockets systemd passed (LISTEN_PID,
// LISTEN_FDS; the first is descriptor 3), as go-systemd's activation
// package does.
func systemdListeners() ([]net.Listener, error) {
	defer os.Unsetenv("LISTEN_PID")
	defer os.Unsetenv("LISTEN_FDS")
	defer os.Unsetenv("LISTEN_FDNAMES")
	pid, err := strconv.Atoi(os.Getenv("LISTEN_PID"))
	if err != nil || pid != os.Getpid() {
		return nil, errors.New("--web.systemd-socket: no sockets passed by systemd (LISTEN_PID)")
	}
	n, err := strconv.Atoi(os.Getenv("LISTEN_FDS"))
	if err != nil || n < 1 {
		return nil, errors.New("--web.systemd-socket: no sockets passed by systemd (LISTEN_FDS)")
	}
	ls := make([]net.Listener, 0, n)
	for fd := 3; fd < 3+n; fd++ {
		f := os.NewFile(uintptr(fd), "LISTEN_FD_"+strconv.Itoa(fd))
		l, err := net.FileListener(f)
		f.Close() // FileListener holds its own duplicate
		if err != nil {
			for _, l := range ls {
				l.Close()
			}
			return nil, fmt.Errorf("--web.systemd-socket: descriptor %d: %w", fd, err)
		}
		ls = append(ls, l)
	}
	return ls, nil
}

// limitListener accepts a connection only while fewer than cap(slots) of
// those it accepted are open. Beyond that, Accept does not call accept(2):
// new connections wait in the kernel's backlog (and are refused by the
// kernel once it is full), so slow clients can hold at most cap(slots)
// descriptors, and the probes keep theirs.
type limitListener struct {
	net.Listener
	slots     chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

func (l *limitListener) Accept() (net.Conn, error) {
	select {
	case l.slots <- struct{}{}:
	case <-l.done:
		return nil, net.ErrClosed
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.slots
		return nil, err
	}
	return &limitConn{Conn: c, release: func() { <-l.slots }}, nil
}

func (l *limitListener) Close() error {
	err := l.Listener.Close()
	l.closeOnce.Do(func() { close(l.done) })
	return err
}

// limitConn gives its slot back once, on the first Close.
type limitConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
