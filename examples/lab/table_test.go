package lab

// scenario is one real failure of a real product: the request the lab sends
// to the front product, what that product answers (asserted), and the truth
// a responder needs, established from the product's documentation and its
// own log in the lab.
type scenario struct {
	Name   string // fixture name: collector/fingerprint/testdata/lab/<Name>.http
	Front  string // the product the request is sent to
	Method string // GET when empty
	Path   string

	Before  string  // requested to completion first (uses up a rate limit, puts a backend in error state)
	Occupy  string  // requested in the background and held while the probe runs (fills a pool)
	WaitFor logLine // the product logs this before the probe is sent (a health check marked a server down)

	Code       int    // the status code the front product answers
	RetryAfter string // its Retry-After, "" when it sends none

	Truth truth
	// Verdict is what the exporter says when the answer cannot show the
	// truth (one page for two causes, no evidence of the writer); zero
	// means it says the truth. TestVerdicts and the lab assert it.
	Verdict verdict
}

// verdict is the exporter's reading of an answer that differs from the
// truth, and why that is the best the answer allows.
type verdict struct {
	Class, Layer, Product string
	Why                   string
}

// expected is what the exporter must say of sc's answer.
func (sc scenario) expected() verdict {
	v := verdict{Class: sc.Truth.Class, Layer: sc.Truth.Layer, Product: sc.Truth.Product}
	if sc.Verdict.Class != "" {
		v.Class = sc.Verdict.Class
	}
	if sc.Verdict.Layer != "" {
		v.Layer, v.Product = sc.Verdict.Layer, sc.Verdict.Product
	}
	v.Why = sc.Verdict.Why
	return v
}

// truth is what a responder needs to know about an answer.
type truth struct {
	Class    string // by cause: app, gateway, capacity, timeout
	Layer    string // of the hop that wrote the page: cdn, load_balancer, proxy, origin, unknown
	Product  string // that wrote the page: nginx, haproxy, apache, varnish, caddy, php-fpm, app
	Evidence string // where the answer shows Product: headers, body, both, none
	// CauseShown says whether the answer alone points at Class: its code,
	// read with what the product's page is known to mean. It is false when
	// the product writes the same answer for another cause and only its
	// log tells (TestFixtures checks that answers alike never point at two
	// classes).
	CauseShown bool
	Log        logLine // the line the lab's logs hold when this happens
	Why        string
}

// logLine is a regular expression over the new lines of one of the lab's logs.
type logLine struct {
	Source  string // a key of logSources
	Pattern string
}

// logFile names the file in the lab's directory that holds a log source.
// Varnish keeps its log in memory; the lab writes what varnishlog shows of
// each scenario to varnish.log.
func logFile(source string) (string, bool) {
	switch source {
	case "nginx":
		return "nginx-error.log", true
	case "nginx-access":
		return "nginx-access.log", true
	case "haproxy":
		return "haproxy.log", true // stdout: requests, health checks, alerts
	case "apache":
		return "apache-error.log", true
	case "apache-access":
		return "apache-access.log", true
	case "caddy":
		return "caddy.log", true // stderr: errors
	case "caddy-access":
		return "caddy-access.log", true
	case "php-fpm":
		return "php-fpm.log", true
	case "php":
		return "php-error.log", true // the scripts' errors
	case "varnish":
		return "varnish.log", true
	}
	return "", false
}
