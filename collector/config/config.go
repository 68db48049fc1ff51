// Package config holds the exporter's YAML schema, its defaults and its
// validation. Every error names the file, the line and the field.
package config

import (
	"net/url"
	"strings"
	"time"

	"github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
)

// Config is one loaded configuration: the main file plus every target file.
type Config struct {
	Global Global `yaml:"global"`
	// Classes is the error-class table; without a classes section it is
	// DefaultClasses(), with one it is exactly what the file lists.
	Classes []Class `yaml:"classes"`
	// Services holds what the targets of a service share: the teams their
	// per-class alerts page (owners.go).
	Services []Service `yaml:"services"`
	// Targets holds the main file's targets, then those of each target file
	// in sorted file order.
	Targets []Target `yaml:"targets"`
	// TargetFiles are globs, relative to the main file's directory, of files
	// holding a "targets:" list.
	TargetFiles []string `yaml:"target_files"`
	// FileSDConfigs and HTTPSDConfigs discover further targets in
	// Prometheus' formats; RelabelConfigs turn their labels into targets.
	FileSDConfigs  []FileSDConfig `yaml:"file_sd_configs"`
	HTTPSDConfigs  []HTTPSDConfig `yaml:"http_sd_configs"`
	RelabelConfigs RelabelConfigs `yaml:"relabel_configs"`
	// Fingerprints are user rules that tell which layer produced a 5xx
	// answer; they are tried before the built-in ones.
	Fingerprints []FingerprintRule `yaml:"fingerprints"`

	// Files lists every file the config was read from (main file first), so a
	// watcher knows what to watch. Not part of the YAML.
	Files []string `yaml:"-"`
}

// Global holds the defaults every target inherits.
type Global struct {
	Interval         model.Duration    `yaml:"interval"`
	Timeout          model.Duration    `yaml:"timeout"`
	Location         string            `yaml:"location"`
	Headers          map[string]string `yaml:"headers"`
	BodySizeLimit    ByteSize          `yaml:"body_size_limit"`
	ValidStatusCodes StatusCodes       `yaml:"valid_status_codes"`
	FollowRedirects  *bool             `yaml:"follow_redirects"`
	MaxRedirects     int               `yaml:"max_redirects"`
	// Buckets are the classic buckets of http5xx_request_duration_seconds.
	Buckets []float64 `yaml:"buckets"`
	// PhaseClassicBuckets adds classic buckets to the (native) phase histogram.
	PhaseClassicBuckets []float64 `yaml:"phase_classic_buckets"`
	// Expect are the conditions of every target that lists none itself.
	Expect []Condition `yaml:"expect"`
	// ProbePath is the probe_path of every target that writes none.
	ProbePath string `yaml:"probe_path"`
}

// The values of probe_path: auto (the default) probes a plain http://,
// HTTP/1.1, fresh-connection target without proxy, credentials or
// redirects on the lean client and every other on net/http; net/http
// forces net/http (the escape hatch).
const (
	ProbePathAuto    = "auto"
	ProbePathNetHTTP = "net/http"
)

// Class is one row of the error-class table: which codes and no-answer
// reasons belong to it and which team acts on it by default (Owner, the
// default owner: paged unless a target or its service names its own team for
// the class, see owners.go).
type Class struct {
	Name      string      `yaml:"name"`
	Codes     StatusCodes `yaml:"codes"`
	Reasons   []string    `yaml:"reasons"`
	Owner     string      `yaml:"owner"`
	FirstMove string      `yaml:"first_move"`
}

