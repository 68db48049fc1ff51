# The global view at scale (examples/global/, examples/kubernetes/scale.yaml):
# exporters sharded and replicated in two locations, a Prometheus HA pair per
# location writing to VictoriaMetrics, vmalert with the rule pack, and
# Alertmanager. Included by the top-level Makefile; adds global-check to the
# CPU lane and e2e-scale to the wait lane of make test.

# Pinned like Prometheus and Alertmanager: built from the Go module proxy into
# .bin/ by go install (a cold build of both takes about two minutes on two
# cores). Newer releases need a newer Go than this repository's.
VICTORIAMETRICS_VERSION := v1.151.0

$(BIN)/victoria-metrics:
	GOBIN=$(BIN) $(GO) install github.com/VictoriaMetrics/VictoriaMetrics/app/victoria-metrics@$(VICTORIAMETRICS_VERSION)
$(BIN)/vmalert:
	GOBIN=$(BIN) $(GO) install github.com/VictoriaMetrics/VictoriaMetrics/app/vmalert@$(VICTORIAMETRICS_VERSION)

# make test builds the tools once, before its lanes start.
tools: $(BIN)/victoria-metrics $(BIN)/vmalert

E2E_SCALE_FLAGS ?= -count=1 -v -timeout 8m

.PHONY: global-check e2e-scale

# The reference configurations as the real tools read them: promtool (both
# replicas of each location's pair), VictoriaMetrics' and vmalert's own
# checks of the relabelling and of the rule pack, the exporter's config
# check. TestKubernetesScale (examples/, in make unit) checks the Kubernetes
# variant against the exporter and these files.
global-check: $(BIN)/promtool $(BIN)/victoria-metrics $(BIN)/vmalert $(BIN)/http5xx_exporter
	cd examples/global && for r in a b; do PROMETHEUS_REPLICA=$$r $(BIN)/promtool check config prometheus-*.yml || exit 1; done
	$(BIN)/victoria-metrics -dryRun -loggerLevel=ERROR -relabelConfig=examples/global/vm-relabel.yml
	$(BIN)/vmalert -dryRun -loggerLevel=ERROR -rule=rules/http5xx-recording.yml -rule=rules/http5xx-alerts.yml
	$(BIN)/http5xx_exporter config check examples/global/http5xx.yml

# The scaled setup for real, time-compressed: 2 locations x 2 shards x 2
# replicas, the HA pairs, VictoriaMetrics, vmalert, Alertmanager.
e2e-scale: build $(BIN)/prometheus $(BIN)/promtool $(BIN)/alertmanager $(BIN)/amtool $(BIN)/victoria-metrics $(BIN)/vmalert
	$(GO) vet -tags e2e ./examples/global/
	$(GO) test -tags e2e $(E2E_SCALE_FLAGS) -run . ./examples/global/

TEST_TARGETS      += global-check
TEST_WAIT_TARGETS += e2e-scale
