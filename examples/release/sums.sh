#!/usr/bin/env bash
# Writes DIST/sha256sums.txt over the release archives of VERSION and the
# packages in DIST, in a fixed order (make release, make packages).
#
#   sums.sh DIST VERSION
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: sums.sh DIST VERSION" >&2; exit 2; }
cd "$1"
shopt -s nullglob
files=(http5xx_exporter-"$2".*.tar.gz http5xx_exporter-"$2".*.zip http5xx_exporter*.deb http5xx_exporter*.rpm)
rm -f sha256sums.txt
[ ${#files[@]} -gt 0 ] || exit 0
printf '%s\n' "${files[@]}" | LC_ALL=C sort | xargs sha256sum >sha256sums.txt.tmp
mv sha256sums.txt.tmp sha256sums.txt
