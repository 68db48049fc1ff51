package contract

// Every label value the exporter emits that is not free text (target,
// service, code, class and owner come from the configuration) is declared
// here once; config validation, the prober, the fingerprints, the scheduler
// and the saturation sources all read it from this file.

// Reason says why a probe got no (complete) HTTP answer: the reason label of
// http5xx_failures_total. ReasonNone means the probe got one.
type Reason uint8

// The no-answer reasons, in the order of the metric contract.
const (
	ReasonNone           Reason = iota
	ReasonDNS                   // the name did not resolve
	ReasonConnectRefused        // the host or network refused the connection
	ReasonConnectTimeout        // no connection (TCP or TLS) within the timeout
	ReasonTLS                   // the TLS handshake failed
	ReasonTimeout               // connected, but no complete answer within the timeout
	ReasonReset                 // the peer closed or reset the connection
	ReasonMalformed             // the answer was not valid HTTP
	ReasonTooLarge              // headers or body over the configured limit
	ReasonRedirectLoop          // the redirect policy refused the next hop
	// ReasonRedirectRefused: a redirect of the target led to a cloud
	// metadata, link-local or (from a target that is not loopback itself)
	// loopback address, which the redirect guard refuses at dial time.
	ReasonRedirectRefused
	// ReasonSoftError: an answer that met valid_status_codes but failed one
	// of the target's expect conditions, or a 2xx whose page the built-in
	// fingerprints prove to be an error page (docs/architecture.md, "Soft
	// errors"). The status code is kept; the answer counts as a failure.
	ReasonSoftError
	// ReasonExporter: the exporter itself was short of file descriptors,
	// memory or concurrency, or could not get the target's credentials
	// (fetch.ErrCredentials); nothing is known about the target. It belongs
	// to no class and pages no owner (ParseReason refuses it): the metrics
	// count it as a skipped probe (SkipExporter), not as a failure.
	ReasonExporter
	NumReasons
)

var reasonNames = [NumReasons]string{"", "dns", "connect_refused", "connect_timeout", "tls", "timeout", "reset", "malformed", "too_large", "redirect_loop", "redirect_refused", "soft_error", "exporter"}

// String is the label value; "" for ReasonNone, "unknown" out of range.
func (r Reason) String() string {
	if r >= NumReasons {
		return "unknown"
	}
	return reasonNames[r]
}

// ParseReason returns the Reason named s, and false when s names none or
// names ReasonExporter: it reads the reasons of a class table, and the
// exporter's own failure is never a target's class.
func ParseReason(s string) (Reason, bool) {
	for r := ReasonDNS; r < ReasonExporter; r++ {
		if reasonNames[r] == s {
			return r, true
		}
	}
	return ReasonNone, false
}

// Reasons returns every no-answer reason (not ReasonNone), in order,
// ReasonExporter included: the values of the reason label.
func Reasons() []Reason {
	rs := make([]Reason, 0, NumReasons-1)
	for r := ReasonDNS; r < NumReasons; r++ {
		rs = append(rs, r)
	}
	return rs
}

// ReasonNames returns the names a class table may list: every reason but
// ReasonExporter, in order.
func ReasonNames() []string { return append([]string(nil), reasonNames[ReasonDNS:ReasonExporter]...) }

// Phase is one step of an HTTP exchange: the phase label of
// http5xx_phase_duration_seconds.
type Phase uint8

// The phases, in the order they happen.
const (
	PhaseResolve    Phase = iota // DNS lookup
	PhaseConnect                 // TCP connect
	PhaseTLS                     // TLS handshake
	PhaseProcessing              // request written until the first response byte
	PhaseTransfer                // first byte until the body was read (or the limit)
	NumPhases
)

var phaseNames = [NumPhases]string{"resolve", "connect", "tls", "processing", "transfer"}

// String is the label value; "unknown" out of range.
func (p Phase) String() string {
	if p >= NumPhases {
		return "unknown"
	}
	return phaseNames[p]
}

// The layers of the request path a 5xx answer is attributed to (the layer
// label of http5xx_error_layer_total), from the client inwards, and the
// verdict when the evidence does not say.
const (
	LayerCDN          = "cdn"
	LayerLoadBalancer = "load_balancer"
	LayerProxy        = "proxy"
	LayerOrigin       = "origin"
	LayerUnknown      = "unknown"
)

// Layers returns every layer value; a fingerprint rule may name any of them.
func Layers() []string {
	return []string{LayerCDN, LayerLoadBalancer, LayerProxy, LayerOrigin, LayerUnknown}
}

// ProductUnknown is the product label of answers no fingerprint recognises.
const ProductUnknown = "unknown"

// SkipReason says why a probe slot was not used: the reason label of
// http5xx_skipped_probes_total.
type SkipReason string

// The skip reasons.
const (
	SkipOverlap SkipReason = "overlap" // the previous probe of the target still runs
	// SkipLimit: the in-flight limit (--probe.max-concurrent) stayed full
	// for half the target's interval.
	SkipLimit SkipReason = "limit"
	// SkipShutdown: the exporter stopped while the slot waited for the limit.
	SkipShutdown SkipReason = "shutdown"
	// SkipExporter: the probe ran out of the exporter's own resources (file
	// descriptors, memory, local ports) or, on demand, the in-flight limit
	// stayed full for the target's timeout: a probe with ReasonExporter.
	SkipExporter SkipReason = "exporter"
)

