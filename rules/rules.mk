# Alert rule pack and Alertmanager routing (rules/, examples/alertmanager.yml,
# examples/kubernetes/prometheusrule.yaml). Included by the root Makefile.
#
# The Go checks live in their own module (rules/go.mod) so that Prometheus'
# PromQL parser and Alertmanager's config never enter the exporter's go.mod.

RULES_DIR        := rules
RULE_FILES       := $(RULES_DIR)/http5xx-recording.yml $(RULES_DIR)/http5xx-alerts.yml
ALERTMANAGER_YML := examples/alertmanager.yml
PROMETHEUSRULE   := examples/kubernetes/prometheusrule.yaml

.PHONY: rules-test rules-generate

TEST_TARGETS += rules-test

# promtool: rules valid and their unit tests; amtool: the Alertmanager config;
# the rules module: routing table (amtool), inhibition, consistency with the
# exporter's golden /metrics, conventions; the PrometheusRule is up to date.
rules-test: $(BIN)/promtool $(BIN)/amtool
	$(BIN)/promtool check rules --lint=all --lint-fatal $(RULE_FILES)
	$(BIN)/promtool test rules $(RULES_DIR)/tests/*.yml
	$(BIN)/amtool check-config $(ALERTMANAGER_YML)
	@out=$$(gofmt -l $(RULES_DIR)); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	cd $(RULES_DIR) && $(GO) vet ./...
	cd $(RULES_DIR) && AMTOOL=$(BIN)/amtool $(GO) test $(GOTEST_FLAGS) ./...
	@tmp=$$(mktemp) && trap 'rm -f "$$tmp"' EXIT && \
	  (cd $(RULES_DIR) && $(GO) run ./cmd/gen-prometheusrule -o "$$tmp") && \
	  { diff -u $(PROMETHEUSRULE) "$$tmp" || \
	    { echo "$(PROMETHEUSRULE) is out of date: run make rules-generate"; exit 1; }; }

# Regenerate the Kubernetes PrometheusRule from the rule files.
rules-generate:
	@mkdir -p $(dir $(PROMETHEUSRULE))
	cd $(RULES_DIR) && $(GO) run ./cmd/gen-prometheusrule -o $(CURDIR)/$(PROMETHEUSRULE)
