# Deploy events (collector/deploy): brief fuzzing of the POST payload
# decoder, the storage reader and the replay of a log, from the seed corpus in testdata/fuzz/.
# Included by the top-level Makefile. make test fuzzes these targets through
# make hardening (collector/hardening.mk), which fuzzes every target of the
# repository; deploy-fuzz stays for a longer run of these alone.

DEPLOY_FUZZ_TIME ?= 50000x

.PHONY: deploy-fuzz
deploy-fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzDecodePayload$$' -fuzztime $(DEPLOY_FUZZ_TIME) ./collector/deploy
	$(GO) test -run '^$$' -fuzz '^FuzzReadLog$$' -fuzztime $(DEPLOY_FUZZ_TIME) ./collector/deploy
	$(GO) test -run '^$$' -fuzz '^FuzzReplayLog$$' -fuzztime $(DEPLOY_FUZZ_TIME) ./collector/deploy
