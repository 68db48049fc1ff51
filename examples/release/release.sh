#!/usr/bin/env bash
# Builds release archives of one commit, reproducibly: the same commit gives
# the same bytes, whoever builds it where (make release-test checks that).
#
#   release.sh [--clean] [--keep-existing] OUTDIR OS/ARCH...
#
# For each OS/ARCH, OUTDIR/http5xx_exporter-VERSION.OS-ARCH.tar.gz (.zip for
# windows) holding the directory http5xx_exporter-VERSION.OS-ARCH/ with the
# binary, LICENSE, README.md and the example config http5xx.yml; then
# OUTDIR/sha256sums.txt over every archive and package of VERSION in OUTDIR.
#
# What makes it reproducible: the sources are the commit (git archive), not the
# working tree; CGO_ENABLED=0, -trimpath, -buildvcs=false and an empty build id;
# every variable that reaches the binary comes from the commit (version, revision,
# build date = commit time = SOURCE_DATE_EPOCH); archive entries are sorted,
# owned by 0:0, with fixed modes and mtimes, and gzip stores no name or time.
#
# --clean empties OUTDIR first. --keep-existing skips an archive that exists:
# a name carries the commit, so the bytes would be the same.
# Environment: GO (go), REV (HEAD), BRANCH (the checked-out branch),
# BUILD_USER (release), GOCACHE (the usual one).
set -euo pipefail

die() { echo "release.sh: $*" >&2; exit 1; }

clean=false keep=false
while [ $# -gt 0 ]; do
	case "$1" in
	--clean) clean=true ;;
	--keep-existing) keep=true ;;
	-*) die "unknown flag $1" ;;
	*) break ;;
	esac
	shift
done
[ $# -ge 2 ] || die "usage: release.sh [--clean] [--keep-existing] OUTDIR OS/ARCH..."
out=$1
shift

cd "$(git rev-parse --show-toplevel)"
here=examples/release
GO=${GO:-go}
rev=$(git rev-parse --verify "${REV:-HEAD}^{commit}")
version=$("$here/version.sh" "$rev")
export SOURCE_DATE_EPOCH
SOURCE_DATE_EPOCH=$("$here/version.sh" --epoch "$rev")
branch=${BRANCH:-$(git rev-parse --abbrev-ref HEAD)}
build_user=${BUILD_USER:-release}
# Prometheus' date format, from the commit time (GNU date, then BSD date).
build_date=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y%m%d-%H:%M:%S 2>/dev/null ||
	date -u -r "$SOURCE_DATE_EPOCH" +%Y%m%d-%H:%M:%S)

# Everything an archive holds must be in the commit.
for f in LICENSE README.md examples/http5xx.yml; do
	git cat-file -e "$rev:$f" 2>/dev/null ||
		die "$f is not in commit ${rev:0:12}; a release archive must contain it (LICENSE is added in its own change: commit it first)"
done
tar --version 2>/dev/null | grep -q 'GNU tar' || die "GNU tar is needed (--sort=name); on macOS install gnu-tar and put gtar first in PATH as tar"
command -v zip >/dev/null || die "zip is needed for the windows archives (Debian: apt-get install zip)"
command -v sha256sum >/dev/null || die "sha256sum is needed (coreutils)"

mkdir -p "$out"
out=$(cd "$out" && pwd)
if $clean; then
	find "$out" -mindepth 1 -delete
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/http5xx-release.XXXXXX")
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
src=$work/src
mkdir -p "$src"
git archive --format=tar "$rev" | tar -x -C "$src"

ldflags="-buildid= \
 -X github.com/prometheus/common/version.Version=$version \
 -X github.com/prometheus/common/version.Revision=$rev \
 -X github.com/prometheus/common/version.Branch=$branch \
 -X github.com/prometheus/common/version.BuildUser=$build_user \
 -X github.com/prometheus/common/version.BuildDate=$build_date"

echo "release.sh: http5xx_exporter $version (commit ${rev:0:12}, SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH) into $out"
for platform in "$@"; do
	os=${platform%/*} arch=${platform#*/}
	case "$os/$arch" in
	linux/amd64 | linux/arm64 | darwin/amd64 | darwin/arm64 | windows/amd64 | windows/arm64) ;;
	*) die "unsupported platform $platform (linux, darwin, windows on amd64, arm64)" ;;
	esac
	name=http5xx_exporter-$version.$os-$arch
	exe=http5xx_exporter
	archive=$name.tar.gz
	if [ "$os" = windows ]; then
		exe=http5xx_exporter.exe archive=$name.zip
	fi
	if $keep && [ -s "$out/$archive" ]; then
		echo "  $archive exists, kept"
		continue
	fi
	start=$SECONDS
	stage=$work/stage/$name
	mkdir -p "$stage"
	# Everything that could differ between machines is pinned or cleared.
	(cd "$src" && env CGO_ENABLED=0 GOOS="$os" GOARCH="$arch" GOAMD64=v1 GOARM64=v8.0 \
		GOFLAGS=-mod=readonly GOEXPERIMENT= GOTOOLCHAIN=local \
		"$GO" build -trimpath -buildvcs=false -ldflags "$ldflags" \
		-o "$stage/$exe" ./cmd/http5xx_exporter)
	cp "$src/LICENSE" "$src/README.md" "$stage/"
	cp "$src/examples/http5xx.yml" "$stage/http5xx.yml"
	chmod 0755 "$stage" "$stage/$exe"
	chmod 0644 "$stage/LICENSE" "$stage/README.md" "$stage/http5xx.yml"
	find "$stage" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
	if [ "$os" = windows ]; then
		# -X: no uid/gid or extended-time fields; DOS times are local time.
		(cd "$work/stage" && find "$name" -print | LC_ALL=C sort |
			TZ=UTC zip -X -q -9 -@ "$out/$archive.tmp")
	else
		tar --sort=name --format=gnu --owner=0 --group=0 --numeric-owner \
			--mtime="@$SOURCE_DATE_EPOCH" -C "$work/stage" -cf - "$name" |
			gzip -9 -n >"$out/$archive.tmp"
	fi
	mv "$out/$archive.tmp" "$out/$archive"
	echo "  $archive ($((SECONDS - start))s)"
done

"$here/sums.sh" "$out" "$version"
echo "release.sh: $out/sha256sums.txt"