// Target is one probed URL.
type Target struct {
	Name    string `yaml:"name"`
	URL     string `yaml:"url"`
	Service string `yaml:"service"`
	// Owner is the team that owns the target as a whole: its whole-target
	// alerts (error budget burn, errors after a deploy) page it, and
	// http5xx_target_info carries it. It does not change who is paged for
	// a class (Owners).
	Owner string `yaml:"owner"`
	// Owners names, by class, the team paged for that class's alerts of
	// this target, over the service's owners and the class table's owner
	// (owners.go).
	Owners           map[string]string `yaml:"owners"`
	Method           string            `yaml:"method"`
	Headers          map[string]string `yaml:"headers"`
	Body             string            `yaml:"body"`
	Interval         model.Duration    `yaml:"interval"`
	Timeout          model.Duration    `yaml:"timeout"`
	ValidStatusCodes StatusCodes       `yaml:"valid_status_codes"`
	FollowRedirects  *bool             `yaml:"follow_redirects"`
	MaxRedirects     int               `yaml:"max_redirects"`
	KeepAlive        bool              `yaml:"keep_alive"`
	BodySizeLimit    ByteSize          `yaml:"body_size_limit"`
	TLS              config.TLSConfig  `yaml:"tls"`
	// HTTPClient holds the client settings of prometheus/common/config
	// that a target writes inline: credentials and the proxy.
	HTTPClient `yaml:",inline"`
	// RedactQueryParams names query parameters whose values are secrets,
	// added to DefaultRedactQueryParams: every label, page, JSON answer, log
	// line and CLI output shows them as xxxxx (RedactedURL).
	RedactQueryParams []string `yaml:"redact_query_params"`
	// RedirectGuard, true when unset, refuses redirect hops to cloud
	// metadata, link-local and (unless the target is loopback itself)
	// loopback addresses, checked on the address actually dialled.
	RedirectGuard *bool `yaml:"redirect_guard"`
	// HTTP2, false by default so phases mean the same on every target,
	// offers HTTP/2: by ALPN over TLS (HTTP/1.1 when the server declines),
	// with prior knowledge (h2c) over http://.
	HTTP2 bool `yaml:"http2"`
	// IPFamily is one of contract.IPFamilies: any (the default; the
	// resolver's order with a fast fallback), ip4 or ip6 (that family
	// only).
	IPFamily string `yaml:"ip_family"`
	// ProbePath is ProbePathAuto (the default, from global.probe_path) or
	// ProbePathNetHTTP, which keeps the target on net/http's client.
	ProbePath string `yaml:"probe_path"`

	// VersionHeader names a response header carrying the deployed version
	// (e.g. X-App-Version); a change records a detected deploy.
	VersionHeader string `yaml:"version_header"`
	// VersionURL and VersionField: a JSON document and the dotted path of the
	// version in it, polled alongside the probe.
	VersionURL   string `yaml:"version_url"`
	VersionField string `yaml:"version_field"`
	// Saturation is an optional source of a 0..1 saturation reading.
	Saturation *Saturation `yaml:"saturation"`
	// Expect are conditions an answer that met valid_status_codes must
	// also meet, or the probe fails with reason soft_error (expect.go).
	// Written, they replace global.expect; "expect: []" drops them.
	Expect []Condition `yaml:"expect"`
	// Labels are extra labels of the target's http5xx_target_info series
	// (labels.go), for joins such as "* on (target) group_left (team)".
	Labels map[string]string `yaml:"labels"`

	// Teams are the classes whose team is not the default owner, resolved
	// at load from Owners and the service's owners (owners.go); nil when
	// every class pages its default owner. Not YAML.
	Teams []ClassTeam `yaml:"-"`

	// File is the file the target was defined in (for messages). Not YAML.
	File string `yaml:"-"`
}

// IntervalDuration and TimeoutDuration return the effective values as time.Duration.
func (t *Target) IntervalDuration() time.Duration { return time.Duration(t.Interval) }
func (t *Target) TimeoutDuration() time.Duration  { return time.Duration(t.Timeout) }

// DefaultRedactQueryParams are the query parameters whose values are
// redacted in every URL the exporter shows, whatever the configuration says
// (a target's redact_query_params adds to them). Names match without regard
// to case.
func DefaultRedactQueryParams() []string {
	return []string{
		"api_key", "apikey", "key", "token", "access_token", "auth", "secret",
		"client_secret", "password", "passwd", "pwd", "sig", "signature",
	}
}

// redacted replaces a secret in a URL.
const redacted = "xxxxx"

// RedactedURL is the URL with any password and the values of secret query
// parameters (DefaultRedactQueryParams and redact_query_params) replaced by
// "xxxxx": the form every label, page, JSON answer, log line and CLI output
// shows.
func (t *Target) RedactedURL() string { return RedactURL(t.URL, t.RedactQueryParams) }

// RedactURL hides the password and the values of the query parameters named
// in DefaultRedactQueryParams or extra in raw. A URL that does not parse is
// cut before its query and fragment and stripped of its userinfo, since what
// it hides cannot be found.
func RedactURL(raw string, extra []string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return redactUnparsable(raw)
	}
	if u.User != nil {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), redacted)
		}
	}
	if u.RawQuery != "" {
		u.RawQuery = redactQuery(u.RawQuery, extra)
	}
	return u.String()
}

// redactUnparsable hides the password of a URL that does not parse, as
// url.URL.Redacted does for one that does, and cuts its query and fragment.
func redactUnparsable(raw string) string {
	if i := strings.IndexAny(raw, "?#"); i >= 0 {
		raw = raw[:i] + "?" + redacted
	}
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return raw
	}
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	at := strings.LastIndex(rest[:end], "@")
	if at < 0 {
		return raw
	}
	user, _, hasPassword := strings.Cut(rest[:at], ":")
	if !hasPassword {
		return raw
	}
	return scheme + "://" + user + ":" + redacted + "@" + rest[at+1:]
}

