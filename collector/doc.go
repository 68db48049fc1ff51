// Package collector is the exporter's engine and, in its sub-packages, the
// engine's parts — not only Prometheus collectors. The engine (Exporter)
// applies one configuration at a time: it builds a prober per target,
// schedules them, and hands every finished result to the metrics (Metrics,
// the probe-path series) and to its sinks (status store, deploy detection).
//
// Each sub-package has one job, and imports run one way, from the engine
// down to the vocabulary (docs/architecture.md draws the whole flow):
//
//	contract     metric names and every label value emitted
//	selector     dotted JSON field paths and metric selectors
//	config       YAML schema, defaults, validation with file:line
//	shard        which targets this exporter's shard keeps (rendezvous hash)
//	api          the JSON envelope of every /api/v1 answer
//	fetch        the one bounded GET of side channels (saturation, version)
//	fingerprint  which hop wrote a 5xx answer
//	expect       a target's expect conditions on an answer (soft errors)
//	triage       the one place a result is finished: class, owner, layer, first move
//	probe        one HTTP probe of one target
//	schedule     when each probe runs, under the in-flight limit
//	saturation   saturation readings of a target's own status page
//	deploy       deploy events: API, detection, durable store
//	discovery    file_sd and http_sd sources, relabelled into targets
//	reload       targets come in: load (files, discovery) → filter → apply
//	status       the status store, pages and /api/v1/status
//	adhoc        guarded one-off checks of URLs that are not targets
//	fanout       asking every location at once (check --from, status --from, /check)
package collector
