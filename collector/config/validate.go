package config

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"math"
	"net/netip"
	"net/url"
	"os"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/prometheus/common/config"
	"github.com/prometheus/common/model"

	"github.com/http5xx/http5xx_exporter/collector/contract"
	"github.com/http5xx/http5xx_exporter/collector/selector"
)

const (
	maxLabelLen  = 128
	maxRedirects = 30
	minInterval  = model.Duration(time.Second)
)

var (
	// labelSafe is what target names, class names, owners and products may
	// hold: they end up in label values, URLs and Alertmanager routes.
	labelSafe = regexp.MustCompile(`^[a-zA-Z0-9_.:-]+$`)
)

// report collects the problems of one file. skip drops problems with a
// value a target inherited: they were reported where the value was written.
type report struct {
	l    *loader
	src  *source
	skip func(path string) bool
}

func (r report) errorf(path, format string, args ...any) {
	if r.skip != nil && r.skip(path) {
		return
	}
	r.l.errorf(r.src, path, format, args...)
}

// inheritable are the target fields filled from global (or, for
// saturation, from the target) when not written.
var inheritable = []string{
	"interval", "timeout", "body_size_limit", "valid_status_codes", "max_redirects", "service",
	"saturation.interval", "saturation.timeout", "saturation.body_size_limit",
}

func (l *loader) validate(cfg *Config) {
	top := report{l: l, src: l.main}
	top.validateGlobal(&cfg.Global)
	top.validateClasses(cfg.Classes)
	top.validateFingerprints(cfg.Fingerprints, cfg.Classes)
	top.validateServices(cfg.Services, cfg.Classes)
	top.validateSD(cfg)
	defined := map[string]string{} // target name -> FILE:LINE of its first definition
	for i := range cfg.Targets {
		src, p := l.targets[i], l.paths[i]
		r := report{l: l, src: src, skip: func(path string) bool {
			rel := strings.TrimPrefix(path, p+".")
			if slices.Contains(inheritable, rel) || strings.HasPrefix(rel, "headers") {
				return !src.has(path)
			}
			if strings.HasPrefix(rel, "expect") {
				return !src.has(p + ".expect") // global.expect's own problems are reported there
			}
			return false
		}}
		r.validateTarget(p, &cfg.Targets[i], defined, cfg.Classes)
	}
}

func (r report) validateGlobal(g *Global) {
	r.checkProbe("global", probeSettings{g.Interval, g.Timeout, g.BodySizeLimit, g.ValidStatusCodes, g.MaxRedirects})
	r.checkLabelValue("global.location", g.Location)
	r.checkHeaders("global.headers", g.Headers)
	if len(g.Buckets) == 0 {
		r.errorf("global.buckets", "must list at least one bucket")
	}
	r.checkBuckets("global.buckets", g.Buckets)
	r.checkBuckets("global.phase_classic_buckets", g.PhaseClassicBuckets)
	r.checkExpect("global.expect", g.Expect)
	r.checkProbePath("global.probe_path", g.ProbePath)
}

// probeSettings are the settings global and targets share.
type probeSettings struct {
	interval, timeout model.Duration
	bodySizeLimit     ByteSize
	validStatusCodes  StatusCodes
	maxRedirects      int
}

func (r report) checkProbe(p string, s probeSettings) {
	r.checkTiming(p, s.interval, s.timeout)
	r.checkPositiveSize(p+".body_size_limit", s.bodySizeLimit)
	if len(s.validStatusCodes) == 0 {
		r.errorf(p+".valid_status_codes", "must list at least one code")
	}
	if s.maxRedirects < 0 || s.maxRedirects > maxRedirects {
		r.errorf(p+".max_redirects", "%d is outside 0-%d", s.maxRedirects, maxRedirects)
	}
}

func (r report) checkTiming(p string, interval, timeout model.Duration) {
	if interval < minInterval {
		r.errorf(p+".interval", "%s is shorter than %s", interval, minInterval)
	}
	switch {
	case timeout <= 0:
		r.errorf(p+".timeout", "must be greater than 0")
	case timeout > interval && interval >= minInterval:
		r.errorf(p+".timeout", "%s is longer than the interval %s", timeout, interval)
	}
}

