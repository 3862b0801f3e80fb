# gen-policy.awk: policy/<name>.policy -> C tables (struct policy, see
# common/policy.h).  Run by make:  awk -f gen-policy.awk NAME.policy > NAME.c
#
# Names are emitted as C names (SCMP_SYS(read), CAP_NET_ADMIN, RLIMIT_NOFILE,
# MSG_LOCK_ACQUIRE, PROT_EXEC ...), so a typo in a policy file is a build
# error, and the values come from the system headers.  The format is in
# man/devsep-policy.5.  Any line this script does not understand stops the
# build (exit 1) with file:line.

function die(msg) {
	printf("%s:%d: %s\n", FILENAME, FNR, msg) > "/dev/stderr"
	failed = 1
	exit 1
}

function cstr(s) {
	gsub(/\\/, "\\\\", s)
	gsub(/"/, "\\\"", s)
	gsub(/\t/, "\\t", s)
	gsub(/\n/, "\\n", s)
	return "\"" s "\""
}

function need_reason() {
	if (reason == "")
		die("`" $1 "` needs a reason: append `# why`")
}

function cval(v) {
	if (v !~ /^[A-Za-z0-9_|]+$/)
		die("bad value `" v "`")
	return "(uint64_t)(" v ")"
}

function cop(o) {
	if (o == "==") return "SCMP_CMP_EQ"
	if (o == "!=") return "SCMP_CMP_NE"
	if (o == "<")  return "SCMP_CMP_LT"
	if (o == "<=") return "SCMP_CMP_LE"
	if (o == ">")  return "SCMP_CMP_GT"
	if (o == ">=") return "SCMP_CMP_GE"
	die("bad operator `" o "`")
}

# Conditions start at field i: `argN OP V` or `argN & MASK == V`.
function conds(i,    out, n, a, txt) {
	out = ""
	n = 0
	while (i <= NF) {
		if ($i !~ /^arg[0-5]$/)
			die("expected argN, got `" $i "`")
		a = substr($i, 4)
		if ($(i + 1) == "&") {
			if ($(i + 3) != "==")
				die("masked compare must be `argN & MASK == V`")
			txt = $i " & " $(i + 2) " == " $(i + 4)
			out = out sprintf("{ %s, SCMP_CMP_MASKED_EQ, %s, %s, %s }, ",
			    a, cval($(i + 2)), cval($(i + 4)), cstr(txt))
			i += 5
		} else {
			if (i + 2 > NF)
				die("incomplete condition")
			txt = $i " " $(i + 1) " " $(i + 2)
			out = out sprintf("{ %s, %s, 0, %s, %s }, ",
			    a, cop($(i + 1)), cval($(i + 2)), cstr(txt))
			i += 3
		}
		n++
	}
	if (n > 3)
		die("at most 3 conditions per line")
	ncond = n
	return out
}

function sysname(s) {
	if (s !~ /^[a-z_][a-z0-9_]*$/)
		die("bad syscall name `" s "`")
	return s
}

BEGIN {
	nrules = ncaps = nrl = nmsgs = nexec = nhide = ntables = 0
	nprotos = 0
	group = ""
	user = ""
	pgroup = ""
	chroot = -1
	mountns = 0
	ambient = 0
	failed = 0
}

{
	line = $0
	text = text line "\n"
	reason = ""
	p = index(line, "#")
	if (p > 0) {
		reason = substr(line, p + 1)
		sub(/^[ \t]+/, "", reason)
		line = substr(line, 1, p - 1)
	}
	$0 = line
	if (NF == 0)
		next
}

