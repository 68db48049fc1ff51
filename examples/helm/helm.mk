# The Helm chart (examples/helm/http5xx-exporter/). Included by the top-level
# Makefile; adds helm-test to make test.

HELM_VERSION := v4.3.2
HELM_CHART   := examples/helm/http5xx-exporter
# The rule pack as the chart's PrometheusRule reads it, generated from rules/.
HELM_RULES   := $(HELM_CHART)/files/prometheusrule.yaml

.PHONY: helm-test helm-generate

# Pinned like the other tools: built from the Go module proxy into .bin/.
$(BIN)/helm:
	GOBIN=$(BIN) $(GO) install helm.sh/helm/v4/cmd/helm@$(HELM_VERSION)

# rules/'s generator writes the pack from $(PACK), as for examples/kubernetes/
# (rule files left alone: -rules ""). $(1): the output file.
helm-rules = cd rules && $(GO) run ./cmd/gen -pack $(abspath $(or $(PACK),rules/pack.yml)) -rules "" -prometheusrule $(1)

# Regenerate the chart's copy of the rule pack after a change in rules/;
# make rules-generate runs it too, so one command updates both PrometheusRules.
helm-generate:
	$(call helm-rules,$(CURDIR)/$(HELM_RULES))

rules-generate: helm-generate

# The rule pack is current; helm lint with the default values and with every
# switch on; the Go test renders the chart (defaults, everything on, existing
# objects, bad values) and checks the manifests against the exporter, the
# rule pack and examples/kubernetes/exporter.yaml.
helm-test: $(BIN)/helm $(BIN)/http5xx_exporter
	@start=$$(date +%s); \
	 tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	 ( $(call helm-rules,$$tmp/prometheusrule.yaml) ) && \
	 { diff -u $(HELM_RULES) $$tmp/prometheusrule.yaml || \
	   { echo "$(HELM_RULES) is out of date: run make helm-generate"; exit 1; }; } && \
	 export HELM_CACHE_HOME=$$tmp/cache HELM_CONFIG_HOME=$$tmp/config HELM_DATA_HOME=$$tmp/data && \
	 $(BIN)/helm lint --strict $(HELM_CHART) && \
	 $(BIN)/helm lint --strict $(HELM_CHART) -f examples/helm/testdata/all.yaml && \
	 $(BIN)/helm template probe $(HELM_CHART) >/dev/null && \
	 $(BIN)/helm template probe $(HELM_CHART) -f examples/helm/testdata/all.yaml >/dev/null && \
	 $(GO) vet -tags helm ./examples/helm/ && \
	 $(GO) test -tags helm $(GOTEST_FLAGS) ./examples/helm/ && \
	 echo "make helm-test: $$(( $$(date +%s) - start ))s"

TEST_TARGETS += helm-test
