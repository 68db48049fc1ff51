#!/bin/sh
# After a removal. dpkg --purge also deletes the deploy log (StateDirectory,
# kept under /var/lib/private by DynamicUser); rpm has no purge and keeps it.
set -e
if [ "$1" = purge ]; then
	rm -rf /var/lib/http5xx_exporter /var/lib/private/http5xx_exporter
fi
if [ -d /run/systemd/system ]; then
	systemctl daemon-reload >/dev/null 2>&1 || true
fi
