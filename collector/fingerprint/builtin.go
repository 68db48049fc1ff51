package fingerprint

import (
	"bytes"
	"net/http"
	"strings"

	"github.com/http5xx/http5xx_exporter/collector/contract"
)

// Products the built-in rules recognise. README.md has the table with the
// evidence behind each.
const (
	productAkamai     = "akamai"
	productApache     = "apache"
	productApp        = "app"
	productAWSELB     = "aws_elb"
	productCaddy      = "caddy"
	productCloudflare = "cloudflare"
	productCloudFront = "cloudfront"
	productEnvoy      = "envoy"
	productFastly     = "fastly"
	productGFE        = "gfe"
	productHAProxy    = "haproxy"
	productKong       = "kong"
	productNginx      = "nginx"
	productVarnish    = "varnish"
)

func builtinProducts() []string {
	return []string{
		productAkamai, productApache, productApp, productAWSELB, productCaddy, productCloudflare,
		productCloudFront, productEnvoy, productFastly, productGFE, productHAProxy,
		productKong, productNginx, productVarnish,
	}
}

// layerOf places a product on the request path. Apache httpd is the one
// product whose layer depends on the code: its own 500 page means httpd
// failed running the site itself (a broken .htaccess, a crashing CGI or
// mod_php), while its 502/503/504 pages come from mod_proxy.
func layerOf(product string, code int) string {
	switch product {
	case productCloudflare, productCloudFront, productFastly, productAkamai:
		return contract.LayerCDN
	case productAWSELB, productGFE, productHAProxy:
		return contract.LayerLoadBalancer
	case productNginx, productEnvoy, productVarnish, productKong, productCaddy:
		return contract.LayerProxy
	case productApache:
		if code == http.StatusInternalServerError {
			return contract.LayerOrigin
		}
		return contract.LayerProxy
	case productApp:
		return contract.LayerOrigin
	}
	return contract.LayerUnknown
}

// match applies the built-in rules. The body (a hop's own default error
// page) and the headers a hop sets only on answers it generated are the two
// kinds of evidence; when they name different products, two hops claim the
// answer and it stays unknown. Without either, application fingerprints
// (X-Powered-By, an application server, a framework's error page, a JSON
// error document) make it origin. A recognised product's page may then
// prove a cause (cause).
func (b *builtins) match(a *Answer, body []byte) Match {
	fromBody := b.pageProduct(a.Header, body)
	fromHeader := headerProduct(a, body)
	var product string
	switch {
	case fromBody != "" && fromHeader != "" && fromBody != fromHeader:
		return unknown
	case fromBody != "":
		product = fromBody
	case fromHeader != "":
		product = fromHeader
	case b.isApp(a.Header, body):
		return Match{Layer: contract.LayerOrigin, Product: productApp}
	default:
		return unknown
	}
	m := Match{Layer: layerOf(product, a.Code), Product: product}
	b.cause(&m, a, body)
	return m
}

var unknown = Match{Layer: contract.LayerUnknown, Product: contract.ProductUnknown}

const causeVarnish = "Varnish could not fetch from its backend: refused, an invalid answer, or slower than Varnish's timeouts"

// cause adds what a product's own page proves beyond its status code
// (README.md, "Causes"). Where one page stands for two causes, the cause
// whose owner can act first is named and the other is said in Cause.
func (b *builtins) cause(m *Match, a *Answer, body []byte) {
	switch {
	case m.Product == productHAProxy && a.Code == http.StatusServiceUnavailable &&
		(bytes.Contains(body, b.haproxyNoServer) || len(body) == 0):
		m.As = http.StatusBadGateway
		m.Cause = "haproxy has no server to send the request to: every server of the backend is down or refusing (a request that timed out in a full queue gets the same page)"
	case m.Product == productVarnish && a.Code == http.StatusServiceUnavailable &&
		(strings.EqualFold(a.Phrase, "Backend fetch failed") || bytes.Contains(body, b.varnishFetchFailed)):
		m.As = http.StatusBadGateway
		m.Cause = causeVarnish
		if a.Header.Get("Retry-After") == "5" { // builtin.vcl's vcl_backend_error
			m.CannedRetryAfter = true
			m.Cause = causeVarnish + " (its Retry-After: 5 is Varnish's default, not a maintenance window)"
		}
	case m.Product == productApache && a.Code == http.StatusServiceUnavailable &&
		(bytes.Contains(body, b.apacheUnavailable) || len(body) == 0):
		if a.Header.Get("Retry-After") != "" {
			m.Cause = "Apache's 503 with Retry-After: a planned maintenance"
			return
		}
		m.As = http.StatusBadGateway
		m.Cause = "Apache mod_proxy has no usable backend connection: refused, in error state, or its connection pool is exhausted"
	case m.Product == productApache && a.Code == http.StatusBadGateway && bytes.Contains(body, b.apacheReadError):
		m.Cause = "Apache mod_proxy could not read the backend's answer: the backend closed the connection, or it was slower than ProxyTimeout"
	}
}

