# The lab (examples/lab/, see scenarios.md): Debian's nginx, haproxy,
# apache2, varnish, caddy and php-fpm fail on loopback in front of small Go
# origins; their genuine answers are the fixtures in
# collector/fingerprint/testdata/lab/. The test needs the lab build tag, so
# go test ./... never starts a product (it only checks the table against
# the fixtures). TestSaturation (saturation_test.go) holds real nginx and
# php-fpm at 0 to 100 % and checks the saturation sources against their own
# numbers. Needs the Debian packages, which .ci/run installs.
# Included by the top-level Makefile; adds itself to make test.

LAB_FLAGS ?= -count=1 -timeout 5m

.PHONY: lab lab-update

lab:
	$(GO) vet -tags lab ./examples/lab/
	$(GO) test -tags lab $(LAB_FLAGS) ./examples/lab/

# After a product changed: rewrite the fixtures and scenarios.md, then
# review the diff like code.
lab-update:
	$(GO) test -tags lab $(LAB_FLAGS) ./examples/lab/ -update

TEST_WAIT_TARGETS += lab
