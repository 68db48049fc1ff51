# Alert rule pack and Alertmanager routing (rules/, examples/alertmanager.yml,
# examples/kubernetes/prometheusrule.yaml). Included by the root Makefile.
#
# The Go checks live in their own module (rules/go.mod) so that Prometheus'
# PromQL parser and Alertmanager's config never enter the exporter's go.mod.

RULES_DIR        := rules
RULE_FILES       := $(RULES_DIR)/http5xx-recording.yml $(RULES_DIR)/http5xx-alerts.yml
ALERTMANAGER_YML := examples/alertmanager.yml
PROMETHEUSRULE   := examples/kubernetes/prometheusrule.yaml
# The pack's configuration; the checked-in files are generated from this one.
PACK             ?= $(RULES_DIR)/pack.yml

.PHONY: rules-test rules-generate

TEST_TARGETS += rules-test

# promtool: rules valid and their unit tests; amtool: the Alertmanager config;
# the rules module: the generator, routing table (amtool), inhibition,
# consistency with the exporter's golden /metrics, conventions; the rule
# files and the PrometheusRule are what rules/pack.yml generates.
rules-test: $(BIN)/promtool $(BIN)/amtool
	$(BIN)/promtool check rules --lint=all --lint-fatal $(RULE_FILES)
	$(BIN)/promtool test rules $(RULES_DIR)/tests/*.yml
	$(BIN)/amtool check-config $(ALERTMANAGER_YML)
	@out=$$(gofmt -l $(RULES_DIR)); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	cd $(RULES_DIR) && $(GO) vet ./...
	cd $(RULES_DIR) && AMTOOL=$(BIN)/amtool $(GO) test $(GOTEST_FLAGS) ./...
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	  (cd $(RULES_DIR) && $(GO) run ./cmd/gen -pack pack.yml -rules "$$tmp" -prometheusrule "$$tmp/prometheusrule.yaml") && \
	  for f in $(RULE_FILES) $(PROMETHEUSRULE); do \
	    diff -u $$f "$$tmp/$$(basename $$f)" || \
	      { echo "$$f is out of date: run make rules-generate"; exit 1; }; \
	  done

# Regenerate the rule files, the Kubernetes PrometheusRule and the
# dashboards' links from the pack's configuration:
# make rules-generate PACK=my-pack.yml for your own values.
rules-generate:
	@mkdir -p $(dir $(PROMETHEUSRULE))
	cd $(RULES_DIR) && $(GO) run ./cmd/gen -pack $(abspath $(PACK)) -rules . -prometheusrule $(CURDIR)/$(PROMETHEUSRULE)
	cd dashboards && $(GO) run ./cmd/gen -pack $(abspath $(PACK))