// builtins holds the built-in signatures, converted once to the byte
// strings the body is searched for.
type builtins struct {
	pages    []page
	appPages [][]byte
	footer   []byte

	haproxyNoServer, varnishFetchFailed, apacheUnavailable, apacheReadError []byte

	// Pages that prove an error served with a 2xx (errorpage.go).
	nginx50x, nginxFaithfully, whitelabel, phpFatal, phpParse, phpOnLine, cloudflare5xx []byte
}

func newBuiltins() builtins {
	return builtins{
		pages: pageTable(), appPages: appPages(), footer: []byte("<hr><center>"),
		haproxyNoServer:    []byte("No server is available to handle this request"),
		varnishFetchFailed: []byte("Backend fetch failed"),
		apacheUnavailable:  []byte("temporarily unable to service your"),
		apacheReadError:    []byte("Error reading from remote server"),
		// nginx's stock html/50x.html.
		nginx50x:        []byte("<h1>An error occurred.</h1>"),
		nginxFaithfully: []byte("Faithfully yours, nginx."),
		whitelabel:      []byte("Whitelabel Error Page"),
		// PHP's HTML error format: "<b>Fatal error</b>:  Uncaught ... in
		// <b>/path</b> on line <b>3</b>".
		phpFatal:  []byte("<b>Fatal error</b>:"),
		phpParse:  []byte("<b>Parse error</b>:"),
		phpOnLine: []byte("</b> on line <b>"),
		// Cloudflare's 5xx templates link their landing page.
		cloudflare5xx: []byte("/5xx-error-landing"),
	}
}

// strs converts needles once, so searching them allocates nothing.
func strs(ss ...string) [][]byte {
	out := make([][]byte, len(ss))
	for i, s := range ss {
		out[i] = []byte(s)
	}
	return out
}

// page is the signature of a product's default error page.
type page struct {
	product string
	all     [][]byte // every one must occur in the body
	any     [][]byte // one must occur (or, with whole, be the whole body)
	whole   bool
	number  bool                     // with whole: the body is one of any followed by a number
	when    func(h http.Header) bool // a header condition on top, or nil
}

// pageTable lists the pages in the order they are tried; the first match
// wins. More specific signatures of a product come before looser ones.
func pageTable() []page {
	return []page{
		// Cloudflare's branded pages (its 52x codes, 502/504 at the edge): the
		// stylesheet link sits in the head, early enough for any prefix.
		{product: productCloudflare, any: strs("/cdn-cgi/styles/cf.errors.css", `id="cf-wrapper"`, "cf-error-details", `class="cf-error-code"`, "Cloudflare Ray ID")},
		// What it sends to clients that do not ask for HTML: "error code: 522"
		// and nothing else. An origin's page that mentions an error code
		// on its way through Cloudflare is not this.
		{product: productCloudflare, any: strs("error code: "), whole: true, number: true, when: viaCloudflare},
		{product: productCloudFront, any: strs("Generated by cloudfront (CloudFront)")},
		// Its heading alone is plain English an origin may write too.
		{product: productCloudFront, any: strs("The request could not be satisfied"), when: viaCloudFront},
		{product: productGFE, all: strs("!!1</title>"), any: strs("That’s an error.", "google.com")},
		{product: productAkamai, any: strs("Reference&#32;&#35;", "errors&#46;edgesuite&#46;net")},
		// "Guru Meditation" (Varnish) or "Guru Mediation" (Fastly's spelling).
		// The details line tells them apart; headers decide when it is missing.
		{product: productFastly, all: strs("Guru Medi", "Details: cache-")},
		{product: productVarnish, all: strs("Guru Medi", "XID: ")},
		{product: productFastly, all: strs("Guru Medi"), when: viaFastly},
		{product: productVarnish, all: strs("Guru Medi")},
		{product: productKong, any: strs("An invalid response was received from the upstream server", "The upstream server is timing out", "failure to get a peer from the ring-balancer")},
		{product: productEnvoy, any: strs("upstream connect error or disconnect/reset before headers")},
		// Envoy's other local replies are short phrases an application could
		// write too, so only the whole body counts.
		{product: productEnvoy, any: strs("no healthy upstream", "upstream request timeout"), whole: true},
		{product: productHAProxy, all: strs("<html><body><h1>"), any: strs("No server is available to handle this request", "The server returned an invalid or incomplete response", "The server didn't respond in time", "An internal server error occurred")},
		// httpd's pages: HTML 2.0 doctype up to 2.2 and in early 2.4, HTML
		// 4.01 in 2.4; the signature line may be switched off
		// (ServerSignature Off), the heading stays.
		{product: productApache, all: strs(`<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">`), any: apacheHeadings()},
		{product: productApache, all: strs(`<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01//EN"`), any: apacheHeadings()},
	}
}

