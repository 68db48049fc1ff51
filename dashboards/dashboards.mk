# Grafana dashboards: Go definitions in their own module (dashboards/go.mod),
# so that neither the Grafana SDK nor Prometheus enters the exporter binary.
# The JSON is generated and checked in; dashboards-test fails on drift.

.PHONY: dashboards dashboards-test

# Regenerate dashboards/*.json after changing the Go definitions.
dashboards:
	cd dashboards && $(GO) run ./cmd/gen

# Drift, schema, conventions, PromQL parsing, metric names against
# collector/testdata/metrics.golden and rules/*.yml, deploy annotation semantics.
dashboards-test:
	cd dashboards && $(GO) vet ./... && $(GO) test $(GOTEST_FLAGS) ./...

TEST_TARGETS += dashboards-test