func (r report) checkPositiveSize(p string, b ByteSize) {
	if b <= 0 {
		r.errorf(p, "must be greater than 0")
	}
}

func (r report) checkBuckets(p string, buckets []float64) {
	for i, b := range buckets {
		if math.IsNaN(b) {
			// NaN compares false with everything, so the order check
			// below would let it through as a le="NaN" bucket.
			r.errorf(indexPath(p, i), "NaN is not a bucket boundary")
		}
	}
	for i := 1; i < len(buckets); i++ {
		if buckets[i] <= buckets[i-1] {
			r.errorf(indexPath(p, i), "%g is not greater than the bucket before it (%g)", buckets[i], buckets[i-1])
		}
	}
}

func (r report) validateTarget(p string, t *Target, defined map[string]string, classes []Class) {
	if t.Name == "" {
		r.errorf(p+".name", "must be set")
	} else if r.checkLabelSafe(p+".name", t.Name) {
		if first, dup := defined[t.Name]; dup {
			r.errorf(p+".name", "%q is already defined at %s", t.Name, first)
		} else {
			defined[t.Name] = fmt.Sprintf("%s:%d", r.src.file, r.src.lineOf(p+".name"))
		}
	}
	if t.URL == "" {
		r.errorf(p+".url", "must be set")
	} else {
		r.checkURL(p+".url", t.URL, "http", "https")
	}
	r.checkLabelValue(p+".service", t.Service)
	if t.Owner != "" {
		r.checkLabelSafe(p+".owner", t.Owner)
	}
	r.checkOwners(p+".owners", t.Owners, classes)
	if !IsToken(t.Method) {
		r.errorf(p+".method", "%q is not a valid HTTP method", t.Method)
	}
	r.checkHeaders(p+".headers", t.Headers)
	for i, name := range t.RedactQueryParams {
		if name == "" || strings.ContainsAny(name, "&=#") {
			r.errorf(indexPath(p+".redact_query_params", i), "%q is not a query parameter name", name)
		}
	}
	r.checkProbe(p, probeSettings{t.Interval, t.Timeout, t.BodySizeLimit, t.ValidStatusCodes, t.MaxRedirects})

	r.checkTLS(p+".tls", &t.TLS)
	r.checkClient(p, t)
	r.checkIPFamily(p, t)
	r.checkProbePath(p+".probe_path", t.ProbePath)

	if t.VersionHeader != "" && !IsToken(t.VersionHeader) {
		r.errorf(p+".version_header", "%q is not a valid header name", t.VersionHeader)
	}
	switch {
	case t.VersionURL != "" && t.VersionField == "":
		r.errorf(p+".version_url", "needs version_field as well")
	case t.VersionURL == "" && t.VersionField != "":
		r.errorf(p+".version_field", "needs version_url as well")
	case t.VersionURL != "":
		r.checkURL(p+".version_url", t.VersionURL, "http", "https")
	}
	// The version poller reads the field with this same parser.
	if t.VersionField != "" {
		if _, err := selector.ParseField(t.VersionField); err != nil {
			r.errorf(p+".version_field", "%q is not a dotted path such as build.version: %v", t.VersionField, err)
		}
	}
	if t.Saturation != nil {
		r.validateSaturation(p+".saturation", t.Saturation)
	}
	r.checkExpect(p+".expect", t.Expect)
	r.checkTargetLabels(p+".labels", t.Labels)
}

