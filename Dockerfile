# The http5xx_exporter image: the release binary on an empty base, no shell, no
# package manager, run as nobody. `make image` builds it with podman or buildah
# from a context it stages (examples/container/image.sh): the linux binary from
# the release archive in dist/, that archive's LICENSE and example config, the
# build machine's CA bundle (for https targets), and passwd/group.
#
#   podman run -p 10505:10505 -v ./http5xx.yml:/etc/http5xx_exporter/http5xx.yml:ro \
#     -v http5xx-data:/var/lib/http5xx_exporter http5xx/http5xx_exporter:0.1.0
#
# Arguments replace CMD, as in Prometheus' images: repeat --config.file and
# --storage.path when passing others (kingpin rejects a flag given twice, so
# they cannot live in ENTRYPOINT).
FROM scratch

ARG ARCH="amd64"
ARG OS="linux"
ARG VERSION="0.0.0-dev"
LABEL org.opencontainers.image.title="http5xx_exporter" \
      org.opencontainers.image.description="Probes HTTP targets and tells which 5xx, whose problem, and what changed" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0"

COPY passwd group /etc/
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY LICENSE /LICENSE
COPY http5xx.yml /etc/http5xx_exporter/http5xx.yml
COPY .build/${OS}-${ARCH}/http5xx_exporter /bin/http5xx_exporter
# The deploy log's directory, owned by nobody; rootfs/ creates /var/lib first,
# owned by root (COPY --chown would give nobody the parents it creates).
COPY rootfs/ /
COPY --chown=65534:65534 state/ /var/lib/http5xx_exporter/

USER       65534:65534
WORKDIR    /var/lib/http5xx_exporter
EXPOSE     10505
VOLUME     ["/var/lib/http5xx_exporter"]
ENTRYPOINT ["/bin/http5xx_exporter"]
CMD        ["--config.file=/etc/http5xx_exporter/http5xx.yml", \
            "--storage.path=/var/lib/http5xx_exporter"]
