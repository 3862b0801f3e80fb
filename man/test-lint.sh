#!/bin/sh
# Proves every manual page in man/ (sections 5 and 8, including
# devsep-policy.5 once it exists) is clean under mandoc's linter at
# warning level, and that the pages for the five programs and the
# configuration file exist.
set -u
cd "$(dirname "$0")" || exit 1
rc=0
for p in devsep.conf.5 devsepctl.8 devsep-watcherd.8 devsep-hotplugd.8 \
    devsep-lockd.8 devsep-qemu-broker.8 devsep-relay.8; do
	[ -f "$p" ] || { echo "missing man/$p"; rc=1; }
done
for p in *.5 *.8; do
	[ -f "$p" ] || continue
	if ! mandoc -T lint -W warning "$p"; then
		echo "FAIL: man/$p"
		rc=1
	else
		echo "ok: man/$p"
	fi
done
exit $rc
