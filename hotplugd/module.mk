# hotplugd/: devsep-hotplugd, its tests, and the tests + fuzzer of
# watcherd/xsproxy.c (whose object watcherd/module.mk links into watcherd).

HOTPLUGD_SRCS := hotplugd/hotplugd.c hotplugd/job.c hotplugd/spawn.c \
                 hotplugd/output.c hotplugd/jobsfile.c hotplugd/stats.c
HOTPLUGD_OBJS := $(HOTPLUGD_SRCS:%.c=$(BUILD)/%.o)
$(eval $(call devsep_prog,devsep-hotplugd,$(HOTPLUGD_OBJS)))
