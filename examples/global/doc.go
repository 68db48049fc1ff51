// Package global is the reference setup for the global view at scale: in
// every location the exporters split the targets into shards and run each
// shard twice, a Prometheus HA pair scrapes them and writes to
// VictoriaMetrics, and vmalert evaluates the rule pack on every location's
// series (README.md). The end-to-end test of that setup needs the e2e build
// tag (make e2e-scale).
package global
