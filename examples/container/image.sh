#!/usr/bin/env bash
# Builds the image from the Dockerfile at the top of the repository with podman
# (or buildah when podman is missing; IMAGE_BUILDER=buildah chooses it).
#
#   image.sh DIST_DIR ARCH IMAGE
#
# Like the release, the image is built from the commit (HEAD), not the working
# tree. The context is staged in a temporary directory: the linux binary,
# LICENSE and example config from the commit's release archive in DIST_DIR
# (make release-host builds it), the Dockerfile and examples/container's
# passwd/group from the commit, and the build machine's CA bundle. Layer
# timestamps are the commit time.
set -euo pipefail

die() { echo "image.sh: $*" >&2; exit 1; }
[ $# -eq 3 ] || die "usage: image.sh DIST_DIR ARCH IMAGE"
dist=$1 arch=$2 image=$3

cd "$(git rev-parse --show-toplevel)"
rev=$(git rev-parse --verify "${REV:-HEAD}^{commit}")
version=$(examples/release/version.sh "$rev")
epoch=$(examples/release/version.sh --epoch "$rev")
name=http5xx_exporter-$version.linux-$arch
archive=$dist/$name.tar.gz
[ -f "$archive" ] || die "$archive is missing (make release-host builds it)"
ca=${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}
[ -s "$ca" ] || die "no CA bundle at $ca (Debian: apt-get install ca-certificates; or set CA_BUNDLE)"

builder=${IMAGE_BUILDER:-}
if [ -z "$builder" ]; then
	if command -v podman >/dev/null; then builder=podman
	elif command -v buildah >/dev/null; then builder=buildah
	else die "neither podman nor buildah is installed (Debian: apt-get install podman)"
	fi
fi

ctx=$(mktemp -d "${TMPDIR:-/tmp}/http5xx-image.XXXXXX")
trap 'rm -rf "$ctx"' EXIT
tar -xzf "$archive" -C "$ctx"
mkdir -p "$ctx/.build/linux-$arch" "$ctx/rootfs/var/lib" "$ctx/state"
mv "$ctx/$name/http5xx_exporter" "$ctx/.build/linux-$arch/"
mv "$ctx/$name/LICENSE" "$ctx/$name/http5xx.yml" "$ctx/"
for f in Dockerfile examples/container/passwd examples/container/group; do
	git show "$rev:$f" >"$ctx/$(basename "$f")" 2>/dev/null || die "$f is not in commit ${rev:0:12}"
done
cp "$ca" "$ctx/ca-certificates.crt"
chmod 0644 "$ctx/passwd" "$ctx/group" "$ctx/ca-certificates.crt" "$ctx/Dockerfile"
find "$ctx" -type d -exec chmod 0755 {} +

echo "image.sh: $builder builds $image (linux/$arch, $version)"
args=(--file "$ctx/Dockerfile" --tag "$image" --platform "linux/$arch" --timestamp "$epoch"
	--build-arg "ARCH=$arch" --build-arg "VERSION=$version")
case "$builder" in
podman) podman build --quiet "${args[@]}" "$ctx" ;;
buildah) buildah build-using-dockerfile --quiet "${args[@]}" "$ctx" ;;
*) die "IMAGE_BUILDER=$builder: podman or buildah" ;;
esac
size=$("$builder" images --format '{{.Size}}' "$image" | head -1)
echo "image.sh: built $image, $size"
