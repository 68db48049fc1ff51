#!/usr/bin/env bash
# Prints the version of a commit (default HEAD), from the semantic-version git
# tags v<major>.<minor>.<patch>[-<pre-release>]:
#
#   the commit carries tag v0.1.0           0.1.0
#   3 commits after tag v0.1.0              0.1.0-3-g<12-hex sha>  (git describe)
#   no version tag in its history           0.0.0-dev+<12-hex sha>
#
# --dirty (make build) appends "+dirty" ("." when there is build metadata
# already) when tracked files differ from the commit. The release builds
# never do: they build the commit, not the working tree.
# --epoch prints the commit time in Unix seconds (SOURCE_DATE_EPOCH) instead.
set -euo pipefail

dirty=false epoch=false rev=HEAD
for arg in "$@"; do
	case "$arg" in
	--dirty) dirty=true ;;
	--epoch) epoch=true ;;
	-*) echo "version.sh: unknown flag $arg" >&2; exit 2 ;;
	*) rev=$arg ;;
	esac
done

sha=$(git rev-parse --verify --quiet "$rev^{commit}") || { echo "version.sh: $rev is not a commit" >&2; exit 1; }
if $epoch; then
	git log -1 --format=%ct "$sha"
	exit 0
fi
short=${sha:0:12}
semver='^v(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?$'

if tag=$(git describe --tags --abbrev=0 --match 'v[0-9]*.[0-9]*.[0-9]*' "$sha" 2>/dev/null); then
	if ! [[ $tag =~ $semver ]]; then
		echo "version.sh: tag $tag is not a semantic version (v1.2.3 or v1.2.3-rc.1)" >&2
		exit 1
	fi
	n=$(git rev-list --count "$tag..$sha")
	if [ "$n" -eq 0 ]; then
		version=${tag#v}
	else
		version="${tag#v}-$n-g$short"
	fi
else
	version="0.0.0-dev+$short"
fi

if $dirty && [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then
	case "$version" in
	*+*) version="$version.dirty" ;;
	*) version="$version+dirty" ;;
	esac
fi
echo "$version"