// checkClient validates a target's credentials and proxy as
// prometheus/common/config does, one block at a time so that the message
// names the field, and checks that every secret file can be read now (it
// is read again at each probe, so a rotated secret needs no reload).
// Messages never quote a secret.
func (r report) checkClient(p string, t *Target) {
	c := &t.HTTPClient
	var kinds []string
	for _, k := range []struct {
		name string
		set  bool
	}{{"basic_auth", c.BasicAuth != nil}, {"authorization", c.Authorization != nil}, {"oauth2", c.OAuth2 != nil}} {
		if k.set {
			kinds = append(kinds, k.name)
		}
	}
	if len(kinds) > 1 {
		r.errorf(p+"."+kinds[1], "cannot be combined with %s: a target sends one kind of credentials", kinds[0])
	}
	if len(kinds) > 0 {
		for k := range t.Headers {
			if strings.EqualFold(k, "Authorization") {
				r.errorf(childPath(p+".headers", k), "cannot be combined with %s, which sets this header", kinds[0])
			}
		}
	}
	if a := c.BasicAuth; a != nil {
		bp := p + ".basic_auth"
		if err := (&config.HTTPClientConfig{BasicAuth: a}).Validate(); err != nil {
			r.errorf(bp, "%v", err)
		}
		r.checkSecretRef(bp+".username_ref", a.UsernameRef)
		r.checkSecretRef(bp+".password_ref", a.PasswordRef)
		r.checkSecretFile(bp+".username_file", a.UsernameFile)
		r.checkSecretFile(bp+".password_file", a.PasswordFile)
	}
	if a := c.Authorization; a != nil {
		ap := p + ".authorization"
		// Validate also writes the default type, Bearer.
		if err := (&config.HTTPClientConfig{Authorization: a}).Validate(); err != nil {
			r.errorf(ap, "%v", err)
		}
		if !IsToken(a.Type) {
			r.errorf(ap+".type", "%q is not an authorization scheme such as Bearer", a.Type)
		}
		r.checkSecretRef(ap+".credentials_ref", a.CredentialsRef)
		r.checkSecretFile(ap+".credentials_file", a.CredentialsFile)
	}
	if o := c.OAuth2; o != nil {
		op := p + ".oauth2"
		if err := (&config.HTTPClientConfig{OAuth2: o}).Validate(); err != nil {
			r.errorf(op, "%v", err)
		}
		if o.TokenURL != "" {
			r.checkURL(op+".token_url", o.TokenURL, "http", "https")
		}
		r.checkSecretRef(op+".client_secret_ref", o.ClientSecretRef)
		r.checkSecretRef(op+".client_certificate_key_ref", o.ClientCertificateKeyRef)
		r.checkSecretFile(op+".client_secret_file", o.ClientSecretFile)
		r.checkSecretFile(op+".client_certificate_key_file", o.ClientCertificateKeyFile)
		r.checkTLS(op+".tls_config", &o.TLSConfig)
		r.checkProxy(op, &o.ProxyConfig)
	}
	r.checkProxy(p, &c.ProxyConfig)
}

// checkProbePath checks a probe_path; unset means auto.
func (r report) checkProbePath(p, v string) {
	if v != "" && v != ProbePathAuto && v != ProbePathNetHTTP {
		r.errorf(p, "%q is not one of %s, %s", v, ProbePathAuto, ProbePathNetHTTP)
	}
}

// checkIPFamily checks ip_family, and that a URL naming an IP address
// names one of that family.
func (r report) checkIPFamily(p string, t *Target) {
	if !slices.Contains(contract.IPFamilies(), t.IPFamily) {
		r.errorf(p+".ip_family", "%q is not one of %s", t.IPFamily, strings.Join(contract.IPFamilies(), ", "))
		return
	}
	u, err := url.Parse(t.URL)
	if err != nil || t.IPFamily == contract.FamilyAny {
		return
	}
	if a, err := netip.ParseAddr(u.Hostname()); err == nil && (a.Unmap().Is4() != (t.IPFamily == contract.FamilyIP4)) {
		r.errorf(p+".ip_family", "%s, but the url names the address %s", t.IPFamily, a)
	}
}

// checkProxy validates proxy_url, no_proxy, proxy_from_environment and
// proxy_connect_header under p.
func (r report) checkProxy(p string, c *config.ProxyConfig) {
	if c.ProxyURL.URL != nil && c.ProxyURL.String() != "" {
		r.checkURL(p+".proxy_url", c.ProxyURL.String(), "http", "https", "socks5")
	}
	if err := c.Validate(); err != nil {
		// The message starts "if FIELD is configured": that field is the one to fix.
		field := "proxy_url"
		if f := strings.Fields(err.Error()); len(f) > 1 && f[0] == "if" {
			field = f[1]
		}
		r.errorf(p+"."+field, "%v", err)
	}
}

