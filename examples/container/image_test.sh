#!/usr/bin/env bash
# make image-test: the image built by make image starts, probes and serves
# /metrics — without a container runtime, which this kind of sandbox lacks.
#
#   image_test.sh IMAGE
#
# The image's root filesystem is exported from a created (never started)
# container (podman export; buildah from + mount without podman), its config
# (user, entrypoint, cmd, ports, volume) is read from the image, and the
# entrypoint is run from that filesystem with chroot as the image's user. The
# example config is replaced by one whose target is the exporter's own
# /-/healthy on a loopback port, as a user mounts their config over it.
# Without podman and buildah it skips loudly, unless CI is set: then it fails.
set -euo pipefail

image=${1:?usage: image_test.sh IMAGE}
start=$SECONDS
fail() { echo "image-test: FAIL: $*" >&2; [ -s "${log:-}" ] && { echo "--- exporter log" >&2; tail -40 "$log" >&2; }; exit 1; }

if command -v podman >/dev/null; then builder=podman
elif command -v buildah >/dev/null; then builder=buildah
elif [ -z "${CI:-}" ]; then
	echo "image-test: SKIPPED — neither podman nor buildah is installed (apt-get install podman); with CI set this fails" >&2
	exit 0
else
	fail "neither podman nor buildah is installed and CI is set (.ci/run installs podman)"
fi
[ "$(id -u)" -eq 0 ] || fail "chroot needs root"
command -v curl >/dev/null || fail "curl is needed (apt-get install curl)"

work=$(mktemp -d "${TMPDIR:-/tmp}/http5xx-image-test.XXXXXX")
rootfs=$work/rootfs log=$work/exporter.log
ctr="" pid=""
cleanup() {
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	if [ -n "$ctr" ]; then
		case "$builder" in
		podman) podman rm -v "$ctr" >/dev/null 2>&1 || true ;;
		buildah) buildah umount "$ctr" >/dev/null 2>&1 || true; buildah rm "$ctr" >/dev/null 2>&1 || true ;;
		esac
	fi
	rm -rf "$work"
}
trap cleanup EXIT

# The image's config, one value per line for lists.
cfg() {
	local tmpl=$1
	case "$builder" in
	podman) podman image inspect --format "{{with .Config}}$tmpl{{end}}" "$image" ;;
	buildah) buildah inspect --type image --format "{{with .OCIv1.Config}}$tmpl{{end}}" "$image" ;;
	esac
}
user=$(cfg '{{.User}}')
mapfile -t entrypoint < <(cfg '{{range .Entrypoint}}{{println .}}{{end}}' | sed '/^$/d')
mapfile -t cmd < <(cfg '{{range .Cmd}}{{println .}}{{end}}' | sed '/^$/d')
# shellcheck disable=SC2016 # Go templates
ports=$(cfg '{{range $p, $_ := .ExposedPorts}}{{$p}} {{end}}')
# shellcheck disable=SC2016 # Go templates
volumes=$(cfg '{{range $v, $_ := .Volumes}}{{$v}} {{end}}')
echo "image-test: $image user=$user entrypoint=${entrypoint[*]} cmd=${cmd[*]} ports=$ports volumes=$volumes"
[ "$user" = 65534:65534 ] || fail "user $user, want 65534:65534 (nobody)"
[ "${entrypoint[*]}" = /bin/http5xx_exporter ] || fail "entrypoint ${entrypoint[*]}"
[[ " ${cmd[*]} " == *" --config.file=/etc/http5xx_exporter/http5xx.yml "* ]] || fail "cmd lacks --config.file"
[[ " ${cmd[*]} " == *" --storage.path=/var/lib/http5xx_exporter "* ]] || fail "cmd lacks --storage.path"
[ "$ports" = "10505/tcp " ] || fail "exposed ports '$ports', want 10505/tcp"
[ "$volumes" = "/var/lib/http5xx_exporter " ] || fail "volumes '$volumes'"

mkdir -p "$rootfs"
case "$builder" in
podman)
	ctr=$(podman create "$image")
	podman export "$ctr" | tar -x --same-owner --numeric-owner -C "$rootfs"
	;;
buildah)
	ctr=$(buildah from "$image")
	mnt=$(buildah mount "$ctr")
	cp -a "$mnt/." "$rootfs/"
	;;
esac

