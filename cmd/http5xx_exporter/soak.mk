# Soak (README "Development"): a real exporter binary, built into a
# temporary directory, probes SOAK_TARGETS healthy and hostile loopback
# targets (the kinds of TestHostileSoakBounds) every SOAK_INTERVAL for
# SOAK_DURATION, and every minute prints its RSS, goroutines, open
# descriptors and probes/s, then the first and last minute and the growth
# (soak_test.go, build tag soak). Ctrl-C ends it early with the summary.
# Included by the top-level Makefile; not part of make test.

SOAK_DURATION ?= 30m
SOAK_TARGETS  ?= 500
SOAK_INTERVAL ?= 15s

.PHONY: soak

# No go test timeout: the test ends itself after SOAK_DURATION and a
# bounded stop of the exporter.
soak:
	$(GO) vet -tags soak ./cmd/http5xx_exporter/
	$(GO) test -tags soak -count=1 -v -timeout 0 -run '^TestSoak$$' ./cmd/http5xx_exporter/ \
	  -args -soak.duration=$(SOAK_DURATION) -soak.targets=$(SOAK_TARGETS) -soak.interval=$(SOAK_INTERVAL)
