#!/bin/sh
# After an install or upgrade (deb: configure; rpm: 1 or 2). The service is
# neither enabled nor started: the config is the example one; edit
# /etc/http5xx_exporter/http5xx.yml, then systemctl enable --now http5xx_exporter.
# An upgrade restarts it if it runs.
set -e
if [ -d /run/systemd/system ]; then
	systemctl daemon-reload >/dev/null 2>&1 || true
	systemctl try-restart http5xx_exporter.service >/dev/null 2>&1 || true
fi
