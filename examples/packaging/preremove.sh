#!/bin/sh
# Before a removal (deb: remove; rpm: 0), not before an upgrade: stop and
# disable the service.
set -e
case "$1" in
remove | 0)
	if [ -d /run/systemd/system ]; then
		systemctl disable --now http5xx_exporter.service >/dev/null 2>&1 || true
	fi
	;;
esac