// checkSecretRef refuses *_ref fields: they name secrets in a secret
// manager, which the exporter does not have.
func (r report) checkSecretRef(p, ref string) {
	if ref != "" {
		r.errorf(p, "secret references need a secret manager, which the exporter does not have; use %s_file", strings.TrimSuffix(p[strings.LastIndexByte(p, '.')+1:], "_ref"))
	}
}

// checkSecretFile reports a secret file that cannot be read now; its
// content is never shown.
func (r report) checkSecretFile(p, file string) {
	if file == "" {
		return
	}
	if _, err := os.ReadFile(file); err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		r.errorf(p, "%q cannot be read: %v", file, err)
	}
}

func (r report) validateSaturation(p string, s *Saturation) {
	src, known := contract.SaturationSourceOf(s.Type)
	if s.Type == "" {
		r.errorf(p+".type", "must be set to one of %s", strings.Join(contract.SaturationTypes(), ", "))
	} else if !known {
		r.errorf(p+".type", "%q is not one of %s", s.Type, strings.Join(contract.SaturationTypes(), ", "))
	}
	if s.URL == "" {
		r.errorf(p+".url", "must be set")
	} else {
		r.checkURL(p+".url", s.URL, "http", "https")
	}
	r.checkTiming(p, s.Interval, s.Timeout)
	r.checkPositiveSize(p+".body_size_limit", s.BodySizeLimit)

	// The sources read field and metric with these same parsers.
	switch {
	case src.Field:
		if s.Field == "" {
			r.errorf(p+".field", "must be set for type %s", s.Type)
		} else if _, err := selector.ParseField(s.Field); err != nil {
			r.errorf(p+".field", "%q is not a dotted path such as pools.web.busy: %v", s.Field, err)
		}
	case src.Metric:
		if s.Metric == "" {
			r.errorf(p+".metric", "must be set for type %s", s.Type)
		} else if _, err := selector.ParseMetric(s.Metric); err != nil {
			r.errorf(p+".metric", "%q is not a metric name with optional {label matchers}: %v", s.Metric, err)
		}
	}
	if s.Field != "" && !src.Field {
		r.errorf(p+".field", "is only used by type %s", contract.SaturationJSON)
	}
	if s.Metric != "" && !src.Metric {
		r.errorf(p+".metric", "is only used by type %s", contract.SaturationPrometheus)
	}
	switch {
	case math.IsNaN(s.Max) || math.IsInf(s.Max, 0):
		r.errorf(p+".max", "%v is not a finite number", s.Max)
	case s.Max < 0:
		r.errorf(p+".max", "must not be negative")
	case s.Max == 0 && src.NeedsMax:
		// php-fpm reports its own capacity; every other source needs it.
		r.errorf(p+".max", "must be greater than 0 for type %s", s.Type)
	}
}

func (r report) validateClasses(classes []Class) {
	type listed struct {
		class int
		path  string
		r     StatusRange
	}
	names := map[string]string{}
	singles := map[int]listed{}
	var ranges []listed
	reasons := map[string]listed{}
	for i, c := range classes {
		p := indexPath("classes", i)
		if c.Name == "" {
			r.errorf(p+".name", "must be set")
		} else if r.checkLabelSafe(p+".name", c.Name) {
			if first, dup := names[c.Name]; dup {
				r.errorf(p+".name", "%q is already the name of %s", c.Name, first)
			} else {
				names[c.Name] = p
			}
		}
		if c.Owner != "" {
			r.checkLabelSafe(p+".owner", c.Owner)
		}
		if len(c.Codes) == 0 && len(c.Reasons) == 0 {
			r.errorf(p, "lists neither codes nor reasons")
		}
		for j, codes := range c.Codes {
			here := listed{i, indexPath(p+".codes", j), codes}
			if codes.Single() {
				if prev, dup := singles[codes.Lo]; dup && prev.class != i {
					r.errorf(here.path, "%d is already in class %q (%s)", codes.Lo, classes[prev.class].Name, prev.path)
				} else if !dup {
					singles[codes.Lo] = here
				}
				continue
			}
			// A single code may sit in another class's range (it wins), but
			// two ranges in different classes may not overlap.
			for _, prev := range ranges {
				if prev.class != i && codes.Lo <= prev.r.Hi && prev.r.Lo <= codes.Hi {
					r.errorf(here.path, "%s overlaps %s of class %q (%s); list single codes to take them out of a range", codes, prev.r, classes[prev.class].Name, prev.path)
				}
			}
			ranges = append(ranges, here)
		}
		for j, reason := range c.Reasons {
			rp := indexPath(p+".reasons", j)
			if _, ok := contract.ParseReason(reason); !ok {
				r.errorf(rp, "%q is not one of %s", reason, strings.Join(contract.ReasonNames(), ", "))
				continue
			}
			if prev, dup := reasons[reason]; dup && prev.class != i {
				r.errorf(rp, "%q is already in class %q (%s)", reason, classes[prev.class].Name, prev.path)
			} else if !dup {
				reasons[reason] = listed{class: i, path: rp}
			}
		}
	}
}

