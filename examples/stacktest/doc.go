// Package stacktest is what the end-to-end tests share to run the product
// the way a user deploys it, with real binaries on loopback: processes that
// never outlive the test, a timeline, readers of the Prometheus API and of
// Alertmanager's webhooks, bounded waits, and the mechanical rewrites of the
// configurations a test copies (time compression, free ports, receivers).
// Its users are examples/e2e (one exporter per location, federation),
// examples/global (shards, replicas and VictoriaMetrics) and
// examples/realtime (the rule pack at production speed).
package stacktest