// SaturationSource is one saturation source type (the source label of
// http5xx_saturation_ratio) and the settings it needs besides url.
type SaturationSource struct {
	Type string
	// NeedsMax: the reading is divided by the configured max; without it the
	// source reports its own capacity.
	NeedsMax bool
	// Field and Metric: the type requires a dotted JSON path (field) or a
	// series selector (metric).
	Field  bool
	Metric bool
}

// The saturation source types.
const (
	SaturationNginx      = "nginx_stub_status"
	SaturationPHPFPM     = "php_fpm_status"
	SaturationJSON       = "json"
	SaturationPrometheus = "prometheus"
)

// SaturationSources returns every source type with what it needs.
func SaturationSources() []SaturationSource {
	return []SaturationSource{
		{Type: SaturationNginx, NeedsMax: true},
		{Type: SaturationPHPFPM},
		{Type: SaturationJSON, NeedsMax: true, Field: true},
		{Type: SaturationPrometheus, NeedsMax: true, Metric: true},
	}
}

// SaturationSourceOf returns the source type named t, and false when t names
// none.
func SaturationSourceOf(t string) (SaturationSource, bool) {
	for _, s := range SaturationSources() {
		if s.Type == t {
			return s, true
		}
	}
	return SaturationSource{}, false
}

// SaturationTypes returns the source type names, in order.
func SaturationTypes() []string {
	srcs := SaturationSources()
	ts := make([]string, len(srcs))
	for i, s := range srcs {
		ts[i] = s.Type
	}
	return ts
}

// SaturationReason says why a saturation reading failed: the reason label of
// http5xx_saturation_errors_total.
type SaturationReason string

// The reasons a saturation reading fails, from the connection inwards.
const (
	SaturationRefused    SaturationReason = "refused"    // connection refused: nothing listens on the port
	SaturationReset      SaturationReason = "reset"      // closed or reset before an answer: nginx out of worker_connections drops new connections so
	SaturationTimeout    SaturationReason = "timeout"    // no complete answer within the timeout
	SaturationGateway    SaturationReason = "gateway"    // a proxy in front of the source answered 502, 503 or 504: it could not reach the source, or not in time
	SaturationStatus     SaturationReason = "status"     // another answer that is not 2xx (404, 403, 500): a wrong URL or access rule
	SaturationTooLarge   SaturationReason = "too_large"  // the body is over body_size_limit
	SaturationUnparsable SaturationReason = "unparsable" // the body is not the source's document, or holds no usable number
	SaturationOther      SaturationReason = "other"      // anything else: DNS, TLS, a source that cannot be built
)

// SaturationReasons returns every reason, in order.
func SaturationReasons() []SaturationReason {
	return []SaturationReason{
		SaturationRefused, SaturationReset, SaturationTimeout, SaturationGateway,
		SaturationStatus, SaturationTooLarge, SaturationUnparsable, SaturationOther,
	}
}

// SDMechanism is a service discovery mechanism: the mechanism label of
// http5xx_sd_refresh_failures_total, named as Prometheus names its own.
type SDMechanism string

// The discovery mechanisms.
const (
	SDFile SDMechanism = "file" // file_sd_configs
	SDHTTP SDMechanism = "http" // http_sd_configs
)

// SDMechanisms returns every mechanism, in order.
func SDMechanisms() []SDMechanism { return []SDMechanism{SDFile, SDHTTP} }

// The cert label of http5xx_tls_cert_not_after_timestamp_seconds.
const (
	CertLeaf  = "leaf"  // the server's own certificate
	CertChain = "chain" // the earliest NotAfter along the verified chain, leaf included
)

// The protocol label of http5xx_connection_info: the HTTP version of the
// answer. A version net/http reads but that is none of these is
// ProtocolOther, so a target cannot add values.
const (
	ProtocolHTTP10 = "HTTP/1.0"
	ProtocolHTTP11 = "HTTP/1.1"
	ProtocolHTTP2  = "HTTP/2.0"
	ProtocolOther  = "other"
)

// ProtocolOf names the HTTP version major.minor.
func ProtocolOf(major, minor int) string {
	switch {
	case major == 2:
		return ProtocolHTTP2
	case major == 1 && minor == 1:
		return ProtocolHTTP11
	case major == 1 && minor == 0:
		return ProtocolHTTP10
	}
	return ProtocolOther
}

// The IP families: the ip_family label of http5xx_connection_info (the
// family of the address that answered) and, with FamilyAny, the values of
// a target's ip_family setting.
const (
	FamilyIP4 = "ip4"
	FamilyIP6 = "ip6"
	FamilyAny = "any"
)

// IPFamilies returns the values a target's ip_family may take.
func IPFamilies() []string { return []string{FamilyAny, FamilyIP4, FamilyIP6} }

// The tls_version label of http5xx_connection_info, as crypto/tls names the
// versions it negotiates.
const (
	TLS10 = "TLS 1.0"
	TLS11 = "TLS 1.1"
	TLS12 = "TLS 1.2"
	TLS13 = "TLS 1.3"
)

// MaxCertName bounds the cert_subject and cert_issuer labels in bytes; a
// longer name is cut and ends in "…".
const MaxCertName = 128
