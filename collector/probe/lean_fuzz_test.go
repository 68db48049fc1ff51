package probe

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"

	"github.com/http5xx/http5xx_exporter/collector/contract"
)

// pipeServer is a dial that connects to an in-memory server (net.Pipe, so
// a fuzz run opens no socket) which reads the request, answers raw and
// closes.
func pipeServer(raw []byte) func(context.Context, string, string) (net.Conn, error) {
	return func(context.Context, string, string) (net.Conn, error) {
		client, server := net.Pipe()
		go func() {
			defer server.Close()
			br := bufio.NewReader(server)
			req, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			io.Copy(io.Discard, req.Body)
			server.Write(raw)
		}()
		return client, nil
	}
}

// FuzzLeanResponse feeds arbitrary answers to both paths and wants the same
// verdict from the lean client's reading as from net/http's transport:
// reason, code, phrase, class, headers, body bytes and prefix. The answers
// end (the server closes), so no input waits for the deadline.
func FuzzLeanResponse(f *testing.F) {
	for _, seed := range []string{
		"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
		"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 30\r\nContent-Length: 5\r\n\r\nbusy\n",
		"HTTP/1.0 502 Bad Gateway\r\n\r\nuntil the end",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n0\r\nX-Trailer: 1\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 9\r\n\r\n2\r\nok\r\n0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 7\r\n\r\nabcdefg",
		"HTTP/1.1 503 x\r\nX-Folded: a\r\n b\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 500 Internal Server Error\r\nContent-Length: 1\r\n\r\nx",
		"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n",
		"HTTP/1.1 099 Odd\r\n\r\n",
		"HTTP/1.1 204 No Content\r\n\r\nstray",
		"HTTP/1.1 404 Not Found\nContent-Length: 3\n\nno\n",
		"SSH-2.0-OpenSSH_9.6\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		tgt := testTarget("http://127.0.0.1/")
		tgt.Timeout = model.Duration(patientTimeout)
		tgt.BodySizeLimit = 4096
		lean, std := bothPaths(t, tgt)
		l := *lean.lean
		l.dial = pipeServer(raw)
		lean.lean = &l
		std.transport.DialContext = pipeServer(raw)

		start := time.Now()
		a := lean.Probe(context.Background())
		if a.Reason == contract.ReasonTimeout {
			t.Fatalf("lean: timeout after %v on an answer that ends: %v", time.Since(start), a.Err)
		}
		b := std.Probe(context.Background())
		if d := sameVerdict(&a, &b, false); d != "" {
			t.Fatalf("lean and net/http disagree on %q: %s\n lean:     %v\n net/http: %v", raw, d, a.Err, b.Err)
		}
		if a.BodyBytes > int64(tgt.BodySizeLimit) || len(a.Phrase) > maxPhrase || !strings.HasPrefix(a.Conn.Path, PathLean) {
			t.Fatalf("out of bounds: %d body bytes, phrase %q, path %q", a.BodyBytes, a.Phrase, a.Conn.Path)
		}
	})
}
