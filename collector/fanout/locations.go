// Package fanout asks the exporters of several locations at once: "is it
// down from everywhere, or just from here?". It reads the locations (NAME=URL),
// fetches from each exporter's /api/v1 with bounds on time and size, runs a
// URL's ad-hoc check from every location and names the verdict across them.
// `check --from`, `status --from` and the status page's checker use it.
package fanout

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/http5xx/http5xx_exporter/collector/api"
	"github.com/http5xx/http5xx_exporter/collector/fetch"
)

// Location is one exporter to ask.
type Location struct {
	Name string
	Base *url.URL // without userinfo
	user string
	pass string
	auth bool
}

// Spec says which locations to ask and how: the flags of the commands and
// of the status page's checker.
type Spec struct {
	// From are NAME=URL entries; user:password@ in the URL sets basic auth
	// for that location.
	From []string
	// File holds NAME=URL lines (# comments) or a YAML mapping NAME: URL.
	File string
	// User and PasswordFile set basic auth for the locations whose URL has
	// none; the password is the file's first line.
	User, PasswordFile string
	// CAFile verifies the exporters' certificates; Insecure skips that.
	CAFile   string
	Insecure bool
	// Several lets a location name be given more than once, for a
	// location that runs several exporters (shards, replicas).
	Several bool
}

// Used reports whether any location was given.
func (s Spec) Used() bool { return len(s.From) > 0 || s.File != "" }

// Locations reads the locations and the credentials and builds the client
// to ask them with.
func (s Spec) Locations() ([]Location, *http.Client, error) {
	var specs []string
	if s.File != "" {
		f, err := readLocationsFile(s.File)
		if err != nil {
			return nil, nil, err
		}
		specs = append(specs, f...)
	}
	specs = append(specs, s.From...)
	if len(specs) == 0 {
		return nil, nil, errors.New("no locations: give --from NAME=URL (repeatable) or --locations.file")
	}
	var pass string
	if s.PasswordFile != "" {
		b, err := os.ReadFile(s.PasswordFile)
		if err != nil {
			return nil, nil, fmt.Errorf("--auth.password-file: %w", err)
		}
		pass, _, _ = strings.Cut(string(b), "\n")
		pass = strings.TrimRight(pass, "\r")
	}
	if s.PasswordFile != "" && s.User == "" {
		return nil, nil, errors.New("--auth.password-file needs --auth.user")
	}
	locs := make([]Location, 0, len(specs))
	names := map[string]bool{}
	exporters := map[string]bool{}
	for _, spec := range specs {
		l, err := ParseLocation(spec)
		if err != nil {
			return nil, nil, err
		}
		if names[l.Name] && !s.Several {
			return nil, nil, fmt.Errorf("location %q is given twice", l.Name)
		}
		key := l.Name + "=" + l.Base.String()
		if exporters[key] {
			return nil, nil, fmt.Errorf("location %q lists %s twice", l.Name, l.Base.Redacted())
		}
		exporters[key] = true
		names[l.Name] = true
		if !l.auth && s.User != "" {
			l.user, l.pass, l.auth = s.User, pass, true
		}
		locs = append(locs, l)
	}
	tlsCfg := &tls.Config{InsecureSkipVerify: s.Insecure} //nolint:gosec // the user asked for it
	if s.CAFile != "" {
		pem, err := os.ReadFile(s.CAFile)
		if err != nil {
			return nil, nil, fmt.Errorf("--tls.ca-file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, nil, fmt.Errorf("--tls.ca-file: no PEM certificates in %s", s.CAFile)
		}
		tlsCfg.RootCAs = pool
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = tlsCfg
	// A remote that switches protocols must not hold the caller past its
	// timeout: an interim (1xx) final answer is an error, never read on.
	return locs, &http.Client{Transport: fetch.RefuseInterim(tr)}, nil
}

// ParseLocation reads NAME=URL.
func ParseLocation(spec string) (Location, error) {
	name, raw, ok := strings.Cut(spec, "=")
	name, raw = strings.TrimSpace(name), strings.TrimSpace(raw)
	if !ok || name == "" || raw == "" {
		return Location{}, fmt.Errorf("location %q: want NAME=URL", spec)
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("_-.", c)) {
			return Location{}, fmt.Errorf("location name %q: use letters, digits and _ - .", name)
		}
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return Location{}, fmt.Errorf("location %s: %q is not an http or https URL", name, raw)
	}
	l := Location{Name: name}
	if u.User != nil {
		l.user = u.User.Username()
		l.pass, _ = u.User.Password()
		l.auth = true
		u.User = nil
	}
	u.RawQuery, u.Fragment = "", ""
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawPath = ""
	l.Base = u
	return l, nil
}

// readLocationsFile reads NAME=URL lines (# comments) or a YAML mapping of
// NAME: URL or NAME: [URL, ...] (a location's exporters: shards, replicas).
func readLocationsFile(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--locations.file: %w", err)
	}
	var doc yaml.Node
	if yaml.Unmarshal(b, &doc) == nil && len(doc.Content) == 1 && doc.Content[0].Kind == yaml.MappingNode {
		m := doc.Content[0]
		var specs []string
		for i := 0; i+1 < len(m.Content); i += 2 {
			k, v := m.Content[i], m.Content[i+1]
			urls := []*yaml.Node{v}
			if v.Kind == yaml.SequenceNode { // a location's exporters: shards, replicas
				urls = v.Content
			}
			for _, u := range urls {
				if k.Kind != yaml.ScalarNode || u.Kind != yaml.ScalarNode {
					return nil, fmt.Errorf("%s:%d: want NAME: URL or NAME: [URL, ...]", path, k.Line)
				}
				specs = append(specs, k.Value+"="+u.Value)
			}
		}
		return specs, nil
	}
	var specs []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if !strings.Contains(line, "=") {
			return nil, fmt.Errorf("%s:%d: want NAME=URL, got %q", path, n, line)
		}
		specs = append(specs, line)
	}
	return specs, sc.Err()
}

