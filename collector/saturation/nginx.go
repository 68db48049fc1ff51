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
// worker_connections limits every connection a worker holds, client and
// upstream alike, but stub_status counts client connections only: Active
// is Reading + Writing + Waiting, idle keep-alive ones included. A proxied
// request in flight is a Writing request and holds one upstream connection
// besides its client connection, so the slots in use are estimated as
//
//	Active + (Writing - 1)
//
// where the 1 is the status request itself (always Writing, proxied
// nowhere). Writing requests that proxy nothing (static files, return)
// count twice, so the estimate errs towards full; the worker's own slots
// (one per listening socket, one for the channel to the master) and
// keep-alive upstream connections (upstream { keepalive N; }) are not on
// the page. max is worker_connections x worker_processes.
// docs: collector/saturation/README.md, "nginx: what worker_connections counts".
type nginxSource struct{ max float64 }

func (nginxSource) accept() string { return "text/plain" }

// stubStatus is the part of the page the ratio needs.
type stubStatus struct {
	active, reading, writing, waiting uint64
}

// inUse estimates the worker_connections slots in use.
func (s stubStatus) inUse() uint64 {
	upstream := s.writing
	if upstream > 0 {
		upstream-- // the status request itself
	}
	return s.active + upstream
}

func (s nginxSource) ratio(body []byte) (float64, error) {
	st, err := parseStubStatus(body)
	if err != nil {
		return 0, err
	}
	return divide("connections in use", float64(st.inUse()), s.max)
}

func parseStubStatus(body []byte) (stubStatus, error) {
	var st stubStatus
	var haveActive, haveStates bool
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if v, ok := strings.CutPrefix(line, "Active connections:"); ok {
			n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
			if err != nil {
				return st, fmt.Errorf("stub_status: active connections %q is not a count", strings.TrimSpace(v))
			}
			st.active, haveActive = n, true
			continue
		}
		if strings.HasPrefix(line, "Reading:") {
			// Reading: 6 Writing: 179 Waiting: 106
			f := strings.Fields(line)
			if len(f) != 6 || f[2] != "Writing:" || f[4] != "Waiting:" {
				return st, fmt.Errorf("stub_status: %q is not \"Reading: N Writing: N Waiting: N\"", line)
			}
			for i, dst := range []*uint64{&st.reading, &st.writing, &st.waiting} {
				n, err := strconv.ParseUint(f[2*i+1], 10, 64)
				if err != nil {
					return st, fmt.Errorf("stub_status: %s %q is not a count", strings.TrimSuffix(f[2*i], ":"), f[2*i+1])
				}
				*dst = n
			}
			haveStates = true
		}
	}
	if err := sc.Err(); err != nil {
		return st, fmt.Errorf("stub_status: %w", err)
	}
	if !haveActive {
		return st, errors.New("stub_status: no \"Active connections:\" line, is the URL a stub_status location?")
	}
	if !haveStates {
		return st, errors.New("stub_status: no \"Reading: Writing: Waiting:\" line, is the URL a stub_status location?")
	}
	return st, nil
}
