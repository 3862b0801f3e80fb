#!/bin/sh
# Proves every manual page in man/ (sections 5 and 8, including
# devsep-policy.5 once it exists) is clean under mandoc's linter at
# warning level, that the pages for the programs and the configuration
# file exist, and that every daemon's page has the sections an
# administrator looks for: SIGNALS, FILES naming /etc/devsep/devsep.conf,
# EXIT STATUS, EXAMPLES and CAVEATS (devsepctl: FILES, EXIT STATUS,
# EXAMPLES).
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
# has_sections PAGE SECTION...: each ".Sh SECTION" is there.
has_sections() {
	local p=$1 sec; shift
	for sec in "$@"; do
		grep -qx ".Sh $sec" "$p" || { echo "FAIL: man/$p: no $sec"; rc=1; }
	done
	awk '/^\.Sh FILES/ { f = 1; next } /^\.Sh / { f = 0 }
	    f && /\/etc\/devsep\/devsep\.conf/ { found = 1 }
	    END { exit !found }' "$p" ||
		{ echo "FAIL: man/$p: FILES lacks /etc/devsep/devsep.conf"; rc=1; }
}
for p in devsep-watcherd.8 devsep-hotplugd.8 devsep-lockd.8 \
    devsep-qemu-broker.8; do
	has_sections "$p" SIGNALS FILES "EXIT STATUS" EXAMPLES CAVEATS
done
has_sections devsepctl.8 FILES "EXIT STATUS" EXAMPLES
exit $rc