func apacheHeadings() [][]byte {
	return strs("<address>Apache", "<h1>Internal Server Error</h1>", "<h1>Proxy Error</h1>", "<h1>Bad Gateway</h1>", "<h1>Service Unavailable</h1>", "<h1>Gateway Timeout</h1>")
}

func (p *page) matches(h http.Header, body []byte) bool {
	for _, s := range p.all {
		if !bytes.Contains(body, s) {
			return false
		}
	}
	if len(p.any) > 0 {
		found := false
		for _, s := range p.any {
			if p.whole && isWhole(body, s, p.number) || !p.whole && bytes.Contains(body, s) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return p.when == nil || p.when(h)
}

// isWhole reports whether body, without surrounding space, is s, or with
// number s followed by a number of one to four digits.
func isWhole(body, s []byte, number bool) bool {
	b := bytes.TrimSpace(body)
	if !number {
		return bytes.Equal(b, s)
	}
	n, ok := bytes.CutPrefix(b, s)
	if !ok || len(n) == 0 || len(n) > 4 {
		return false
	}
	for _, c := range n {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// pageProduct names the product whose default error page body is.
func (b *builtins) pageProduct(h http.Header, body []byte) string {
	if len(body) == 0 {
		return ""
	}
	for i := range b.pages {
		if b.pages[i].matches(h, body) {
			return b.pages[i].product
		}
	}
	return b.footerProduct(body)
}

// footerProduct reads nginx's page footer, "<hr><center>nginx/1.25.3</center>".
// Products built on nginx keep the page and put their own name there.
func (b *builtins) footerProduct(body []byte) string {
	i := bytes.Index(body, b.footer)
	if i < 0 {
		return ""
	}
	rest := body[i+len(b.footer):]
	if j := bytes.IndexAny(rest, "/<"); j >= 0 {
		rest = rest[:j]
	}
	switch {
	case equalFold(rest, "nginx"), equalFold(rest, "openresty"):
		return productNginx
	case equalFold(rest, "cloudflare"):
		return productCloudflare
	}
	return ""
}

// headerProduct names the product whose own answer the headers prove: a
// header it only sets on answers it generated itself, its own wording of the
// status line, or (for HEAD, where there is no body) the exact length and
// type of its default page. Every Server value counts: a proxy that relays
// an answer may add its own beside the one it relays.
func headerProduct(a *Answer, body []byte) string {
	h := a.Header
	for _, v := range h["Server"] {
		switch token := serverToken(v); {
		case strings.EqualFold(token, "awselb"):
			return productAWSELB
		case strings.EqualFold(token, "CloudFront"):
			return productCloudFront
		case strings.EqualFold(token, "AkamaiGHost"):
			return productAkamai
		case strings.EqualFold(token, "kong"):
			return productKong // proxied answers carry Via: kong/x instead
		case strings.EqualFold(token, "Varnish"):
			return productVarnish // set on its own (synthetic) answers; relayed ones keep the backend's
		}
	}
	// 520-527 are Cloudflare's own codes for origin trouble it observed.
	if a.Code >= 520 && a.Code <= 527 && viaCloudflare(h) {
		return productCloudflare
	}
	// Caddy adds its Server value to every answer and keeps the one of an
	// answer it relays: alone, it wrote the answer.
	if vs := h["Server"]; len(vs) == 1 && strings.EqualFold(vs[0], "Caddy") {
		return productCaddy
	}
	server := ""
	if vs := h["Server"]; len(vs) == 1 {
		server = vs[0]
	}
	token := serverToken(server)
	switch {
	// nginx words its own 503 "Service Temporarily Unavailable"; a relayed
	// answer keeps the phrase its writer chose.
	case isNginx(token) && a.Code == http.StatusServiceUnavailable && a.Phrase == "Service Temporarily Unavailable":
		return productNginx
	case len(body) > 0:
		return ""
	case isNginx(token) && contentLength(h) == nginxPageLen(a.Code, a.Phrase, server):
		return productNginx
	case strings.EqualFold(token, "Apache") && strings.EqualFold(h.Get("Content-Type"), "text/html; charset=iso-8859-1"):
		return productApache // httpd's generated pages are Latin-1
	case server == "" && h.Get("Cache-Control") == "no-cache" && h.Get("Content-Type") == "text/html" &&
		contentLength(h) == haproxyPageLen(a.Code):
		return productHAProxy
	}
	return ""
}

func isNginx(token string) bool {
	return strings.EqualFold(token, "nginx") || strings.EqualFold(token, "openresty")
}

// contentLength is the declared body length, -1 when absent or invalid.
func contentLength(h http.Header) int {
	v := h.Get("Content-Length")
	if v == "" || len(v) > 9 {
		return -1
	}
	n := 0
	for _, c := range []byte(v) { // strconv's error would allocate
		if c < '0' || c > '9' {
			return -1
		}
		n = n*10 + int(c-'0')
	}
	return n
}

// nginxPageLen is the length of nginx's default error page for code (its
// ngx_http_error_pages with the server_tokens footer), -2 when there is none.
func nginxPageLen(code int, phrase, server string) int {
	if code < 500 || code > 599 || phrase == "" || server == "" {
		return -2
	}
	// <html>CRLF<head><title>CODE PHRASE</title></head>CRLF<body>CRLF
	// <center><h1>CODE PHRASE</h1></center>CRLF<hr><center>SERVER</center>CRLF</body>CRLF</html>CRLF
	status := 3 + 1 + len(phrase) // a 5xx code has three digits
	return 8 + (13 + status + 15 + 2) + 8 + (12 + status + 14 + 2) + (12 + len(server) + 9 + 2) + 9 + 9
}

// haproxyPageLen is the length of haproxy's built-in error page for code,
// -2 when it has none we know.
func haproxyPageLen(code int) int {
	switch code {
	case http.StatusInternalServerError:
		return 97
	case http.StatusBadGateway, http.StatusServiceUnavailable:
		return 107
	case http.StatusGatewayTimeout:
		return 92
	}
	return -2
}

// isAppServer reports whether Server names an application server; a 5xx
// that still carries one was written by the application (no proxy in
// between rewrote the header).
func isAppServer(token string) bool {
	for _, s := range [...]string{
		"gunicorn", "uvicorn", "hypercorn", "Werkzeug", "waitress", "TornadoServer",
		"Kestrel", "Jetty", "Apache-Coyote", "Puma", "WEBrick", "Cowboy",
	} {
		if strings.EqualFold(token, s) {
			return true
		}
	}
	return false
}

// appPages are framework error pages.
func appPages() [][]byte {
	return strs(
		"Whitelabel Error Page",                  // Spring Boot
		"Server Error in '/",                     // ASP.NET
		"Traceback (most recent call last)",      // Python with debug on
		"We're sorry, but something went wrong.", // Rails public/500.html
	)
}

func (b *builtins) isApp(h http.Header, body []byte) bool {
	if h.Get("X-Powered-By") != "" || h.Get("X-Aspnet-Version") != "" || h.Get("X-Runtime") != "" {
		return true
	}
	for _, v := range h["Server"] {
		if isAppServer(serverToken(v)) {
			return true
		}
	}
	// A JSON error document is an application's: proxies, load balancers
	// and CDNs write HTML or plain text (Kong's JSON pages are matched
	// before this), except API gateways, which say so in their headers.
	if isJSON(h, body) && h.Get("X-Amzn-Errortype") == "" {
		return true
	}
	for _, s := range b.appPages {
		if bytes.Contains(body, s) {
			return true
		}
	}
	return false
}

// isJSON reports whether the answer is a JSON document: its Content-Type
// says so and the body starts like one.
func isJSON(h http.Header, body []byte) bool {
	ct, _, _ := strings.Cut(h.Get("Content-Type"), ";")
	ct = strings.TrimSpace(ct)
	if !strings.EqualFold(ct, "application/json") && !(len(ct) > 5 && strings.EqualFold(ct[len(ct)-5:], "+json")) {
		return false
	}
	b := bytes.TrimLeft(body, " \t\r\n")
	return len(b) > 0 && (b[0] == '{' || b[0] == '[')
}

// viaCloudflare reports whether the answer passed through Cloudflare.
func viaCloudflare(h http.Header) bool {
	return h.Get("Cf-Ray") != "" || strings.EqualFold(serverToken(h.Get("Server")), "cloudflare")
}

// viaCloudFront reports whether the answer passed through CloudFront.
func viaCloudFront(h http.Header) bool {
	return h.Get("X-Amz-Cf-Id") != "" || strings.Contains(h.Get("Via"), "(CloudFront)") ||
		strings.EqualFold(serverToken(h.Get("Server")), "CloudFront")
}

// viaFastly reports whether the answer passed through Fastly: its cache
// nodes are named cache-<pop>-... in X-Served-By.
func viaFastly(h http.Header) bool {
	return hasPrefixFold(h.Get("X-Served-By"), "cache-") || h.Get("X-Fastly-Request-Id") != ""
}

// serverToken is the product part of a Server value: "nginx" for
// "nginx/1.25.3", "Google" for "Google Frontend".
func serverToken(s string) string {
	if i := strings.IndexAny(s, "/ "); i >= 0 {
		s = s[:i]
	}
	return s
}

func equalFold(b []byte, s string) bool {
	return len(b) == len(s) && strings.EqualFold(string(b), s)
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}