// redactQuery replaces the values of secret parameters and keeps every
// other byte of the query as written (order, encoding, repeated names).
func redactQuery(q string, extra []string) string {
	parts := strings.Split(q, "&")
	changed := false
	for i, part := range parts {
		name, _, hasValue := strings.Cut(part, "=")
		if dec, err := url.QueryUnescape(name); err == nil {
			name = dec
		}
		if hasValue && isSecretParam(name, extra) {
			parts[i] = part[:strings.IndexByte(part, '=')+1] + redacted
			changed = true
		}
	}
	if !changed {
		return q
	}
	return strings.Join(parts, "&")
}

func isSecretParam(name string, extra []string) bool {
	for _, n := range DefaultRedactQueryParams() {
		if strings.EqualFold(n, name) {
			return true
		}
	}
	for _, n := range extra {
		if strings.EqualFold(n, name) {
			return true
		}
	}
	return false
}

// GuardsRedirects reports whether redirect hops pass the redirect guard
// (redirect_guard, true when unset).
func (t *Target) GuardsRedirects() bool { return t.RedirectGuard == nil || *t.RedirectGuard }

// Follows reports whether redirects are followed (defaults already applied).
func (t *Target) Follows() bool { return t.FollowRedirects != nil && *t.FollowRedirects }

// HTTPClient is the part of prometheus/common/config's HTTPClientConfig a
// target writes inline, with the same names and types: basic_auth,
// authorization, oauth2 and the proxy settings (proxy_url, no_proxy,
// proxy_from_environment, proxy_connect_header). The rest of
// HTTPClientConfig is the target's own: tls, follow_redirects (inherited
// from global), headers and http2 (docs/design-decisions.md).
type HTTPClient struct {
	BasicAuth          *config.BasicAuth     `yaml:"basic_auth"`
	Authorization      *config.Authorization `yaml:"authorization"`
	OAuth2             *config.OAuth2        `yaml:"oauth2"`
	config.ProxyConfig `yaml:",inline"`
}

// Proxied reports whether requests may go through a proxy (proxy_url or
// proxy_from_environment).
func (c *HTTPClient) Proxied() bool {
	return c.ProxyFromEnvironment || c.ProxyURL.URL != nil && c.ProxyURL.String() != ""
}

// SetProxyURL sets proxy_url to raw, as the YAML key does.
func (c *HTTPClient) SetProxyURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	c.ProxyURL = config.URL{URL: u}
	return nil
}

// Authenticated reports whether the target sends credentials.
func (c *HTTPClient) Authenticated() bool {
	return c.BasicAuth != nil || c.Authorization != nil || c.OAuth2 != nil
}

// HTTPClientConfig is t's client settings as prometheus/common/config's
// HTTPClientConfig, for its validation.
func (t *Target) HTTPClientConfig() config.HTTPClientConfig {
	return config.HTTPClientConfig{
		BasicAuth:       t.BasicAuth,
		Authorization:   t.Authorization,
		OAuth2:          t.OAuth2,
		TLSConfig:       t.TLS,
		FollowRedirects: t.Follows(),
		ProxyConfig:     t.ProxyConfig,
	}
}

// Saturation configures where a target's saturation is read from.
type Saturation struct {
	// Type is one of contract.SaturationTypes.
	Type     string         `yaml:"type"`
	URL      string         `yaml:"url"`
	Interval model.Duration `yaml:"interval"`
	Timeout  model.Duration `yaml:"timeout"`
	// Max is the capacity the reading is divided by (for nginx:
	// worker_connections x workers; for php-fpm: taken from the status page
	// when zero).
	Max float64 `yaml:"max"`
	// Field is the dotted path of the value in a JSON document.
	Field string `yaml:"field"`
	// Metric is a series selector for the prometheus type, e.g.
	// 'busy_workers{pool="web"}'.
	Metric        string   `yaml:"metric"`
	BodySizeLimit ByteSize `yaml:"body_size_limit"`
}

// FingerprintRule maps an answer's signature to the layer that produced it.
// A rule matches when every pattern it sets matches.
type FingerprintRule struct {
	Header  string `yaml:"header"`  // header name; Match applies to its value
	Match   string `yaml:"match"`   // regexp on the header value
	Body    string `yaml:"body"`    // regexp on the first bytes of the body
	Layer   string `yaml:"layer"`   // one of contract.Layers
	Product string `yaml:"product"` // e.g. nginx, envoy, cloudflare
	// Class, when set, is the class of the answers the rule matches, by
	// name from the class table: the page proves a cause other than the
	// status code suggests.
	Class string `yaml:"class"`
}