# The filesystem: what is in it, and who owns it.
for f in bin/http5xx_exporter etc/ssl/certs/ca-certificates.crt etc/http5xx_exporter/http5xx.yml etc/passwd etc/group LICENSE; do
	[ -s "$rootfs/$f" ] || fail "/$f missing or empty"
done
grep -q '^nobody:x:65534:65534:' "$rootfs/etc/passwd" || fail "/etc/passwd has no nobody 65534"
grep -q 'BEGIN CERTIFICATE' "$rootfs/etc/ssl/certs/ca-certificates.crt" || fail "the CA bundle holds no certificate"
[ "$(stat -c %u:%g "$rootfs/var/lib/http5xx_exporter")" = 65534:65534 ] || fail "/var/lib/http5xx_exporter is not nobody's"
for d in etc var var/lib bin; do
	[ "$(stat -c %u "$rootfs/$d")" = 0 ] || fail "/$d is not root's"
done
other=$(find "$rootfs" -mindepth 1 -not -path "$rootfs/var/lib/http5xx_exporter" \( -not -user 0 -o -perm -o+w \) | head -5)
[ -z "$other" ] || fail "not root's or world-writable: $other"
echo "image-test: root filesystem has $(find "$rootfs" -mindepth 1 | wc -l) entries, $(du -sh "$rootfs" | cut -f1)"

# A free loopback port (bounded tries), then a config probing the exporter itself.
port=""
for _ in $(seq 1 50); do
	p=$((20000 + RANDOM % 20000))
	if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then port=$p; break; fi
done
[ -n "$port" ] || fail "no free port in 50 tries"
cat >"$rootfs/etc/http5xx_exporter/http5xx.yml" <<EOF
global:
  interval: 1s
  timeout: 1s
targets:
  - name: self
    url: http://127.0.0.1:$port/-/healthy
    service: image-test
EOF

# ENTRYPOINT + CMD + what a user would add, as the image's user.
chroot --userspec="$user" "$rootfs" "${entrypoint[@]}" "${cmd[@]}" \
	--web.listen-address="127.0.0.1:$port" --deploy.allow-unauthenticated >"$log" 2>&1 &
pid=$!
base=http://127.0.0.1:$port
probes=0 ok=0
for _ in $(seq 1 60); do # at most 30s
	kill -0 "$pid" 2>/dev/null || fail "the exporter exited"
	metrics=$(curl -fsS --max-time 2 "$base/metrics" 2>/dev/null || true)
	probes=$(awk '/^http5xx_probes_total\{.*target="self"/ {print $2}' <<<"$metrics")
	ok=$(awk '/^http5xx_responses_total\{.*code="200".*target="self"/ {print $2}' <<<"$metrics")
	if [ "${probes:-0}" != 0 ] && [ "${ok:-0}" != 0 ]; then break; fi
	sleep 0.5
done
[ "${probes:-0}" != 0 ] || fail "http5xx_probes_total{target=\"self\"} stayed 0 or absent"
[ "${ok:-0}" != 0 ] || fail "no 200 answer counted"
echo "image-test: /metrics: http5xx_probes_total{target=\"self\"} $probes, http5xx_responses_total{code=\"200\"} $ok"
uid=$(awk '/^Uid:/ {print $2}' "/proc/$pid/status")
[ "$uid" = 65534 ] || fail "the exporter runs as uid $uid, want 65534"

# The image's own CLI records a deploy into the volume, as nobody.
chroot --userspec="$user" "$rootfs" /bin/http5xx_exporter deploy --url "$base" --service image-test --version 1.2.3 ||
	fail "the deploy command failed"
# Read the whole answer first: grep -q closing the pipe early would make
# curl fail with "failure writing output" under pipefail.
metrics=$(curl -fsS --max-time 2 "$base/metrics") || fail "GET /metrics failed"
grep -q '^http5xx_deploys_total{.*service="image-test".*} 1$' <<<"$metrics" ||
	fail "the deploy is not in /metrics"
[ "$(stat -c %u "$rootfs/var/lib/http5xx_exporter/deploys.log")" = 65534 ] || fail "deploys.log is not written by nobody"

kill -TERM "$pid"
for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
kill -0 "$pid" 2>/dev/null && fail "the exporter did not stop within 10s of SIGTERM"
wait "$pid" || fail "the exporter exited with $? on SIGTERM"
pid=""

echo "image-test: $image is $("$builder" images --format '{{.Size}}' "$image" | head -1)"
echo "image-test: passed in $((SECONDS - start))s"