func (r report) validateFingerprints(rules []FingerprintRule, classes []Class) {
	for i, rule := range rules {
		p := indexPath("fingerprints", i)
		if rule.Class != "" && !slices.ContainsFunc(classes, func(c Class) bool { return c.Name == rule.Class }) {
			r.errorf(p+".class", "%q is not a class of the class table (%s)", rule.Class, classNames(classes))
		}
		if !slices.Contains(contract.Layers(), rule.Layer) {
			r.errorf(p+".layer", "%q is not one of %s", rule.Layer, strings.Join(contract.Layers(), ", "))
		}
		if rule.Product == "" {
			r.errorf(p+".product", "must be set")
		} else {
			r.checkLabelSafe(p+".product", rule.Product)
		}
		if rule.Header != "" && !IsToken(rule.Header) {
			r.errorf(p+".header", "%q is not a valid header name", rule.Header)
		}
		r.checkRegexp(p+".match", rule.Match)
		r.checkRegexp(p+".body", rule.Body)
		switch {
		case rule.Header != "" && rule.Match == "":
			r.errorf(p+".match", "must be set with header")
		case rule.Header == "" && rule.Match != "":
			r.errorf(p+".header", "must be set with match")
		case rule.Header == "" && rule.Body == "":
			r.errorf(p, "needs header and match, or body")
		}
	}
}

func (r report) checkRegexp(p, expr string) {
	if expr == "" {
		return
	}
	if _, err := regexp.Compile(expr); err != nil {
		var se *syntax.Error
		if errors.As(err, &se) {
			err = errors.New(se.Code.String())
		}
		r.errorf(p, "%q is not a valid regular expression: %v", expr, err)
	}
}

// checkURL reports raw unless it parses with one of schemes and has a host.
// Messages never show a password the URL holds.
func (r report) checkURL(p, raw string, schemes ...string) {
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		r.errorf(p, "%q is not a valid URL: %v", redactURL(raw), err)
		return
	}
	if !slices.Contains(schemes, u.Scheme) {
		r.errorf(p, "%q is not an %s URL", redactURL(raw), orList(schemes))
		return
	}
	if u.Hostname() == "" {
		r.errorf(p, "%q has no host", redactURL(raw))
	}
}

// redactURL hides the password and secret query parameters of a URL,
// whether it parses or not (RedactURL).
func redactURL(raw string) string { return RedactURL(raw, nil) }

func orList(s []string) string {
	if len(s) < 2 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}

// checkTLS reports what would make the prober's TLS setup fail when the
// target starts: an unreadable file, a CA without a PEM certificate, a
// certificate and key that do not make a pair, a secret reference (the
// exporter has no secret manager), versions the wrong way round. Runtime
// builds the same settings with NewTLSConfig, which is tried last, so
// `config check`, startup and reload agree.
func (r report) checkTLS(p string, c *config.TLSConfig) {
	ok := true
	ca, caFound := r.tlsMaterial(p, "ca", c.CA, c.CAFile, c.CARef, &ok)
	if caFound && !x509.NewCertPool().AppendCertsFromPEM(ca.data) {
		if ca.file != "" {
			r.errorf(ca.field, "%q holds no PEM certificate", ca.file)
		} else {
			r.errorf(ca.field, "holds no PEM certificate")
		}
		ok = false
	}
	cert, certFound := r.tlsMaterial(p, "cert", c.Cert, c.CertFile, c.CertRef, &ok)
	key, keyFound := r.tlsMaterial(p, "key", string(c.Key), c.KeyFile, c.KeyRef, &ok)
	if certFound && keyFound {
		if _, err := tls.X509KeyPair(cert.data, key.data); err != nil {
			field := key.field
			if b, _ := pem.Decode(cert.data); b == nil || b.Type != "CERTIFICATE" {
				field = cert.field
			}
			r.errorf(field, "%s", strings.TrimPrefix(err.Error(), "tls: "))
			ok = false
		}
	}
	if c.MinVersion != 0 && c.MaxVersion != 0 && c.MaxVersion < c.MinVersion {
		r.errorf(p+".max_version", "%s is older than min_version %s", tlsVersionName(c.MaxVersion), tlsVersionName(c.MinVersion))
		ok = false
	}
	if ok {
		settings := *c // NewTLSConfig keeps a pointer
		if _, err := config.NewTLSConfig(&settings); err != nil {
			r.errorf(p, "%v", err)
		}
	}
}

