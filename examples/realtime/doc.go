// Package realtime proves the time to page at production speed: the
// generated rule pack, unmodified, against three exporters (eu, us, ap) at
// 15 s probes, a real Prometheus scraping them every 15 s and evaluating the
// pack, and Alertmanager with the shipped routing, whose receivers point at
// a webhook recorder. Five scenarios run side by side, each on its own
// target and service: a hard 502 everywhere, a 502 from one location, a
// 60 s blip, a 60 s on / 60 s off flap, and a 503 inside a maintenance
// window that goes on after it. The test itself needs the realtime build
// tag (make e2e-realtime).
package realtime
