package fingerprint

import (
	"bytes"
	"net/http"
	"strconv"
)

// ErrorPage says whether a 2xx answer is a product's or framework's own
// error page, served with a success code (a proxy's error_page rewritten to
// 200, a cached error, PHP printing a fatal error into the page): a soft
// error the code hides. It proves it or says nothing: a known product's
// page must also state a 5xx code (its title or heading), unless the page
// exists only for failures (haproxy's, envoy's and Kong's local replies,
// nginx's stock 50x.html); pages that could be an application's own
// content, and every 4xx page, stay unflagged. The zero Match (Product "")
// means no proof. Only the first MaxBody bytes are read; user rules are not
// consulted, since they describe 5xx answers.
func (m *Matcher) ErrorPage(a *Answer) Match {
	if a.Code < 200 || a.Code > 299 || len(a.Body) == 0 {
		return Match{}
	}
	body := a.Body
	if len(body) > MaxBody {
		body = body[:MaxBody]
	}
	b := &m.builtins
	product, code := b.pageProduct(a.Header, body), stated5xx(body)
	switch product {
	case "":
		switch {
		case bytes.Contains(body, b.nginx50x) && bytes.Contains(body, b.nginxFaithfully):
			product = productNginx // a page that exists for failures alone
		case bytes.Contains(body, b.whitelabel) && code != 0:
			product = productApp
		case (bytes.Contains(body, b.phpFatal) || bytes.Contains(body, b.phpParse)) && bytes.Contains(body, b.phpOnLine):
			return Match{Layer: layerOf(productApp, 0), Product: productApp,
				Cause: "PHP printed a fatal error into the page and the status stayed 2xx (display_errors is on)"}
		default:
			return Match{}
		}
	case productHAProxy, productEnvoy, productKong:
		// Their signatures are phrases of failure alone.
	case productCloudflare:
		if code == 0 && !bytes.Contains(body, b.cloudflare5xx) {
			return Match{}
		}
	default:
		if code == 0 {
			return Match{} // maybe the product's 4xx page, or a page about it
		}
	}
	// Two hops claiming the page is ambiguous: no proof.
	if hp := headerProduct(a, body); hp != "" && hp != product {
		return Match{}
	}
	page := "error page"
	if code != 0 {
		page = strconv.Itoa(code) + " error page"
	}
	layerCode := code
	if layerCode == 0 {
		layerCode = http.StatusBadGateway
	}
	return Match{
		Layer: layerOf(product, layerCode), Product: product,
		Cause: product + "'s own " + page + " served with a 2xx status",
	}
}

// codeMarkers precede the status code a product's error page states in its
// title or heading: "<title>502 Bad Gateway", "<h1>Error 503 Backend fetch
// failed", "<H1>502 ERROR", "error code: 522", "shop.example.com | 522:",
// Spring's "status=500)".
var codeMarkers = [][]byte{
	[]byte("<title>"), []byte("<h1>"), []byte("<H1>"), []byte("<title>Error "), []byte("<h1>Error "),
	[]byte("error code: "), []byte(" | "), []byte("status="),
}

// stated5xx returns the 5xx code the page states right after one of the
// markers, 0 when it states none.
func stated5xx(body []byte) int {
	for _, mk := range codeMarkers {
		rest := body
		for {
			i := bytes.Index(rest, mk)
			if i < 0 {
				break
			}
			rest = rest[i+len(mk):]
			if len(rest) >= 3 && rest[0] == '5' && isDigit(rest[1]) && isDigit(rest[2]) && (len(rest) == 3 || !isDigit(rest[3])) {
				return 500 + int(rest[1]-'0')*10 + int(rest[2]-'0')
			}
		}
	}
	return 0
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
