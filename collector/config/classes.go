package config

import "strconv"

// Reasons are the no-answer reasons a class may list, in the order of the
// metric contract's http5xx_failures_total.
var Reasons = []string{"dns", "connect_refused", "connect_timeout", "tls", "timeout", "reset", "malformed", "too_large", "redirect_loop"}

// DefaultClasses returns the error-class table used when the configuration
// has no classes section (DESIGN.md's table plus the CDN vendor codes 520-527).
// Each call returns a fresh copy.
func DefaultClasses() []Class {
	return []Class{
		{
			Name:      "app",
			Codes:     StatusCodes{{500, 500}, {501, 501}, {505, 599}},
			Reasons:   []string{"too_large", "redirect_loop"},
			Owner:     "app-team",
			FirstMove: "Read the application's error log (nginx/Apache error log on a host, runtime logs on a managed platform): uncaught exception, bad deploy, broken server config.",
		},
		{
			Name: "gateway",
			// 520: Cloudflare's unknown error from the origin; 521: origin web
			// server down; 527: Railgun connection error.
			Codes:     StatusCodes{{502, 502}, {520, 520}, {521, 521}, {527, 527}},
			Reasons:   []string{"connect_refused", "reset", "malformed"},
			Owner:     "app-infra",
			FirstMove: "Is the backend process (php-fpm, Node process manager, container) running? Restart it if it is down, then find out why it died.",
		},
		{
			Name:      "capacity",
			Codes:     StatusCodes{{503, 503}},
			Owner:     "sre-oncall",
			FirstMove: "Check saturation (CPU, RAM, connections) and any maintenance flag left on; shed load with caching, rate limiting or the CDN's attack mode.",
		},
		{
			Name: "timeout",
			// 522: connection to the origin timed out; 524: origin took too
			// long to answer.
			Codes:     StatusCodes{{504, 504}, {522, 522}, {524, 524}},
			Reasons:   []string{"timeout", "connect_timeout"},
			Owner:     "db-api-owners",
			FirstMove: "Profile the slow path (slow queries, loops, a hung third-party API) and add what is missing; raising the proxy timeout is the last resort.",
		},
		{
			Name: "network",
			// 523: origin unreachable; 525: TLS handshake with the origin
			// failed; 526: invalid origin certificate.
			Codes:     StatusCodes{{523, 523}, {525, 525}, {526, 526}},
			Reasons:   []string{"dns", "tls"},
			Owner:     "network",
			FirstMove: "Check the resolver, certificates and this location's network; failing from one location only points at its network or ISP.",
		},
	}
}

// CodeClass returns the class and owner of an HTTP status code.
//
// Resolution: a class listing the code on its own wins over a class whose
// range holds it (so 520 leaves app's 505-599 for gateway). Validation makes
// sure no code is listed alone twice and no two ranges overlap, so the answer
// never depends on the order of the table. A code in no class gets its
// hundred's class ("2xx", "4xx", "5xx") and no owner: 429 and 499 stay "4xx"
// unless a class lists them.
func CodeClass(classes []Class, code int) (class, owner string) {
	var inRange *Class
	for i := range classes {
		for _, r := range classes[i].Codes {
			if r.Single() && r.Lo == code {
				return classes[i].Name, classes[i].Owner
			}
			if inRange == nil && r.Lo <= code && code <= r.Hi {
				inRange = &classes[i]
			}
		}
	}
	if inRange != nil {
		return inRange.Name, inRange.Owner
	}
	if code < 100 || code > 999 {
		return "", ""
	}
	return strconv.Itoa(code/100) + "xx", ""
}

// ReasonClass returns the class and owner of a no-answer reason, or two empty
// strings when no class lists it.
func ReasonClass(classes []Class, reason string) (class, owner string) {
	for _, c := range classes {
		for _, r := range c.Reasons {
			if r == reason {
				return c.Name, c.Owner
			}
		}
	}
	return "", ""
}
