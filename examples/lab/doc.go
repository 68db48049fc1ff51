// Package lab runs real products — Debian's nginx, haproxy, Apache httpd,
// Varnish, Caddy and php-fpm — on loopback in front of small Go origins,
// makes each fail the way it fails in production, and records the genuine
// answers as fixtures under collector/fingerprint/testdata/lab/.
//
// The scenarios and the truth a responder needs for each (the cause class,
// the hop that wrote the page, the log line that proves it) are one table,
// scenarios in scenarios_test.go; scenarios.md is generated from it. The lab
// itself needs the products and the lab build tag (make lab); without the
// tag only the checks of the table against the fixtures and scenarios.md
// run.
package lab