// Get fetches path (with query) from the location and decodes the data of
// its api envelope into out, reading at most limit bytes. An error
// envelope, or an answer that is not an envelope, is a *RemoteError.
// Every error names the endpoint asked (without the query).
func (l *Location) Get(ctx context.Context, client *http.Client, path string, query url.Values, limit int64, out any) error {
	u := *l.Base
	u.Path += path
	endpoint := u.Redacted()
	u.RawQuery = query.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	if l.auth {
		req.SetBasicAuth(l.user, l.pass)
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return fmt.Errorf("reading the answer of %s: %w", endpoint, err)
	}
	if int64(len(body)) > limit {
		return fmt.Errorf("the answer of %s is over %d bytes", endpoint, limit)
	}
	return Decode(endpoint, resp.StatusCode, resp.Header.Get("Retry-After"), body, out)
}

// Decode decodes another exporter's answer (its status code, Retry-After
// and body) into out. It trusts nothing in it: the fuzz targets of the
// commands feed it any bytes.
func Decode(endpoint string, code int, retryAfter string, body []byte, out any) error {
	if _, err := api.Decode(code, body, out); err != nil {
		var ae *api.Error
		if errors.As(err, &ae) {
			return &RemoteError{Endpoint: endpoint, Answer: ae, RetryAfter: retryAfterOf(retryAfter)}
		}
		return fmt.Errorf("%s: %w", endpoint, err)
	}
	return nil
}

// RemoteError is an answer of another exporter without data: its error
// envelope, or whatever else answered.
type RemoteError struct {
	Endpoint   string
	Answer     *api.Error
	RetryAfter time.Duration // of a 429
}

func (e *RemoteError) Error() string { return e.Endpoint + ": " + e.Answer.Error() }

// retryAfterOf reads a Retry-After of whole seconds, bounded to a minute.
func retryAfterOf(v string) time.Duration {
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return time.Second
	}
	return min(time.Duration(n)*time.Second, time.Minute)
}
