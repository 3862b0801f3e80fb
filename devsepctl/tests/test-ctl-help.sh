#!/usr/bin/env bash
# Proves devsepctl explains itself in an administrator's words and fails
# in JSON when asked for JSON (issue 15):
#  - `devsepctl help` lists every command; `help CMD`, `CMD -h` and
#    `CMD --help` print the same per-command help (usage, what it does,
#    an example) and exit 0, without contacting any daemon; `help bogus`
#    exits 2;
#  - no help text uses project jargon (seed numbers, "invariant", message
#    or peer-class names, internal module names);
#  - with --json every failure prints one JSON object on stdout,
#    {"error": {"exit", "reason", "message"}}, with the documented exit
#    code: a daemon not running (3), a bad option value (2), an unknown
#    command (2), a bad domain id (2); messages still go to stderr.
# Fails on the old devsepctl ("invalid option", nothing on stdout).
set -u
BIN=${BIN:-bin}
CTL=$BIN/devsepctl
T=$(mktemp -d /tmp/devsep-ctlhelp.XXXXXX)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
ok() { echo "ok: $*"; }
R=$T/run		# no daemon here
mkdir -p "$R"

"$CTL" help >"$T/all" 2>&1 || fail "help: exit $?"
cmds=$(sed -n 's/^  \([a-z][a-z-]*\) .*/\1/p' "$T/all")
[ "$(echo "$cmds" | wc -l)" -ge 12 ] || fail "help lists: $cmds"
for c in $cmds; do
	"$CTL" --rundir "$R" help "$c" >"$T/h" 2>&1 || fail "help $c: exit $?"
	grep -q "^usage: devsepctl $c" "$T/h" || fail "help $c: no usage"
	grep -q "^Example:" "$T/h" || fail "help $c: no example"
	for flag in -h --help; do
		"$CTL" --rundir "$R" "$c" $flag >"$T/f" 2>&1 ||
			fail "$c $flag: exit $?"
		cmp -s "$T/h" "$T/f" || fail "$c $flag differs from help $c"
	done
	cat "$T/h" >>"$T/all"
done
ok "help, help CMD, CMD -h, CMD --help for $(echo $cmds | wc -w) commands"
"$CTL" help bogus >/dev/null 2>&1
[ $? = 2 ] || fail "help bogus: not exit 2"
if grep -Ein 'seed|invariant|MSG_|PEER_|xsproxy|fsm|phase table' "$T/all"; then
	fail "jargon in the help"
fi
ok "no project jargon in any help text"

# json_fail EXIT REASON ARGS...: the JSON error object and the exit code.
json_fail() {
	local want=$1 reason=$2; shift 2
	"$CTL" --json --rundir "$R" "$@" >"$T/out" 2>"$T/err"
	local rc=$?
	[ "$rc" = "$want" ] || fail "$*: exit $rc, wanted $want"
	python3 - "$want" "$reason" "$T/out" <<'PY' || fail "$*: stdout $(cat "$T/out")"
import json, sys
d = json.load(open(sys.argv[3]))
e = d["error"]
assert e["exit"] == int(sys.argv[1]) and e["reason"] == sys.argv[2], e
assert e["message"].startswith("devsepctl: "), e
PY
	[ -s "$T/err" ] || fail "$*: nothing on stderr"
}
json_fail 3 daemon-not-running locks
json_fail 3 daemon-not-running devices
json_fail 2 usage locks --domid 99999999
json_fail 2 usage bogus-command
json_fail 2 usage -t never status
"$CTL" --json --rundir "$R" status >"$T/out" 2>/dev/null
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert "error" not in d' \
    "$T/out" || fail "status --json: an error object after its own document"
ok "--json failures: one error object on stdout, documented exit codes"
echo PASS
