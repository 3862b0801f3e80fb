# system/: configuration example, systemd units, sysusers.d/tmpfiles.d
# entries, the udev rule of the loop devices, `make install` / `make uninstall` (DESTDIR, PREFIX=/usr/local, sbindir for the
# daemons, bindir for devsepctl).  See system/install-tree.
PREFIX      ?= /usr/local
sbindir     ?= $(PREFIX)/sbin
bindir      ?= $(PREFIX)/bin
datadir     ?= $(PREFIX)/share
mandir      ?= $(datadir)/man
sysconfdir  ?= /etc
unitdir     ?= $(PREFIX)/lib/systemd/system
sysusersdir ?= $(PREFIX)/lib/sysusers.d
tmpfilesdir ?= $(PREFIX)/lib/tmpfiles.d
udevrulesdir ?= $(PREFIX)/lib/udev/rules.d

# $(PROGS) is expanded when the recipe runs, after every module.mk added
# its programs: build exactly those (not the tests), then install them.
install:
	$(MAKE) $(PROGS)
	DESTDIR="$(DESTDIR)" sbindir="$(sbindir)" bindir="$(bindir)" \
	mandir="$(mandir)" sysconfdir="$(sysconfdir)" unitdir="$(unitdir)" \
	sysusersdir="$(sysusersdir)" tmpfilesdir="$(tmpfilesdir)" \
	udevrulesdir="$(udevrulesdir)" \
	datadir="$(datadir)" system/install-tree $(PROGS)

# `make uninstall`: removes what `make install` put there (same variables);
# keeps the users, the state dir and an administrator's devsep.conf.
uninstall:
	DESTDIR="$(DESTDIR)" sbindir="$(sbindir)" bindir="$(bindir)" \
	mandir="$(mandir)" sysconfdir="$(sysconfdir)" unitdir="$(unitdir)" \
	sysusersdir="$(sysusersdir)" tmpfilesdir="$(tmpfilesdir)" \
	udevrulesdir="$(udevrulesdir)" \
	datadir="$(datadir)" system/uninstall-tree $(PROGS)

# Only the installed programs, no test program (the Debian package build).
programs:
	$(MAKE) $(PROGS)

# The Debian packages (debian/) into $(BUILD)/deb, from a clean copy.
deb:
	system/build-deb $(BUILD)/deb

# The configuration example cannot drift from common/config.c.
SYS_UNIT := $(BUILD)/tests/unit/sys_test_conf_example
$(SYS_UNIT): $(BUILD)/system/tests/test_conf_example.o $(LIBDEVSEP)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(LIBDEVSEP) $(LDLIBS) $(CMOCKA_LIBS)
TEST_PROGS += $(SYS_UNIT)
UNIT_TESTS += $(SYS_UNIT)

INT_TESTS += system/tests/test-install.sh system/tests/test-systemd-proto.sh

# unit-run: a daemon under a unit's bounding set, NoNewPrivileges and
# SystemCallFilter deny list, without systemd (system/tests/test-units.sh).
$(BUILD)/tests/unit-run: $(BUILD)/system/tests/unit-run.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(LDLIBS)
TEST_PROGS += $(BUILD)/tests/unit-run
INT_TESTS += system/tests/test-units.sh system/tests/test-deb.sh system/tests/test-demo.sh
