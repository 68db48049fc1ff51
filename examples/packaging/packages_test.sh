#!/usr/bin/env bash
# make packages-test: the .deb installs, works and purges cleanly on this
# machine; the .rpm holds the same files; the unit passes systemd-analyze.
#
#   packages_test.sh DIST ARCH
#
# Installs with dpkg -i (root), checks the files, conffiles, the unit and
# --version, that a changed config survives a reinstall (config|noreplace),
# then dpkg --purge and checks that everything is gone. A copy of the package
# installed before the test is refused, not replaced. Without dpkg it skips
# loudly, unless CI is set: then it fails.
set -euo pipefail

dist=${1:?usage: packages_test.sh DIST ARCH} arch=${2:?usage: packages_test.sh DIST ARCH}
start=$SECONDS
pkg=http5xx_exporter
fail() { echo "packages-test: FAIL: $*" >&2; exit 1; }

if ! command -v dpkg >/dev/null; then
	[ -n "${CI:-}" ] && fail "dpkg is missing and CI is set"
	echo "packages-test: SKIPPED — dpkg is missing (not a Debian system); with CI set this fails" >&2
	exit 0
fi
[ "$(id -u)" -eq 0 ] || fail "dpkg -i needs root"

rpm_arch=$arch
case "$arch" in amd64) rpm_arch=x86_64 ;; arm64) rpm_arch=aarch64 ;; esac
shopt -s nullglob
debs=("$dist"/"$pkg"_*_"$arch".deb) rpms=("$dist"/"$pkg"-*."$rpm_arch".rpm)
[ ${#debs[@]} -eq 1 ] || fail "want one $arch .deb in $dist, found ${#debs[@]} (make packages)"
[ ${#rpms[@]} -eq 1 ] || fail "want one $rpm_arch .rpm in $dist, found ${#rpms[@]} (make packages)"
deb=${debs[0]} rpmfile=${rpms[0]}

files="/etc/default/http5xx_exporter
/etc/http5xx_exporter/http5xx.yml
/usr/bin/http5xx_exporter
/usr/lib/systemd/system/http5xx_exporter.service
/usr/share/doc/http5xx_exporter/LICENSE
/usr/share/doc/http5xx_exporter/README.md"
conffiles="/etc/default/http5xx_exporter
/etc/http5xx_exporter/http5xx.yml"
unit=/usr/lib/systemd/system/http5xx_exporter.service

# --- the .rpm: its file list, modes and config flags (rpm -qp, else nfpm's own listing).
if command -v rpm >/dev/null; then
	echo "packages-test: rpm -qlvp $(basename "$rpmfile")"
	rpm -qlvp "$rpmfile"
	got=$(rpm -qlp "$rpmfile")
	[ "$got" = "$files" ] || fail "the .rpm holds
$got
want
$files"
	flags=$(rpm -qp --qf '[%{FILENAMES} %{FILEMODES:perms} %{FILEUSERNAME}:%{FILEGROUPNAME} %{FILEFLAGS:fflags}\n]' "$rpmfile")
	grep -qx '/usr/bin/http5xx_exporter -rwxr-xr-x root:root ' <<<"$flags" || fail "rpm: /usr/bin/http5xx_exporter: $flags"
	for f in $conffiles; do
		grep -q "^$f -rw-r--r-- root:root cn$" <<<"$flags" || fail "rpm: $f is not config(noreplace) 0644 root"
	done
	scripts=$(rpm -qp --scripts "$rpmfile") || fail "rpm -qp --scripts failed"
	grep -q 'systemctl daemon-reload' <<<"$scripts" || fail "rpm: no scriptlets"
elif [ -n "${CI:-}" ]; then
	fail "rpm is missing and CI is set (.ci/run installs it)"
else
	echo "packages-test: rpm is missing (apt-get install rpm): the .rpm's file list is not checked" >&2
fi

# --- the .deb: install, check, reinstall, purge.
if dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'installed'; then
	fail "$pkg is already installed here; this test does not replace it (dpkg --purge $pkg first)"
fi
installed=false
cleanup() { if $installed; then dpkg --purge "$pkg" >/dev/null 2>&1 || true; fi; }
trap cleanup EXIT

echo "packages-test: dpkg -i $(basename "$deb")"
dpkg -i "$deb"
installed=true
got=$(dpkg -L "$pkg" | while read -r f; do [ -d "$f" ] || echo "$f"; done | LC_ALL=C sort)
[ "$got" = "$files" ] || fail "dpkg -L lists
$got
want
$files"
got=$(dpkg-query -W -f='${Conffiles}\n' "$pkg" | awk 'NF {print $1}' | LC_ALL=C sort)
[ "$got" = "$conffiles" ] || fail "conffiles $got"
[ "$(stat -c '%a %U:%G' /usr/bin/http5xx_exporter)" = "755 root:root" ] || fail "/usr/bin/http5xx_exporter mode or owner"
for f in $conffiles $unit; do
	[ "$(stat -c '%a %U:%G' "$f")" = "644 root:root" ] || fail "$f mode or owner"
done
grep -qx 'ARGS=""' /etc/default/http5xx_exporter || fail '/etc/default/http5xx_exporter lacks ARGS=""'
getent passwd http5xx_exporter >/dev/null && fail "a user http5xx_exporter exists: the unit uses DynamicUser"

out=$(/usr/bin/http5xx_exporter --version 2>&1)
echo "$out"
version=$(cd "$(dirname "$0")/../.." && examples/release/version.sh)
[[ "$out" == "http5xx_exporter, version $version "* ]] || fail "--version does not say $version"
/usr/bin/http5xx_exporter config check /etc/http5xx_exporter/http5xx.yml >/dev/null ||
	fail "the packaged config does not pass config check"

# The unit says what the distributions' hardened exporters say.
# shellcheck disable=SC2016 # $ARGS and $MAINPID are the unit's, not ours
for want in 'ExecStart=/usr/bin/http5xx_exporter --config.file=/etc/http5xx_exporter/http5xx.yml --storage.path=/var/lib/http5xx_exporter $ARGS' \
	'EnvironmentFile=-/etc/default/http5xx_exporter' 'ExecReload=/bin/kill -HUP $MAINPID' 'Restart=on-failure' \
	'DynamicUser=yes' 'StateDirectory=http5xx_exporter' 'ProtectSystem=strict' 'ProtectHome=yes' \
	'NoNewPrivileges=yes' 'CapabilityBoundingSet=' 'PrivateTmp=yes' 'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX' \
	'WantedBy=multi-user.target'; do
	grep -qxF "$want" "$unit" || fail "the unit lacks $want"
done
if command -v systemd-analyze >/dev/null; then
	echo "packages-test: systemd-analyze verify $unit"
	out=$(systemd-analyze verify "$unit" 2>&1) || fail "systemd-analyze verify: $out"
	# Messages about units outside this package (this machine's own) are not ours.
	ours=$(grep -i 'http5xx' <<<"$out" || true)
	[ -z "$ours" ] || fail "systemd-analyze verify: $ours"
	[ -z "$out" ] || echo "packages-test: systemd-analyze verify, about other units: $out"
	if score=$(systemd-analyze security --offline=true "$unit" 2>/dev/null | tail -1); then
		echo "packages-test: systemd-analyze security: $score"
		# "Overall exposure level for ...: 1.2 OK"; distributions' defaults are 9.6 UNSAFE.
		level=$(sed -n 's/.*: \([0-9.]*\) .*/\1/p' <<<"$score")
		if [ -z "$level" ] || ! awk -v l="$level" 'BEGIN { exit !(l <= 2.5) }'; then
			fail "exposure level '$level' is above 2.5"
		fi
	fi
elif [ -n "${CI:-}" ]; then
	fail "systemd-analyze is missing and CI is set (.ci/run installs systemd)"
else
	echo "packages-test: !!! systemd-analyze is missing (apt-get install systemd): the unit is only grepped !!!" >&2
fi

# config|noreplace: an edited config survives reinstalling the package.
echo "# edited by packages-test" >>/etc/http5xx_exporter/http5xx.yml
dpkg -i "$deb" >/dev/null
grep -q 'edited by packages-test' /etc/http5xx_exporter/http5xx.yml || fail "reinstalling replaced the edited config"

# A deploy log as the running service would leave it; purge removes it too.
mkdir -p /var/lib/private/http5xx_exporter
ln -sfn private/http5xx_exporter /var/lib/http5xx_exporter
echo '{}' >/var/lib/private/http5xx_exporter/deploys.log

echo "packages-test: dpkg --purge $pkg"
dpkg --purge "$pkg"
installed=false
dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'installed' && fail "$pkg is still installed"
for f in $files /etc/http5xx_exporter /usr/share/doc/http5xx_exporter /var/lib/http5xx_exporter /var/lib/private/http5xx_exporter; do
	if [ -e "$f" ] || [ -L "$f" ]; then fail "$f is left after dpkg --purge"; fi
done
echo "packages-test: passed in $((SECONDS - start))s"
