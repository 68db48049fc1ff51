//go:build lab

package lab

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The Go origins behind the products. Each serves its own listener and
// stops with the test; every connection has a deadline.

// originHold bounds how long an origin holds a connection it never answers.
const originHold = 20 * time.Second

// serveHTTP runs h on ln until the test ends.
func serveHTTP(t *testing.T, ln net.Listener, h http.HandlerFunc) {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
}

// appError answers 500 with the application's own JSON error body.
func appError(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusInternalServerError)
	io.WriteString(w, `{"error":"internal","detail":"lab origin: unexpected condition"}`+"\n")
}

// appMaintenance answers 503 with Retry-After and the site's own page.
func appMaintenance(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Retry-After", "120")
	w.WriteHeader(http.StatusServiceUnavailable)
	io.WriteString(w, "<!DOCTYPE html>\n<html><head><title>Maintenance</title></head>\n<body><h1>We'll be back soon</h1><p>The shop is being updated.</p></body></html>\n")
}

func appOK(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(w, "ok\n")
}

// tcpOrigin is a raw TCP origin: after reading the request head it does
// what its behaviour says. inflight counts the connections it holds.
type tcpOrigin struct {
	ln       net.Listener
	behave   func(c net.Conn)
	inflight atomic.Int64
	mu       sync.Mutex
	conns    map[net.Conn]struct{}
}

func serveTCP(t *testing.T, ln net.Listener, behave func(c net.Conn)) *tcpOrigin {
	o := &tcpOrigin{ln: ln, behave: behave, conns: map[net.Conn]struct{}{}}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			o.mu.Lock()
			o.conns[c] = struct{}{}
			o.mu.Unlock()
			go o.handle(c)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		o.mu.Lock()
		for c := range o.conns {
			c.Close()
		}
		o.mu.Unlock()
	})
	return o
}

func (o *tcpOrigin) handle(c net.Conn) {
	o.inflight.Add(1)
	defer func() {
		o.inflight.Add(-1)
		c.Close()
		o.mu.Lock()
		delete(o.conns, c)
		o.mu.Unlock()
	}()
	c.SetDeadline(time.Now().Add(originHold))
	// The request head: up to the blank line (the lab sends no bodies).
	r := bufio.NewReader(c)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		if line == "\r\n" || line == "\n" {
			break
		}
	}
	o.behave(c)
}

// hang never answers: it holds the connection until the proxy gives up.
func hang(c net.Conn) {
	io.Copy(io.Discard, c)
}

// garbage is a backend that prints debug output among its headers: a
// status line, then a header line without a colon. (Bytes that are not
// HTTP at all, an SSH banner, are taken for an HTTP/0.9 answer: nginx
// relays them as they are and Apache answers 200.)
func garbage(c net.Conn) {
	io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\ncache miss for user 42, querying the database\r\n\r\n<p>ok</p>\n")
}

// hangUp is a backend that crashes mid-request: it closes the connection
// without a byte.
func hangUp(net.Conn) {}
