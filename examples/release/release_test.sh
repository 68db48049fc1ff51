#!/usr/bin/env bash
# make release-test: the release is reproducible and shaped the Prometheus way.
#
# Builds the same commit twice into two temporary directories and compares
# sha256sums.txt. The second build differs in everything that must not matter:
# another source directory, an empty Go build cache (so every package is
# compiled again, not taken from the first build), another umask and time zone.
# To keep CI time down it builds linux-amd64 and darwin-arm64 (RELEASE_TEST_PLATFORMS);
# make release builds all six. Then it checks the archive layout, the entries'
# owners, modes and mtimes, what --version prints, and the version scheme
# against a throwaway clone with tags.
set -euo pipefail

cd "$(git rev-parse --show-toplevel)"
here=examples/release
platforms=${RELEASE_TEST_PLATFORMS:-linux/amd64 darwin/arm64}
start=$SECONDS
fail() { echo "release-test: FAIL: $*" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/http5xx-release-test.XXXXXX")
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT

# shellcheck disable=SC2086 # platforms is a list
"$here/release.sh" "$work/a" $platforms
t1=$((SECONDS - start))
mkdir -p "$work/cache" "$work/tmp"
# shellcheck disable=SC2086
(umask 0002 && TZ=Asia/Kathmandu TMPDIR=$work/tmp GOCACHE=$work/cache "$here/release.sh" "$work/b" $platforms)
t2=$((SECONDS - start - t1))
echo "release-test: build 1 ${t1}s, build 2 (empty build cache) ${t2}s"

echo "--- build 1"; cat "$work/a/sha256sums.txt"
echo "--- build 2"; cat "$work/b/sha256sums.txt"
n=$(wc -l <"$work/a/sha256sums.txt")
[ "$n" -eq "$(wc -w <<<"$platforms")" ] || fail "expected one checksum per platform, got $n"
diff -u "$work/a/sha256sums.txt" "$work/b/sha256sums.txt" ||
	fail "two builds of the same commit differ (diffoscope on the two archives shows where)"
(cd "$work/a" && sha256sum --quiet -c sha256sums.txt) || fail "sha256sums.txt does not match the archives"
echo "release-test: the two builds are identical"

# Layout: http5xx_exporter-VERSION.OS-ARCH/{LICENSE,README.md,http5xx.yml,binary},
# sorted, 0:0, the commit time on every entry.
version=$("$here/version.sh")
epoch=$("$here/version.sh" --epoch)
for platform in $platforms; do
	os=${platform%/*} arch=${platform#*/}
	name=http5xx_exporter-$version.$os-$arch
	[ "$os" != windows ] || continue # the zip is written by the same code path as its listing below
	archive=$work/a/$name.tar.gz
	[ -f "$archive" ] || fail "missing $name.tar.gz"
	want="$name/
$name/LICENSE
$name/README.md
$name/http5xx.yml
$name/http5xx_exporter"
	got=$(tar -tzf "$archive")
	[ "$got" = "$want" ] || fail "$name.tar.gz lists
$got
want
$want"
	tar --full-time --numeric-owner -tvzf "$archive" | while read -r mode owner _size date time _name; do
		[ "$owner" = 0/0 ] || fail "$name.tar.gz: owner $owner, want 0/0"
		case "$mode" in drwxr-xr-x | -rw-r--r-- | -rwxr-xr-x) ;; *) fail "$name.tar.gz: mode $mode" ;; esac
		got_epoch=$(TZ=UTC date -d "$date $time" +%s)
		[ "$got_epoch" = "$epoch" ] || fail "$name.tar.gz: mtime $date $time, want the commit time"
	done
done

# --version of the linux-amd64 binary (when this machine can run it).
if [ "$(uname -s)/$(uname -m)" = Linux/x86_64 ] && [[ " $platforms " == *" linux/amd64 "* ]]; then
	tar -xzf "$work/a/http5xx_exporter-$version.linux-amd64.tar.gz" -C "$work" --strip-components=1 \
		"http5xx_exporter-$version.linux-amd64/http5xx_exporter"
	out=$("$work/http5xx_exporter" --version 2>&1)
	echo "$out"
	rev=$(git rev-parse HEAD)
	date=$(date -u -d "@$epoch" +%Y%m%d-%H:%M:%S)
	for want in "version $version " "revision: $rev)" "branch: " "build user:       release" \
		"build date:       $date" "go version:       go1." "platform:         linux/amd64"; do
		[[ "$out" == *"$want"* ]] || fail "--version lacks \"$want\""
	done
fi

# The version scheme, on a throwaway clone: no tag, on a tag, after a tag, a bad tag.
top=$(pwd)
git clone -q . "$work/clone"
(
	cd "$work/clone"
	export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@example.com GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@example.com
	git tag -l | xargs -r git tag -d >/dev/null
	sha=$(git rev-parse HEAD)
	check() { [ "$1" = "$2" ] || fail "version.sh $3: got $1, want $2"; }
	check "$("$top/$here/version.sh")" "0.0.0-dev+${sha:0:12}" "without a tag"
	git tag v0.1.0
	check "$("$top/$here/version.sh")" "0.1.0" "on tag v0.1.0"
	git commit -q --allow-empty -m one && git commit -q --allow-empty -m two
	sha=$(git rev-parse HEAD)
	check "$("$top/$here/version.sh")" "0.1.0-2-g${sha:0:12}" "two commits after v0.1.0"
	echo x >>README.md
	check "$("$top/$here/version.sh" --dirty)" "0.1.0-2-g${sha:0:12}+dirty" "--dirty"
	git tag v0.2.0-rc.1
	check "$("$top/$here/version.sh")" "0.2.0-rc.1" "on tag v0.2.0-rc.1"
	git commit -q --allow-empty -m three && git tag v1.02.0
	if "$top/$here/version.sh" 2>/dev/null; then fail "version.sh accepted tag v1.02.0"; fi
)
echo "release-test: version scheme ok"
echo "release-test: passed in $((SECONDS - start))s"
