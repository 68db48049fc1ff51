# End-to-end test of the multi-location reference setup (examples/e2e/,
# examples/multi-location/): the demo origin, three exporters, a Prometheus
# per location, a global one with the rule pack and Alertmanager, all real and
# on loopback. Included by the top-level Makefile; adds itself to make test.

E2E_FLAGS ?= -count=1 -v -timeout 10m

.PHONY: e2e examples-check

# The binaries and the pinned tools first; the test starts them from .bin/.
e2e: build $(BIN)/prometheus $(BIN)/promtool $(BIN)/alertmanager $(BIN)/amtool
	$(GO) vet -tags e2e ./examples/e2e/
	$(GO) test -tags e2e $(E2E_FLAGS) -run . ./examples/e2e/

# The example Prometheus configurations (and the rule files they load) and
# the multi-location exporter configuration, as the real tools read them.
examples-check: $(BIN)/promtool $(BIN)/http5xx_exporter
	$(BIN)/promtool check config examples/prometheus.yml examples/multi-location/prometheus-*.yml
	$(BIN)/http5xx_exporter config check examples/multi-location/http5xx.yml
	$(BIN)/http5xx_exporter config check examples/target-labels/http5xx.yml
	$(BIN)/promtool check rules examples/target-labels/team.rules.yml
	cd examples/target-labels && $(BIN)/promtool test rules team.test.yml

TEST_TARGETS      += examples-check
TEST_WAIT_TARGETS += e2e
