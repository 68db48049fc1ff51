# The container image (Dockerfile at the top, examples/container/). Included by
# the top-level Makefile; adds image-test to make test.

IMAGE_NAME ?= http5xx/http5xx_exporter
# Image tags allow no "+": 0.0.0-dev+abc becomes 0.0.0-dev-abc.
IMAGE_TAG  ?= $(subst +,-,$(RELEASE_VERSION))
IMAGE      ?= $(IMAGE_NAME):$(IMAGE_TAG)

.PHONY: image image-test

# podman (or buildah) builds the image of this machine's architecture from the
# release archive of the commit.
image: release-host
	examples/container/image.sh $(DIST) $(HOST_ARCH) $(IMAGE)

# The image's root filesystem runs its entrypoint under chroot as its user.
image-test:
	@start=$$(date +%s); \
	 if ! command -v podman >/dev/null && ! command -v buildah >/dev/null && [ -z "$$CI" ]; then \
	   echo "!!! make image-test: SKIPPED — neither podman nor buildah is installed (apt-get install podman); with CI set this fails !!!"; \
	   exit 0; \
	 fi; \
	 $(MAKE) --no-print-directory image && examples/container/image_test.sh $(IMAGE) && \
	 echo "make image-test: $$(( $$(date +%s) - start ))s"

TEST_TARGETS += image-test
