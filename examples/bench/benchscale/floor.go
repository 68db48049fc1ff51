package main

import (
	"context"
	"flag"
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// floor is the physical floor of a probe: the same fresh-connection GETs at
// the same rate as the other systems, made with raw blocking syscalls
// (socket, connect, write, read until the origin closes, close) on a few
// workers that each keep one OS thread. No netpoller, no goroutine per
// probe, no parser, no allocation per probe: its CPU per probe is what the
// kernel spends on a fresh loopback connection plus the least user space a
// client can do. Its counts are on /stats, as bare's.
func floor(args []string) int {
	fs := flag.NewFlagSet("floor", flag.ExitOnError)
	n := fs.Int("targets", 1000, "targets")
	interval := fs.Duration("interval", 15*time.Second, "interval")
	listen := fs.String("listen", "127.0.0.1:0", "where /stats answers")
	origins := fs.String("origins", "", "comma-separated origin base URLs (http://IPv4:port)")
	workers := fs.Int("workers", 8, "workers, one OS thread each")
	limit := fs.Duration("for", 30*time.Minute, "stop after this long")
	_ = fs.Parse(args)
	var addrs []*syscall.SockaddrInet4
	var hosts []string
	for _, o := range strings.Split(*origins, ",") {
		u, err := url.Parse(o)
		if err != nil {
			fmt.Fprintln(os.Stderr, "floor:", err)
			return 2
		}
		ap, err := netip.ParseAddrPort(u.Host)
		if err != nil || !ap.Addr().Is4() {
			fmt.Fprintf(os.Stderr, "floor: origin %q: want http://IPv4:port\n", o)
			return 2
		}
		addrs = append(addrs, &syscall.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()})
		hosts = append(hosts, u.Host)
	}
	if *n <= 0 || *workers <= 0 || len(addrs) == 0 {
		fmt.Fprintln(os.Stderr, "floor: need targets, workers and origins")
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), *limit)
	defer cancel()
	var probes, failed atomic.Int64
	every := *interval / time.Duration(*n)
	start := time.Now()
	var wg sync.WaitGroup
	for w := range *workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// The worker owns its thread: its blocking syscalls park the
			// thread in the kernel, not a goroutine in the netpoller.
			runtime.LockOSThread()
			req := make([]byte, 0, 256)
			buf := make([]byte, 4<<10)
			// Slot k of the whole schedule is target k mod n at start +
			// k×every; this worker takes every workers-th slot.
			for k := w; ctx.Err() == nil; k += *workers {
				if wait := time.Until(start.Add(time.Duration(k) * every)); wait > 0 {
					ts := syscall.NsecToTimespec(int64(wait))
					_ = syscall.Nanosleep(&ts, nil)
				}
				i := k % *n
				o := i % len(addrs)
				req = append(req[:0], "GET /t"...)
				req = strconv.AppendInt(req, int64(i), 10)
				req = append(req, " HTTP/1.1\r\nHost: "...)
				req = append(req, hosts[o]...)
				req = append(req, "\r\nUser-Agent: benchscale-floor\r\nConnection: close\r\n\r\n"...)
				if !floorGet(addrs[o], req, buf) {
					failed.Add(1)
				}
				probes.Add(1)
			}
		}()
	}
	serveStats(ctx, *listen, func() map[string]int64 {
		return map[string]int64{"Probes": probes.Load(), "Skips": 0, "Failed": failed.Load(), "Goroutines": int64(runtimeGoroutines())}
	})
	cancel()
	// Workers blocked on a dead origin would never return; the process
	// ends with main whatever they do.
	return 0
}

// floorGet makes one GET on a fresh blocking connection: it reports whether
// the answer began "HTTP/1.1 200" and arrived whole (the origin closed).
func floorGet(sa *syscall.SockaddrInet4, req, buf []byte) bool {
	return floorExchange(sa, req, func(fd int) bool { return floorUntilClose(fd, buf) })
}

// floorUntilClose reads fd until the origin closes: whether the answer
// began "HTTP/1.1 200".
func floorUntilClose(fd int, buf []byte) bool {
	ok, seen := false, 0
	// Bounded: the origin closes after its answer (keepalive_timeout 0).
	for range 1 << 16 {
		m, err := syscall.Read(fd, buf)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return false
		}
		if m == 0 {
			return ok
		}
		if seen == 0 {
			ok = m >= 12 && string(buf[:12]) == "HTTP/1.1 200"
		}
		seen += m
	}
	return false
}

// floorExchange opens a fresh blocking connection to sa, writes req on it
// and, when the request went out whole, reports what read makes of the
// answer; the connection is closed after.
func floorExchange(sa *syscall.SockaddrInet4, req []byte, read func(fd int) bool) bool {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return false
	}
	defer syscall.Close(fd)
	if err := syscall.Connect(fd, sa); err != nil {
		return false
	}
	if m, err := syscall.Write(fd, req); err != nil || m != len(req) {
		return false
	}
	return read(fd)
}
