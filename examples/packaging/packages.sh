#!/usr/bin/env bash
# Builds the .deb and .rpm of the commit for each ARCH with nfpm (NFPM, default
# nfpm from PATH) into DIST, from the release archive of that commit in DIST
# (make release-host / make release build it) and the packaging files of the
# same commit: the package holds what the release holds. Then refreshes
# DIST/sha256sums.txt.
#
#   packages.sh DIST ARCH...
set -euo pipefail

die() { echo "packages.sh: $*" >&2; exit 1; }
[ $# -ge 2 ] || die "usage: packages.sh DIST ARCH..."
dist=$(cd "$1" && pwd)
shift

cd "$(git rev-parse --show-toplevel)"
nfpm=${NFPM:-nfpm}
command -v "$nfpm" >/dev/null || die "nfpm not found (make packages builds it into .bin/)"
rev=$(git rev-parse --verify "${REV:-HEAD}^{commit}")
version=$(examples/release/version.sh "$rev")
export SOURCE_DATE_EPOCH
SOURCE_DATE_EPOCH=$(examples/release/version.sh --epoch "$rev")

work=$(mktemp -d "${TMPDIR:-/tmp}/http5xx-packages.XXXXXX")
trap 'rm -rf "$work"' EXIT

rm -f "$dist"/http5xx_exporter*.deb "$dist"/http5xx_exporter*.rpm
for arch in "$@"; do
	name=http5xx_exporter-$version.linux-$arch
	[ -f "$dist/$name.tar.gz" ] || die "$dist/$name.tar.gz is missing (make release-host or make release builds it)"
	stage=$work/$arch
	mkdir -p "$stage/release"
	git archive --format=tar "$rev" examples/packaging examples/systemd | tar -x -C "$stage"
	tar -xzf "$dist/$name.tar.gz" -C "$stage/release" --strip-components=1
	for packager in deb rpm; do
		(cd "$stage" && VERSION=$version ARCH=$arch "$nfpm" package --config examples/packaging/nfpm.yaml \
			--packager "$packager" --target "$dist/" >/dev/null)
	done
done
examples/release/sums.sh "$dist" "$version"
(cd "$dist" && ls -1 http5xx_exporter*.deb http5xx_exporter*.rpm) | sed 's/^/packages.sh: /'
