# tests/world/xl.sh - Debian's real xl (libxl 4.17) in a test world.
# Sourced (bash) after a world was started (`eval "$(tests/xenworld start
# DIR)"` or tests/world/lib.sh's new_world): xl runs under the shim
# (LD_PRELOAD=$XENSHIM) against the world's xenstored, as dom0, in a mount
# namespace of its own where /var/lib/xen, /var/log/xen, /run (so
# /var/run/xen) and /etc/xen are private directories of the world: the
# host's are never read or written.  Needs root (mount namespaces).
#
#   xl_world_setup [DIR]        private dirs in DIR/xl (DIR: the world's);
#                               /etc/xen copied there (edit XL_ROOT/etc)
#   xl_guest_create DOMID [hvm] domain in the fake hypervisor (+ hvm flag),
#                               introduced, /local/domain/DOMID as libxl
#                               writes it, /libxl/DOMID/type, and libxl's
#                               userdata JSON
#   xl_uuid DOMID               the uuid libxl sees for DOMID
#   xl_userdata_path DOMID      host path of DOMID's libxl-json
#   run_xl ARGS...              `xl ARGS`: stdout in $XL_OUT, stderr in
#                               $XL_ERR, both appended to $XL_ROOT/xl.log;
#                               returns xl's exit code; $XL_MS = duration
#   xl_ns CMD...                any command in xl's private namespace
#
# Env: XL (default /usr/lib/xen-4.17/bin/xl), XL_FLAGS (e.g. -vvv),
#      XL_NETNS (run xl inside `ip netns exec XL_NETNS`),
#      XL_XENSTORED_PATH (xl's xenstore socket; default the dom0 socket).
# See /work/coord/xl-harness.md and tests/world/README.md.

XL=${XL:-/usr/lib/xen-4.17/bin/xl}
XL_XENWORLD=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/xenworld

xl_world_setup() {
	local dir=${1:-${XENWORLD_DIR:-}} d
	[ -n "$dir" ] && [ -n "${XENSHIM:-}" ] ||
		{ echo "xl_world_setup: no world (start one first)" >&2; return 1; }
	[ "$(id -u)" = 0 ] || { echo "xl_world_setup: needs root" >&2; return 1; }
	[ -x "$XL" ] || { echo "xl_world_setup: no xl at $XL" >&2; return 1; }
	for d in /var/lib/xen /var/log/xen /etc/xen; do
		[ -d "$d" ] || { echo "xl_world_setup: no $d to mount over" >&2; return 1; }
	done
	XL_ROOT=$dir/xl
	XL_OUT=$XL_ROOT/xl.out
	XL_ERR=$XL_ROOT/xl.err
	mkdir -p "$XL_ROOT/lib" "$XL_ROOT/log" "$XL_ROOT/run/xen" \
		"$XL_ROOT/run/lock" || return 1
	rm -rf "$XL_ROOT/etc"
	cp -a /etc/xen "$XL_ROOT/etc" || return 1
	: >"$XL_ROOT/xl.log"
	export XL_ROOT XL_OUT XL_ERR
}

# 8-4-4-4-12 of the shim's domain handle: bytes 0-1 the domid, byte 15 0x5e.
xl_uuid() {
	printf '%02x%02x0000-0000-0000-0000-00000000005e\n' \
		$(( $1 >> 8 )) $(( $1 & 255 ))
}

xl_userdata_path() {
	echo "$XL_ROOT/lib/userdata-d.$1.$(xl_uuid "$1").libxl-json"
}

# What libxl would have stored at `xl create`: the c_info and b_info a
# device command reads back (libxl__get_domain_configuration).
xl_guest_create() {
	local domid=$1 type=${2:-pv} flag=()
	case $type in pv) ;; hvm) flag=(--hvm) ;;
	*) echo "xl_guest_create: type pv or hvm, not $type" >&2; return 2 ;; esac
	"$XL_XENWORLD" domain create "$XENWORLD_DIR" "$domid" "guest$domid" \
		"${flag[@]}" >/dev/null || return 1
	# libxl__domain_make's /libxl/N/type: libxl__domain_type reads it
	# for an HVM guest (else "unable to get domain type ..., assuming HVM")
	XENSTORED_PATH=$XENWORLD_DIR/socket xenstore-write \
		"/libxl/$domid/type" "$type" || return 1
	printf '{"c_info":{"type":"%s","name":"guest%s","uuid":"%s"},"b_info":{"max_vcpus":1,"max_memkb":262144,"target_memkb":262144,"type.%s":{}}}\n' \
		"$type" "$domid" "$(xl_uuid "$domid")" "$type" >"$(xl_userdata_path "$domid")"
}

# The body run in the new mount namespace: bind the private dirs, exec.
XL_NS_BODY='set -e
mount --bind "$XL_ROOT/lib" /var/lib/xen
mount --bind "$XL_ROOT/log" /var/log/xen
mount --bind "$XL_ROOT/run" /run
mount --bind "$XL_ROOT/etc" /etc/xen
exec "$@"'

xl_ns() {
	[ -n "${XL_ROOT:-}" ] || { echo "xl_ns: run xl_world_setup first" >&2; return 1; }
	local pre=()
	[ -n "${XL_NETNS:-}" ] && pre=(ip netns exec "$XL_NETNS")
	"${pre[@]}" unshare -m --propagation private sh -c "$XL_NS_BODY" sh "$@"
}

# libxl execs hotplug scripts with xl's environment, the shim's LD_PRELOAD
# included: under `make asan-check` devsep-relay (ASan-built) would then
# refuse to start (runtime not first).  The shim replaces no allocator, so
# ASan's link-order check may go (as test-world.sh's check-dominfo).
# xl_need_real_scripts: exits 1 (a failure, never a skip) unless run as
# root with Debian's real vif-bridge and block installed.
xl_need_real_scripts() {
	local s
	[ "$(id -u)" = 0 ] || { echo "FAIL: needs root"; exit 1; }
	for s in vif-bridge block; do
		[ -x "/etc/xen/scripts/$s" ] ||
		    { echo "FAIL: no /etc/xen/scripts/$s"; exit 1; }
	done
}

run_xl() {
	local rc t0 t1
	t0=$(date +%s%N)
	xl_ns env LD_PRELOAD="$XENSHIM" XENSTORED_RUNDIR="$XENWORLD_DIR" \
		ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
		XENSTORED_PATH="${XL_XENSTORED_PATH:-$XENWORLD_DIR/socket}" \
		"$XL" ${XL_FLAGS:-} "$@" >"$XL_OUT" 2>"$XL_ERR"
	rc=$?
	t1=$(date +%s%N)
	XL_MS=$(( (t1 - t0) / 1000000 ))
	{
		echo "=== xl $* -> rc $rc in ${XL_MS} ms"
		cat "$XL_OUT" "$XL_ERR"
	} >>"$XL_ROOT/xl.log"
	return "$rc"
}
