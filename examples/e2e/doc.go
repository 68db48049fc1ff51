// Package e2e runs the product the way a user deploys it: the demo origin,
// three exporters in three locations, a Prometheus per location, a global
// Prometheus with the rule pack, and Alertmanager, all real binaries on
// loopback, with a webhook recorder in place of every receiver. The test
// itself needs the e2e build tag (make e2e). What it shares with the other
// stack tests (processes, timeline, API readers, the configuration rewrites)
// is examples/stacktest. See examples/multi-location/README.md.
package e2e
