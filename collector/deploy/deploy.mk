# Deploy events (collector/deploy): brief fuzzing of the POST payload
# decoder and the storage reader, from the seed corpus in testdata/fuzz/.
# Included by the top-level Makefile; adds itself to make test.

DEPLOY_FUZZ_TIME ?= 5s

.PHONY: deploy-fuzz
deploy-fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzDecodePayload$$' -fuzztime $(DEPLOY_FUZZ_TIME) ./collector/deploy
	$(GO) test -run '^$$' -fuzz '^FuzzReadLog$$' -fuzztime $(DEPLOY_FUZZ_TIME) ./collector/deploy

TEST_TARGETS += deploy-fuzz