// pemMaterial is the PEM text of a CA, certificate or key and where it
// was written.
type pemMaterial struct {
	data  []byte
	field string // e.g. targets[0].tls.ca_file
	file  string // the file it was read from, if any
}

// tlsMaterial reads one of ca, cert or key from its inline, file or ref
// field; found is false when none is set or it cannot be used (reported,
// and *ok cleared).
func (r report) tlsMaterial(p, name, inline, file, ref string, ok *bool) (m pemMaterial, found bool) {
	switch {
	case inline != "":
		return pemMaterial{data: []byte(inline), field: p + "." + name}, true
	case file != "":
		m = pemMaterial{field: p + "." + name + "_file", file: file}
		b, err := ReadFile(file)
		if err != nil {
			r.errorf(m.field, "cannot read %q: %s", file, ioMessage(err))
			*ok = false
			return m, false
		}
		m.data = b
		return m, true
	case ref != "":
		r.errorf(p+"."+name+"_ref", "secret references need a secret manager, which this exporter does not have; use %s_file or %s", name, name)
		*ok = false
	}
	return m, false
}

// tlsVersionName writes a TLS version the way the config spells it.
func tlsVersionName(v config.TLSVersion) string {
	if b, err := v.MarshalYAML(); err == nil {
		if s, ok := b.(string); ok {
			return s
		}
	}
	return fmt.Sprintf("%#x", uint16(v))
}

func (r report) checkHeaders(p string, h map[string]string) {
	for _, k := range slices.Sorted(maps.Keys(h)) {
		hp := childPath(p, k)
		if !IsToken(k) {
			r.errorf(hp, "%q is not a valid header name", k)
		}
		if !ValidHeaderValue(h[k]) {
			r.errorf(hp, "value holds a control character")
		}
	}
}

// ValidHeaderValue reports whether v can be sent as a header value: no
// control characters except tab.
func ValidHeaderValue(v string) bool {
	return !strings.ContainsFunc(v, func(c rune) bool { return c != '\t' && unicode.IsControl(c) })
}

// checkLabelSafe reports s unless it is a short word of [a-zA-Z0-9_.:-].
func (r report) checkLabelSafe(p, s string) bool {
	switch {
	case len(s) > maxLabelLen:
		r.errorf(p, "is %d characters long, more than %d", len(s), maxLabelLen)
	case !labelSafe.MatchString(s):
		r.errorf(p, "%q may only hold letters, digits, '_', '.', ':' and '-'", s)
	default:
		return true
	}
	return false
}

// checkLabelValue reports s unless it is a usable label value: valid UTF-8,
// at most 128 characters, no control characters.
func (r report) checkLabelValue(p, s string) {
	switch {
	case !utf8.ValidString(s):
		r.errorf(p, "%q is not valid UTF-8", s)
	case utf8.RuneCountInString(s) > maxLabelLen:
		r.errorf(p, "is %d characters long, more than %d", utf8.RuneCountInString(s), maxLabelLen)
	case strings.ContainsFunc(s, unicode.IsControl):
		r.errorf(p, "%q holds a control character", s)
	}
}

// IsToken reports whether s is an RFC 9110 token: what HTTP methods and
// header names are made of.
func IsToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 || !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}
