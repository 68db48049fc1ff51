package main

import (
	"fmt"
	"net/http"
	"strings"
)

// answer is one ordinary HTTP answer: a status code, an optional Retry-After
// and the product whose error page a 5xx imitates ("" for a plain body).
type answer struct {
	status     int
	retryAfter string
	as         string
}

// productList names the values ?as= and the "as" field accept, for messages.
const productList = "nginx, envoy, cloudflare, haproxy"

// knownProduct reports whether as names an imitated product ("" is plain).
func knownProduct(as string) bool {
	switch as {
	case "", "nginx", "envoy", "cloudflare", "haproxy":
		return true
	}
	return false
}

// write sends the answer. ray identifies the request for products that tag
// their errors (Cloudflare's CF-RAY).
func (a answer) write(w http.ResponseWriter, ray uint64) {
	h := w.Header()
	if a.retryAfter != "" {
		h.Set("Retry-After", a.retryAfter)
	}
	body := plainBody(a.status)
	h.Set("Content-Type", "text/plain; charset=utf-8")
	// The product's headers go on every answer (a proxy stamps them all);
	// its error page only replaces the body of a 5xx.
	switch a.as {
	case "nginx":
		h.Set("Server", "nginx")
		if a.status >= 500 {
			h.Set("Content-Type", "text/html")
			body = nginxPage(a.status, "nginx")
		}
	case "envoy":
		h.Set("Server", "envoy")
		if a.status >= 500 {
			body = envoyBody(a.status)
		}
	case "cloudflare":
		h.Set("Server", "cloudflare")
		h.Set("CF-RAY", fmt.Sprintf("%016x-AMS", ray))
		if a.status >= 500 {
			h.Set("Content-Type", "text/html; charset=UTF-8")
			body = cloudflarePage(a.status, ray)
		}
	case "haproxy":
		if a.status >= 500 {
			h.Set("Cache-Control", "no-cache")
			h.Set("Content-Type", "text/html")
			body = haproxyPage(a.status)
		}
	}
	switch {
	case a.status == http.StatusSwitchingProtocols:
		// A final 101 hands the connection to a protocol that never comes:
		// send the header and close, instead of leaving both ends waiting
		// on a connection neither will use again.
		w.WriteHeader(a.status)
		_ = hijack(w).Close()
		return
	case a.status < 200:
		// HTTP has no final 1xx answer: send it as an interim response, then 200.
		w.WriteHeader(a.status)
		body = plainBody(http.StatusOK)
		w.WriteHeader(http.StatusOK)
	default:
		w.WriteHeader(a.status)
	}
	_, _ = w.Write([]byte(body))
}

func statusText(code int) string {
	if t := http.StatusText(code); t != "" {
		return t
	}
	return "Status " + fmt.Sprint(code)
}

func plainBody(code int) string {
	return fmt.Sprintf("%d %s\n", code, statusText(code))
}

// nginxPage is nginx's built-in error page (ngx_http_special_response.c),
// which other proxies built on nginx copy with their own name in the footer.
func nginxPage(code int, footer string) string {
	title := fmt.Sprintf("%d %s", code, statusText(code))
	switch code { // nginx's own wording where it differs from Go's
	case http.StatusServiceUnavailable:
		title = "503 Service Temporarily Unavailable"
	case http.StatusGatewayTimeout:
		title = "504 Gateway Time-out"
	}
	return strings.Join([]string{
		"<html>",
		"<head><title>" + title + "</title></head>",
		"<body>",
		"<center><h1>" + title + "</h1></center>",
		"<hr><center>" + footer + "</center>",
		"</body>",
		"</html>",
		"",
	}, "\r\n")
}

// envoyBody is Envoy's local reply text for the code.
func envoyBody(code int) string {
	switch code {
	case http.StatusGatewayTimeout:
		return "upstream request timeout"
	case http.StatusBadGateway:
		return "upstream connect error or disconnect/reset before headers. reset reason: protocol error"
	case http.StatusServiceUnavailable:
		return "upstream connect error or disconnect/reset before headers. reset reason: connection failure"
	default:
		return "upstream connect error or disconnect/reset before headers. reset reason: remote reset"
	}
}

// cloudflarePage is Cloudflare's branded page for its own 52x codes and the
// nginx-style page its edge serves for the classic 5xx codes.
func cloudflarePage(code int, ray uint64) string {
	var text string
	switch code {
	case 520:
		text = "Web server is returning an unknown error"
	case 521:
		text = "Web server is down"
	case 522:
		text = "Connection timed out"
	case 523:
		text = "Origin is unreachable"
	case 524:
		text = "A timeout occurred"
	case 525:
		text = "SSL handshake failed"
	case 526:
		text = "Invalid SSL certificate"
	default:
		return nginxPage(code, "cloudflare")
	}
	return fmt.Sprintf(`<!DOCTYPE html>
<html lang="en-US">
<head><title>demo-origin | %[1]d: %[2]s</title></head>
<body>
<div id="cf-wrapper">
<h1><span class="cf-error-type">Error</span> <span class="cf-error-code">%[1]d</span></h1>
<h2 class="cf-subheadline">%[2]s</h2>
<p>Cloudflare Ray ID: <strong>%016[3]x</strong></p>
</div>
</body>
</html>
`, code, text, ray)
}

// haproxyPage is HAProxy's built-in error file for the code.
func haproxyPage(code int) string {
	title := fmt.Sprintf("%d %s", code, statusText(code))
	text := "An internal server error occurred."
	switch code {
	case http.StatusBadGateway:
		text = "The server returned an invalid or incomplete response."
	case http.StatusServiceUnavailable:
		text = "No server is available to handle this request."
	case http.StatusGatewayTimeout:
		title = "504 Gateway Time-out"
		text = "The server didn't respond in time."
	}
	return "<html><body><h1>" + title + "</h1>\n" + text + "\n</body></html>\n"
}
