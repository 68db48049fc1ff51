package saturation

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/model"

	"github.com/http5xx/http5xx_exporter/collector/config"
	"github.com/http5xx/http5xx_exporter/collector/contract"
	"github.com/http5xx/http5xx_exporter/collector/probe"
	"github.com/http5xx/http5xx_exporter/examples/loopback"
)

// rawServer accepts connections on loopback and hands each to handle after
// reading the request head; connections still open end with the test.
func rawServer(t *testing.T, handle func(c *net.TCPConn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				_ = c.SetDeadline(time.Now().Add(10 * time.Second))
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadString('\n')
					if err != nil || line == "\r\n" {
						break
					}
				}
				handle(c.(*net.TCPConn))
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return "http://" + ln.Addr().String()
}

// refusedAddr is a loopback address that refuses connections until the
// test ends (examples/loopback).
func refusedAddr(t *testing.T) string { return loopback.Refused(t) }

// Every way a reading fails on a real socket has its reason, and only the
// ways a full server fails count as saturation while the target fails.
func TestReadingReasons(t *testing.T) {
	o := newOrigin(t)
	answer := func(code int) string {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, http.StatusText(code), code)
		}))
		t.Cleanup(srv.Close)
		return srv.URL
	}
	reset := rawServer(t, func(c *net.TCPConn) {
		_ = c.SetLinger(0) // RST, as a server that drops a connection it cannot serve
		c.Close()
	})
	hangUp := rawServer(t, func(c *net.TCPConn) { c.Close() })
	silent := rawServer(t, func(c *net.TCPConn) { _, _ = io.Copy(io.Discard, c) }) // until the reader gives up
	tests := []struct {
		name string
		url  string
		typ  string
		want contract.SaturationReason
	}{
		{"nothing listens", "http://" + refusedAddr(t) + "/nginx_status", contract.SaturationNginx, contract.SaturationRefused},
		{"connection reset", reset + "/nginx_status", contract.SaturationNginx, contract.SaturationReset},
		{"closed without an answer", hangUp + "/nginx_status", contract.SaturationNginx, contract.SaturationReset},
		{"no answer in time", silent + "/nginx_status", contract.SaturationNginx, contract.SaturationTimeout},
		{"502 from a proxy", answer(502) + "/fpm-status", contract.SaturationPHPFPM, contract.SaturationGateway},
		{"503 from a proxy", answer(503) + "/fpm-status", contract.SaturationPHPFPM, contract.SaturationGateway},
		{"504 from a proxy", answer(504) + "/fpm-status", contract.SaturationPHPFPM, contract.SaturationGateway},
		{"404", answer(404) + "/fpm-status", contract.SaturationPHPFPM, contract.SaturationStatus},
		{"500", answer(500) + "/fpm-status", contract.SaturationPHPFPM, contract.SaturationStatus},
		{"body over the limit", o.URL + "/huge", contract.SaturationPrometheus, contract.SaturationTooLarge},
		{"not the source's document", o.URL + "/garbage", contract.SaturationNginx, contract.SaturationUnparsable},
		{"TLS to a plain HTTP server", "https" + strings.TrimPrefix(o.URL, "http") + "/nginx_status", contract.SaturationNginx, contract.SaturationOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := NewManager(Options{}) // not closed: its poller never runs
			// Only the case that tests the timeout may reach it; the others
			// get longer than any loaded machine needs to answer.
			timeout := 30 * time.Second
			if tt.want == contract.SaturationTimeout {
				timeout = 300 * time.Millisecond
			}
			tg := target("t", tt.typ, tt.url, func(s *config.Saturation) {
				s.Timeout = model.Duration(timeout)
				s.BodySizeLimit = 64 << 10
			})
			p := m.newPoller(specOf(tg))
			defer p.client.Close()
			defer p.cancel()
			m.pollers["t"] = p
			r := p.read()
			if r.err == nil || r.reason != tt.want {
				t.Fatalf("reason %q (%v), want %q", r.reason, r.err, tt.want)
			}
			// Healthy target: a failed reading is a gap. Failing target:
			// full when the source failed as a full server fails.
			m.record(p, r)
			if _, _, ok := m.Get("t"); ok {
				t.Error("a failed reading exported a ratio while the target is healthy")
			}
			m.Observe(tg, &probe.Result{Target: "t", Success: false})
			ratio, _, ok := m.Get("t")
			if wantFull := busy(tt.want); ok != wantFull || (ok && ratio != 1) {
				t.Errorf("target failing: ratio %v, %v; want saturated %v", ratio, ok, wantFull)
			}
		})
	}
}