$1 == "daemon" {
	if (NF != 2 || $2 !~ /^[a-z]+$/) die("daemon NAME")
	name = $2
	next
}
$1 == "proto" {
	if (NF != 2 || $2 !~ /^[a-z_]+\.h$/) die("proto HEADER.h")
	protos[nprotos++] = $2
	next
}
$1 == "user" {
	if (NF != 2) die("user NAME")
	need_reason()
	user = $2
	next
}
$1 == "peer-group" {
	if (NF != 2 || $2 !~ /^[a-z][a-z0-9_-]*$/) die("peer-group NAME")
	need_reason()
	pgroup = $2
	next
}
$1 == "chroot" || $1 == "mountns" || $1 == "ambient" {
	if (NF != 2 || ($2 != "yes" && $2 != "no")) die($1 " yes|no")
	need_reason()
	if ($1 == "chroot") chroot = ($2 == "yes")
	else if ($1 == "mountns") mountns = ($2 == "yes")
	else ambient = ($2 == "yes")
	next
}
$1 == "hide" || $1 == "exec-dir" {
	if (NF != 2 || ($2 !~ /^\// && $2 !~ /^@[A-Za-z_]+$/))
		die($1 " /PATH | @spec | @ENVVAR")
	need_reason()
	if ($1 == "hide") hide[nhide++] = $2; else execd[nexec++] = $2
	next
}
$1 == "cap" {
	if (NF != 2 || $2 !~ /^[A-Z_]+$/) die("cap NAME (without CAP_)")
	need_reason()
	caps[ncaps++] = sprintf("{ CAP_%s, %s }", $2, cstr($2))
	next
}
$1 == "rlimit" {
	if (NF != 3 || $2 !~ /^[A-Z]+$/ || $3 !~ /^([0-9]+|infinity)$/)
		die("rlimit NAME VALUE|infinity")
	need_reason()
	v = $3 == "infinity" ? "(uint64_t)RLIM_INFINITY" : $3 "ULL"
	rl[nrl++] = sprintf("{ RLIMIT_%s, %s, %s }", $2, cstr($2), v)
	next
}
$1 == "group" {
	if (NF != 2 || $2 !~ /^@[a-z-]+$/) die("group @NAME")
	need_reason()
	group = $2
	next
}
$1 == "allow" {
	if (NF < 2) die("allow SYSCALL [conditions]")
	need_reason()
	if (group == "") die("`allow` before any `group`")
	s = sysname($2)
	c = conds(3)
	if (ncond == 0)
		c = "{ 0, 0, 0, 0, NULL } "
	rules[nrules++] = sprintf("{ SCMP_SYS(%s), %s, POLICY_ALLOW, 0, %s, %d, { %s} }",
	    s, cstr(s), cstr(group), ncond, c)
	next
}
$1 == "errno" {
	if (NF != 3 || $3 !~ /^E[A-Z0-9]+$/) die("errno SYSCALL ENAME")
	need_reason()
	if (group == "") die("`errno` before any `group`")
	s = sysname($2)
	rules[nrules++] = sprintf("{ SCMP_SYS(%s), %s, POLICY_ERRNO, %s, %s, 0, { { 0, 0, 0, 0, NULL } } }",
	    s, cstr(s), $3, cstr(group))
	next
}
$1 == "table" {
	if (NF != 4 || $2 !~ /^@[a-z]+$/ || $3 !~ /^devsep-[a-z-]+$/ || $4 !~ /^[A-Za-z_][A-Za-z0-9_]*$/)
		die("table @CHANNEL BINARY SYMBOL")
	need_reason()
	tables[ntables++] = sprintf("{ %s, %s, %s }", cstr(substr($2, 2)), cstr($3), cstr($4))
	next
}
$1 == "msg" {
	chan = "listen"
	if (NF == 4 && $2 ~ /^@[a-z]+$/) {
		chan = substr($2, 2)
		$2 = $3; $3 = $4; NF = 3
	}
	if (NF != 3 || $2 !~ /^MSG_[A-Z0-9_]+$/) die("msg [@CHANNEL] MSG_NAME peer,peer|none")
	need_reason()
	np = split($3, pp, ",")
	mask = ""
	for (j = 1; j <= np; j++) {
		if (pp[j] == "none") { if (np != 1) die("`none` alone"); mask = "0"; continue }
		if (pp[j] !~ /^(watcherd|hotplugd|lockd|broker|admin)$/)
			die("unknown peer class `" pp[j] "`")
		mask = mask (mask == "" ? "" : " | ") "PEER_" toupper(pp[j])
	}
	msgs[nmsgs++] = sprintf("{ %s, %s, %s, %s }", cstr(chan), $2, cstr($2), mask)
	next
}
{ die("unknown statement `" $1 "`") }

function emit_list(type, id, arr, n,    i) {
	if (n == 0) {
		printf("#define %s_%s NULL\n", id, name)
		return
	}
	printf("static const %s %s_%s[] = {\n", type, id, name)
	for (i = 0; i < n; i++)
		printf("\t%s,\n", arr[i])
	printf("};\n")
}

function emit_strs(id, arr, n,    i) {
	if (n == 0) {
		printf("#define %s_%s NULL\n", id, name)
		return
	}
	printf("static const char *const %s_%s[] = {\n", id, name)
	for (i = 0; i < n; i++)
		printf("\t%s,\n", cstr(arr[i]))
	printf("};\n")
}

END {
	if (failed)
		exit 1
	if (name == "") { FNR = 0; die("no `daemon` line") }
	if (user == "") { FNR = 0; die("no `user` line") }
	if (chroot == -1) { FNR = 0; die("no `chroot` line") }
	printf("/* Generated from %s by policy/gen-policy.awk: do not edit. */\n", FILENAME)
	printf("#include <stdint.h>\n#include <stddef.h>\n#include <sys/ioctl.h>\n")
	printf("#include <sys/mman.h>\n#include <sys/resource.h>\n#include <sys/socket.h>\n")
	printf("#include <sched.h>\n#include <sys/prctl.h>\n#include <fcntl.h>\n#include <errno.h>\n#include <termios.h>\n")
	printf("#include <linux/capability.h>\n#include <seccomp.h>\n")
	printf("#include \"msg.h\"\n#include \"policy.h\"\n")
	for (i = 0; i < nprotos; i++)
		printf("#include \"%s\"\n", protos[i])
	printf("\n")
	emit_list("struct policy_rule", "rules", rules, nrules)
	emit_list("struct policy_cap", "caps", caps, ncaps)
	emit_list("struct policy_rlimit", "rlimits", rl, nrl)
	emit_list("struct policy_msg", "msgs", msgs, nmsgs)
	emit_list("struct policy_table", "tables", tables, ntables)
	emit_strs("execd", execd, nexec)
	emit_strs("hide", hide, nhide)
	printf("static const char text_%s[] =\n", name)
	n = split(text, tl, "\n")
	for (i = 1; i < n; i++)
		printf("\t%s\n", cstr(tl[i] "\n"))
	printf("\t;\n\n")
	printf("const struct policy policy_%s = {\n", name)
	printf("\t.name = %s, .user = %s, .chroot = %d, .mountns = %d,\n",
	    cstr(name), cstr(user), chroot, mountns)
	printf("\t.ambient = %d,\n", ambient)
	if (pgroup != "")
		printf("\t.peer_group = %s,\n", cstr(pgroup))
	printf("\t.text = text_%s,\n", name)
	printf("\t.rules = rules_%s, .nrules = %d,\n", name, nrules)
	printf("\t.caps = caps_%s, .ncaps = %d,\n", name, ncaps)
	printf("\t.rlimits = rlimits_%s, .nrlimits = %d,\n", name, nrl)
	printf("\t.msgs = msgs_%s, .nmsgs = %d,\n", name, nmsgs)
	printf("\t.tables = tables_%s, .ntables = %d,\n", name, ntables)
	printf("\t.exec_dirs = execd_%s, .nexec_dirs = %d,\n", name, nexec)
	printf("\t.hide = hide_%s, .nhide = %d,\n", name, nhide)
	printf("};\n")
}
