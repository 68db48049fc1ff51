package fetch

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/http5xx/http5xx_exporter/collector/config"
)

// switchingServer answers every request with 101 Switching Protocols and
// then keeps the switched connection open and silent until the test ends
// (cleanup closes it).
func switchingServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				if req, err := http.ReadRequest(bufio.NewReader(c)); err == nil {
					req.Body.Close()
				}
				io.WriteString(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
				<-done
			}()
		}
	}()
	t.Cleanup(func() { ln.Close(); close(done); wg.Wait() })
	return "http://" + ln.Addr().String()
}

// patientTimeout is longer than any answer on a loaded machine takes: a call
// with it that ends in anything but a timeout was ended by a refusal or a
// limit, not by its deadline.
const patientTimeout = 30 * time.Second

// TestHostileFetchSwitchingProtocols: version detection and saturation
// fetches refuse a protocol switch at once instead of reading the switched
// connection, which stays silent until the test ends.
func TestHostileFetchSwitchingProtocols(t *testing.T) {
	url := switchingServer(t)
	c := newClient(t, &config.Target{Name: "web"}, Options{})
	err := returns(t, "Get", func() error {
		_, err := c.Get(context.Background(), Request{URL: url + "/version", Timeout: patientTimeout, Limit: 1 << 10})
		return err
	})
	var ie *InterimError
	if !errors.As(err, &ie) || ie.Code != http.StatusSwitchingProtocols {
		t.Errorf("err = %v, want an *InterimError for 101", err)
	}
}

// TestHostileBoundedClient: the client the CLI's remote calls use refuses a
// protocol switch and bounds a body that never ends. Both peers hold on
// until the test ends, so the error's kind says what ended each call.
func TestHostileBoundedClient(t *testing.T) {
	get := func(client *http.Client, url string) error {
		defer client.CloseIdleConnections()
		resp, err := client.Get(url)
		if err == nil {
			_, err = ReadLimited(resp.Body, 1<<20)
			resp.Body.Close()
		}
		return err
	}
	url := switchingServer(t)
	patient := BoundedClient(http.DefaultTransport.(*http.Transport).Clone(), patientTimeout, nil)
	err := returns(t, "the switched call", func() error { return get(patient, url+"/api/v1/status") })
	var ie *InterimError
	if !errors.As(err, &ie) {
		t.Errorf("err = %v, want an *InterimError", err)
	}

	// A body that trickles for ever is cut by the client's timeout.
	trickle := newTrickleServer(t)
	const timeout = 500 * time.Millisecond
	bounded := BoundedClient(http.DefaultTransport.(*http.Transport).Clone(), timeout, nil)
	start := time.Now()
	err = returns(t, "the trickling call", func() error { return get(bounded, trickle) })
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("trickling body: err %v, want the client's timeout", err)
	}
	if took := time.Since(start); took < timeout {
		t.Errorf("trickling body: ended after %v, before the %v timeout", took, timeout)
	}
}

func newTrickleServer(t *testing.T) string {
	t.Helper()
	rec := newRecorder(t, "")
	rec.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for { // until the client gives up
			if _, err := io.WriteString(w, "x"); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	})
	return rec.URL
}

// TestRedactError: an http.Client error names its URL; the redacted one
// carries no password and no secret parameter.
func TestRedactError(t *testing.T) {
	c := newClient(t, &config.Target{Name: "web", RedactQueryParams: []string{"session"}}, Options{})
	_, err := c.Get(context.Background(), Request{URL: "http://user:hunter2@127.0.0.1:1/v?api_key=s3cr3t&session=abc&page=2", Timeout: time.Second, Limit: 1})
	if err == nil {
		t.Fatal("no error from a closed port")
	}
	for _, secret := range []string{"hunter2", "s3cr3t", "abc"} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error %q shows %s", err, secret)
		}
	}
	if !strings.Contains(err.Error(), "page=2") {
		t.Errorf("error %q lost the parameters that are no secret", err)
	}
}
