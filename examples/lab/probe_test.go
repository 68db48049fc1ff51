//go:build lab

package lab

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/common/model"

	"github.com/http5xx/http5xx_exporter/collector/config"
	"github.com/http5xx/http5xx_exporter/collector/probe"
	"github.com/http5xx/http5xx_exporter/collector/triage"
)

// probe sends one scenario's request with the exporter's own prober and
// default triage, through a loopback relay that keeps every byte the front
// product sent for the golden fixture. It returns the answer as it came off
// the wire and the exporter's finished result.
func (l *lab) probe(sc scenario, method, path string) (answer, probe.Result, error) {
	front := fmt.Sprintf("127.0.0.1:%d", l.ports[sc.Front])
	r, err := newRelay(front)
	if err != nil {
		return answer{}, probe.Result{}, err
	}
	defer r.close()

	t := config.NewTarget(sc.Name, "http://"+r.addr()+path)
	t.Method = method
	t.Timeout, t.Interval = model.Duration(requestTimeout), model.Duration(requestTimeout)
	// The products see the Host they were configured for, as a direct
	// request would send it; the scenario name finds the request in the logs.
	t.Headers = map[string]string{"Host": front, "X-Lab-Scenario": sc.Name}
	noFollow := false
	t.FollowRedirects = &noFollow
	p, err := probe.New(&t, probe.Options{Version: "lab", Finisher: triage.Default()})
	if err != nil {
		return answer{}, probe.Result{}, err
	}
	defer p.Close()
	res := p.Probe(context.Background())
	if res.Reason != 0 {
		return answer{}, res, fmt.Errorf("%s %s: no answer (%s): %v", method, path, res.Reason, res.Err)
	}
	raw := r.received(requestTimeout)
	a, err := parseHead(raw)
	if err != nil {
		return answer{}, res, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if err := samePaths(t, res, raw); err != nil {
		return answer{}, res, fmt.Errorf("%s %s: %w", method, path, err)
	}
	a.code, a.header = res.StatusCode, res.Header
	a.body = res.BodyPrefix
	a.truncated = res.BodyBytes > int64(len(res.BodyPrefix))
	return a, res, nil
}

// relay forwards one connection to a target address and records what the
// target sends back.
type relay struct {
	ln     net.Listener
	target string
	done   chan struct{}

	mu  sync.Mutex
	buf []byte
}

func newRelay(target string) (*relay, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &relay{ln: ln, target: target, done: make(chan struct{})}
	go r.serve()
	return r, nil
}

func (r *relay) addr() string { return r.ln.Addr().String() }

func (r *relay) serve() {
	defer close(r.done)
	r.ln.(*net.TCPListener).SetDeadline(time.Now().Add(requestTimeout))
	in, err := r.ln.Accept()
	if err != nil {
		return
	}
	defer in.Close()
	out, err := net.DialTimeout("tcp", r.target, 2*time.Second)
	if err != nil {
		return
	}
	defer out.Close()
	deadline := time.Now().Add(requestTimeout)
	in.SetDeadline(deadline)
	out.SetDeadline(deadline)
	go func() {
		io.Copy(out, in) // the request; ends when the prober closes
		out.(*net.TCPConn).CloseWrite()
	}()
	b := make([]byte, 32<<10)
	for {
		n, err := out.Read(b)
		if n > 0 {
			r.mu.Lock()
			r.buf = append(r.buf, b[:n]...)
			r.mu.Unlock()
			if _, werr := in.Write(b[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// received waits (at most d) for the exchange to end and returns what the
// target sent.
func (r *relay) received(d time.Duration) []byte {
	select {
	case <-r.done:
	case <-time.After(d):
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]byte(nil), r.buf...)
}

func (r *relay) close() {
	r.ln.Close()
	<-r.done
}

// samePaths replays the product's answer (raw, as it came off the wire)
// to the lean probe path and to net/http's, from a loopback server that
// reads the request, sends raw and closes, and wants the verdict of both
// to be the one the probe of the product got (lean, by default): code,
// reason, class, owner, layer, product, cause and body bytes.
func samePaths(t config.Target, got probe.Result, raw []byte) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(requestTimeout))
				if req, err := http.ReadRequest(bufio.NewReader(c)); err == nil {
					io.Copy(io.Discard, req.Body)
					c.Write(raw)
				}
			}()
		}
	}()
	t.URL = "http://" + ln.Addr().String() + "/"
	for _, path := range []string{config.ProbePathAuto, config.ProbePathNetHTTP} {
		t.ProbePath = path
		p, err := probe.New(&t, probe.Options{Version: "lab", Finisher: triage.Default()})
		if err != nil {
			return err
		}
		res := p.Probe(context.Background())
		p.Close()
		type verdict struct {
			code                                int
			reason                              string
			class, owner, layer, product, cause string
			body                                int64
		}
		of := func(r probe.Result) verdict {
			return verdict{r.StatusCode, r.Reason.String(), r.Class, r.Owner, r.Layer, r.Product, r.Cause, r.BodyBytes}
		}
		if of(res) != of(got) {
			return fmt.Errorf("replayed on the %s path (%s): %+v, the probe of the product: %+v", path, res.Conn.Path, of(res), of(got))
		}
	}
	return nil
}
