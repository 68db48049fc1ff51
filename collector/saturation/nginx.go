package saturation

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// nginxSource reads ngx_http_stub_status_module's page:
//
//	Active connections: 291
//	server accepts handled requests
//	 16630948 16630948 31070465
//	Reading: 6 Writing: 179 Waiting: 106
//
// Every open connection, idle keep-alive ones included, holds one of the
// worker_connections slots, so the ratio is active connections / max, where
// max is worker_connections x worker_processes.
type nginxSource struct{ max float64 }

func (nginxSource) accept() string { return "text/plain" }

func (s nginxSource) ratio(body []byte) (float64, error) {
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		v, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "Active connections:")
		if !ok {
			continue
		}
		n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("stub_status: active connections %q is not a count", strings.TrimSpace(v))
		}
		return divide("active connections", float64(n), s.max)
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("stub_status: %w", err)
	}
	return 0, errors.New("stub_status: no \"Active connections:\" line, is the URL a stub_status location?")
}
