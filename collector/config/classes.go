package config

import "github.com/http5xx/http5xx_exporter/collector/contract"

// reasons names no-answer reasons for a class's reasons list.
func reasons(rs ...contract.Reason) []string {
	names := make([]string, len(rs))
	for i, r := range rs {
		names[i] = r.String()
	}
	return names
}

// DefaultClasses returns the error-class table used when the configuration
// has no classes section (docs/architecture.md's table plus the CDN vendor codes 520-527).
// Each call returns a fresh copy.
func DefaultClasses() []Class {
	return []Class{
		{
			Name:      "app",
			Codes:     StatusCodes{{500, 500}, {501, 501}, {505, 599}},
			Reasons:   reasons(contract.ReasonTooLarge, contract.ReasonRedirectLoop, contract.ReasonRedirectRefused, contract.ReasonSoftError),
			Owner:     "app-team",
			FirstMove: "Read the application's error log (nginx/Apache error log on a host, runtime logs on a managed platform): uncaught exception, bad deploy, broken server config.",
		},
		{
			Name: "gateway",
			// 520: Cloudflare's unknown error from the origin; 521: origin web
			// server down; 527: Railgun connection error.
			Codes:     StatusCodes{{502, 502}, {520, 520}, {521, 521}, {527, 527}},
			Reasons:   reasons(contract.ReasonConnectRefused, contract.ReasonReset, contract.ReasonMalformed),
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
			Reasons:   reasons(contract.ReasonTimeout, contract.ReasonConnectTimeout),
			Owner:     "db-api-owners",
			FirstMove: "Profile the slow path (slow queries, loops, a hung third-party API) and add what is missing; raising the proxy timeout is the last resort.",
		},
		{
			Name: "network",
			// 523: origin unreachable; 525: TLS handshake with the origin
			// failed; 526: invalid origin certificate.
			Codes:     StatusCodes{{523, 523}, {525, 525}, {526, 526}},
			Reasons:   reasons(contract.ReasonDNS, contract.ReasonTLS),
			Owner:     "network",
			FirstMove: "Check the resolver, certificates and this location's network; failing from one location only points at its network or ISP.",
		},
	}
}
