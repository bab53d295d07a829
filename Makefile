# electrode-c: one build into build/, one test command, one demo command.
#   make            build everything
#   make deps       install missing Debian packages (root)
#   make test       unit tests, BPF program tests, cluster tests (each
#                   suite runs even when an earlier one failed; then any
#                   failure fails the target); CLUSTER_TESTS=test_basic
#                   selects cluster tests
#   make demo       5-replica cluster, closed-loop client, summary
#   make bench      offload and batching settings side by side, and read
#                   mixes with leased reads against reads through the log
#   make faults     the fault matrix: every offload combination under a
#                   seeded random nemesis, histories checked for
#                   linearizability (cluster/faults.sh; EC_FAULT_*)
#   make soak       5 replicas, all offloads, 32 clients for 10 minutes:
#                   RSS every 10 s, throughput per minute, targets checked
#                   (cluster/soak.sh; EC_SOAK_*)
#   make checkpoint-latency
#                   p99.9 of runs crossing checkpoints vs none, rotated
#                   (cluster/checkpoint_latency.sh; EC_CKLAT_*)
#   make recovery-time
#                   a follower restarted after 10M requests: time until it
#                   is normal and acknowledging in XDP again
#                   (cluster/recovery_time.sh; EC_RECOVERY_*)
#   make catchup-time
#                   a follower paused until the leader is 100000 ops ahead,
#                   the load stopped: time until it has caught up from the
#                   log (cluster/catchup.sh; EC_CATCHUP_TIMEOUT)
#   make fuzz       build the libFuzzer harnesses (tests/fuzz/) with clang
#                   into build/fuzz/ and run each for FUZZ_TIME seconds
#                   (default 60), or for FUZZ_RUNS inputs when given,
#                   with libFuzzer -seed=FUZZ_SEED (drawn when not given,
#                   printed either way); crashes are left as
#                   build/fuzz/crash-* files
#   make fuzz-ci    the short pass of CI: replay the committed regression
#                   inputs and fuzz each harness for FUZZ_CI_TIME seconds
#                   from seed FUZZ_CI_SEED (default 1)
#   SAN=1           build all user-space code with AddressSanitizer and
#                   UndefinedBehaviorSanitizer into build-san/ (the BPF
#                   objects are built as usual); e.g. make SAN=1 unit-test
#   V=1             show full commands

# Sanitized objects never mix with normal ones: SAN=1 builds elsewhere.
ifeq ($(SAN),1)
BUILD   := build-san
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer \
	     -fno-sanitize-recover=undefined
else
BUILD   := build
endif
CC      ?= cc
CLANG   ?= clang
BPFTOOL ?= bpftool
PROTOC  ?= protoc-c

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

DEB_PKGS := build-essential libbpf-dev libelf-dev zlib1g-dev libevent-dev \
	libprotobuf-c-dev protobuf-c-compiler check clang llvm bpftool \
	iproute2 procps pkg-config gnuplot-nox python3 linux-perf \
	libclang-rt-14-dev

ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')

# CFLAGS is the user's (optimisation, debug info): a CFLAGS given on the
# command line replaces it whole.  What the build cannot do without (the
# language standard, warnings, include paths) is kept apart in EC_CFLAGS.
CFLAGS  ?= -O2 -g
EC_CFLAGS := -std=gnu11 -Wall -Wextra -Wno-unused-parameter -Werror=implicit \
	     -Iproto -I$(BUILD)/proto -I$(BUILD) -Ireplica -Iclient $(SAN_FLAGS)
LDLIBS_CORE := -lprotobuf-c
LDLIBS_EV   := -levent_core
LDLIBS_BPF  := -lbpf -lelf -lz

BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) -Iproto -Ibpf \
	      -I/usr/include/$(shell uname -m)-linux-gnu \
	      -Wall -Wno-unused-value -Wno-compare-distinct-pointer-types

# The layers of replica/ (see README, "Layout"): common (shared with the
# clients and cluster tools), app (the state machine), core (the pure
# protocol).  libec holds these three and nothing else: make check-layers
# links it whole without libevent or libbpf.
COMMON_SRCS := replica/common/wire.c replica/common/read_msg.c replica/common/config.c replica/common/udp.c \
	       replica/common/clock.c
APP_SRCS    := replica/app/kv.c replica/app/client_table.c replica/app/snapshot.c \
	       replica/app/exec.c
CORE_SRCS   := replica/core/membership.c replica/core/batch.c \
	       replica/core/quorum.c replica/core/log.c replica/core/core.c \
	       replica/core/normal.c replica/core/viewchange.c \
	       replica/core/transfer.c replica/core/recovery.c \
	       replica/core/lease.c \
	       replica/core/checkpoint.c
LIBEC_SRCS  := $(COMMON_SRCS) $(APP_SRCS) $(CORE_SRCS)
# The offload switch table (pure too), for the daemon and the tests of it.
SWITCH_OBJ   = $(call obj,replica/offload/switches.c)
# The read cache's writer (no libbpf: it writes a mapping), for the
# daemon and the tests of the read path.
READ_CACHE_OBJ = $(call obj,replica/offload/read_cache.c)
# The replica daemon's glue: sockets, libevent, control socket, BPF loader.
REPLICA_SRCS := replica/main.c replica/options.c replica/io/io.c \
		replica/io/checkpointer.c replica/offload/switches.c \
		replica/offload/read_cache.c \
		replica/control/server.c replica/control/replica_cmds.c \
		replica/offload/offload.c replica/control/offload_cmds.c
CTL_SRCS     := replica/control/ctl.c
CLIENT_COMMON_SRCS := client/session.c client/histogram.c client/history.c \
		      client/history_slot.c
BENCH_SRCS   := client/bench.c client/bench_opts.c client/bench_verify.c
CLI_SRCS     := client/cli.c
PORT_SRCS    := cluster/ec-port.c cluster/port.c cluster/delay_line.c
# ec-lincheck, the linearizability checker of client histories: all but
# its main() is a library shared with its unit test.
LINCHECK_SRCS := tests/lincheck/util.c tests/lincheck/intern.c \
		 tests/lincheck/record.c tests/lincheck/history.c \
		 tests/lincheck/wgl.c tests/lincheck/shrink.c

BPF_SRCS  := $(wildcard bpf/*.bpf.c)
BPF_OBJS  := $(patsubst bpf/%.bpf.c,$(BUILD)/bpf/%.bpf.o,$(BPF_SRCS))
BPF_SKELS := $(patsubst bpf/%.bpf.c,$(BUILD)/%.skel.h,$(BPF_SRCS))

PROTO_C := $(BUILD)/proto/ec.pb-c.c
PROTO_H := $(BUILD)/proto/ec.pb-c.h

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))
LIBEC_OBJS := $(call obj,$(LIBEC_SRCS)) $(BUILD)/obj/proto/ec.pb-c.o
LIBEC     := $(BUILD)/libec.a
# Client-side protocol and statistics, shared by the clients and tests.
LIBCLIENT := $(BUILD)/libecclient.a
LIBLINCHECK := $(BUILD)/liblincheck.a

BINS := $(BUILD)/bin/ec-replica $(BUILD)/bin/ec-ctl $(BUILD)/bin/ec-bench \
	$(BUILD)/bin/ec-cli $(BUILD)/bin/ec-port $(BUILD)/bin/ec-lincheck

UNIT_SRCS  := $(wildcard tests/unit/test_*.c)
UNIT_BINS  := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
BPFT_SRCS  := $(wildcard tests/bpf/test_bpf_*.c)
# Shared helpers of the BPF tests (frames, program runs), linked into each.
BPFT_SUPPORT_SRCS := $(filter-out $(BPFT_SRCS),$(wildcard tests/bpf/*.c))
BPFT_BINS  := $(patsubst tests/bpf/%.c,$(BUILD)/tests/%,$(BPFT_SRCS))
# Script-level unit tests, run with the binaries.
UNIT_SCRIPTS := tests/lincheck/test_exit_codes.sh tests/cluster/fault_report_test.sh \
		tests/docs/test_replica_options.sh

# libFuzzer harnesses (tests/fuzz/fuzz_*.c): the pure core, sim.c and the
# scenarios compiled again with clang, coverage and sanitizers, in a tree
# of their own.  make_seeds writes their seed inputs.
FUZZ       := $(BUILD)/fuzz
FUZZ_FLAGS := -O1 -g -fno-omit-frame-pointer -fno-sanitize-recover=undefined
FUZZ_SRCS  := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS  := $(patsubst tests/fuzz/%.c,$(FUZZ)/bin/%,$(FUZZ_SRCS))
fuzz_obj    = $(patsubst %.c,$(FUZZ)/obj/%.o,$(1))
FUZZ_LIB_OBJS := $(call fuzz_obj,$(LIBEC_SRCS) tests/unit/sim.c tests/unit/sim_kernel.c \
		   replica/offload/read_cache.c \
		   tests/fuzz/scenario.c) $(FUZZ)/obj/proto/ec.pb-c.o
FUZZ_TIME    ?= 60
FUZZ_CI_TIME ?= 8
# CI fuzzes from a fixed seed, so that a failure there can be repeated
# (make fuzz-ci FUZZ_CI_SEED=N, or FUZZ_SEED=N, for another); make fuzz
# draws one unless FUZZ_SEED is given.  tests/fuzz/run.sh prints the seed.
FUZZ_CI_SEED ?= $(or $(FUZZ_SEED),1)

.DELETE_ON_ERROR:
# Keep BPF objects between builds (they are intermediates of the skeletons).
.SECONDARY:
.PHONY: all deps test check-layers unit-test bpf-test cluster-test demo bench faults soak checkpoint-latency recovery-time catchup-time clean \
	fuzz fuzz-ci

all: $(BINS) $(UNIT_BINS) $(BPFT_BINS)

deps:
	@missing=$$(for p in $(DEB_PKGS); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | \
		grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing:" $$missing; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq --no-install-recommends $$missing; \
	fi

$(PROTO_C) $(PROTO_H): proto/ec.proto
	$(call msg,PROTOC,$<)
	$(Q)mkdir -p $(BUILD)/proto
	$(Q)$(PROTOC) --c_out=$(BUILD)/proto -Iproto $<

$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c $(wildcard bpf/*.h) proto/ec_wire.h \
		      proto/ec_offload.h
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(BUILD)/bpf
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@.tmp.o
	$(Q)$(BPFTOOL) gen object $@ $@.tmp.o
	$(Q)rm -f $@.tmp.o

$(BUILD)/%.skel.h: $(BUILD)/bpf/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst -,_,$*) > $@

# Every object may include the protobuf header; only the BPF loaders and
# the BPF tests include skeletons.
SKEL_USERS := $(call obj,replica/offload/offload.c $(PORT_SRCS) $(BPFT_SRCS) \
		$(BPFT_SUPPORT_SRCS))
$(SKEL_USERS): $(BPF_SKELS)

$(BUILD)/obj/%.o: %.c $(PROTO_H)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(EC_CFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/obj/proto/ec.pb-c.o: $(PROTO_C) $(PROTO_H)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(EC_CFLAGS) $(CFLAGS) -c $< -o $@

$(LIBEC): $(LIBEC_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(LIBCLIENT): $(call obj,$(CLIENT_COMMON_SRCS))
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(LIBLINCHECK): $(call obj,$(LINCHECK_SRCS))
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/bin/ec-replica: $(call obj,$(REPLICA_SRCS)) $(LIBEC)
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(EC_CFLAGS) $(CFLAGS) $^ -o $@ $(LDLIBS_EV) $(LDLIBS_BPF) $(LDLIBS_CORE)

$(BUILD)/bin/ec-ctl: $(call obj,$(CTL_SRCS)) $(LIBEC)
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(EC_CFLAGS) $(CFLAGS) $^ -o $@ $(LDLIBS_CORE)

$(BUILD)/bin/ec-bench: $(call obj,$(BENCH_SRCS)) $(LIBCLIENT) $(LIBEC)
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(EC_CFLAGS) $(CFLAGS) $^ -o $@ $(LDLIBS_EV) $(LDLIBS_CORE) -lm

$(BUILD)/bin/ec-cli: $(call obj,$(CLI_SRCS)) $(LIBCLIENT) $(LIBEC)
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(EC_CFLAGS) $(CFLAGS) $^ -o $@ $(LDLIBS_CORE)

# ec-port takes only ec_parse_uint from libec: config.o alone is linked in,
# with nothing of protobuf.
$(BUILD)/bin/ec-port: $(call obj,$(PORT_SRCS)) $(LIBEC)
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(EC_CFLAGS) $(CFLAGS) $^ -o $@ $(LDLIBS_BPF)

$(BUILD)/bin/ec-lincheck: $(call obj,tests/lincheck/main.c) $(LIBLINCHECK)
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(EC_CFLAGS) $(CFLAGS) $^ -o $@

# The checker's unit test needs its library besides what every test links.
$(BUILD)/tests/test_lincheck: $(LIBLINCHECK)
$(BUILD)/tests/test_offload_switch: $(SWITCH_OBJ)

$(BUILD)/tests/test_%: $(BUILD)/obj/tests/unit/test_%.o $(BUILD)/obj/tests/unit/sim.o $(BUILD)/obj/tests/unit/sim_kernel.o $(READ_CACHE_OBJ) $(LIBCLIENT) $(LIBEC)
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(EC_CFLAGS) $(CFLAGS) $^ -o $@ $(LDLIBS_CORE) $$(pkg-config --libs check) -lm

# With the unit tests' model of the XDP program, which the conformance
# tests (tests/bpf/conform.c) run beside the program.
$(BUILD)/tests/test_bpf_%: $(BUILD)/obj/tests/bpf/test_bpf_%.o \
			   $(call obj,$(BPFT_SUPPORT_SRCS) tests/unit/sim_kernel.c) \
			   $(SWITCH_OBJ) $(READ_CACHE_OBJ) $(LIBEC)
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(EC_CFLAGS) $(CFLAGS) $^ -o $@ $(LDLIBS_BPF) $(LDLIBS_CORE) $$(pkg-config --libs check)

$(FUZZ)/obj/%.o: %.c $(PROTO_H)
	$(call msg,CLANG,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CLANG) $(EC_CFLAGS) -Itests/unit $(FUZZ_FLAGS) \
		-fsanitize=fuzzer-no-link,address,undefined -MMD -MP -c $< -o $@

$(FUZZ)/obj/proto/ec.pb-c.o: $(PROTO_C) $(PROTO_H)
	$(call msg,CLANG,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CLANG) $(EC_CFLAGS) $(FUZZ_FLAGS) \
		-fsanitize=fuzzer-no-link,address,undefined -c $< -o $@

$(FUZZ_BINS): $(FUZZ)/bin/%: $(FUZZ)/obj/tests/fuzz/%.o $(FUZZ_LIB_OBJS)
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CLANG) $(FUZZ_FLAGS) -fsanitize=fuzzer,address,undefined $^ -o $@ \
		$(LDLIBS_CORE)

$(FUZZ)/bin/make_seeds: $(FUZZ)/obj/tests/fuzz/make_seeds.o $(FUZZ_LIB_OBJS)
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CLANG) $(FUZZ_FLAGS) -fsanitize=address,undefined $^ -o $@ \
		$(LDLIBS_CORE)

# FUZZ_RUNS, when given, bounds each harness by inputs instead of time.
fuzz: $(FUZZ_BINS) $(FUZZ)/bin/make_seeds
	$(Q)FUZZ_SEED=$(FUZZ_SEED) tests/fuzz/run.sh $(FUZZ) $(FUZZ_TIME) $(FUZZ_RUNS)

fuzz-ci:
	$(Q)$(MAKE) --no-print-directory fuzz FUZZ_TIME=$(FUZZ_CI_TIME) FUZZ_RUNS= \
		FUZZ_SEED=$(FUZZ_CI_SEED)

# Time limits of the test binaries: Check's per test (times
# CK_TIMEOUT_MULTIPLIER) and tests/run-unit.sh's per binary
# (EC_UNIT_TIMEOUT, default 600 s).  Sanitized code runs about ten
# times slower, so SAN=1 triples the one and gives the other 1800 s, and
# test_quorum's partitions run one seed per split (EC_QUORUM_SEEDS; 2 min
# sanitized, measured); any of these set in the environment wins.
ifeq ($(SAN),1)
UNIT_ENV := CK_TIMEOUT_MULTIPLIER=$${CK_TIMEOUT_MULTIPLIER:-3} \
	    EC_UNIT_TIMEOUT=$${EC_UNIT_TIMEOUT:-1800} \
	    EC_QUORUM_SEEDS=$${EC_QUORUM_SEEDS:-1}
endif

# The script tests run the checker and the replica of this build
# (build-san/ with SAN=1).
unit-test: $(UNIT_BINS) $(BUILD)/bin/ec-lincheck $(BUILD)/bin/ec-replica
	$(Q)$(UNIT_ENV) EC_LINCHECK=$(BUILD)/bin/ec-lincheck \
		EC_REPLICA=$(BUILD)/bin/ec-replica \
		tests/run-unit.sh unit $(UNIT_BINS) $(UNIT_SCRIPTS)

bpf-test: $(BPFT_BINS)
	$(Q)$(UNIT_ENV) tests/run-unit.sh bpf $(BPFT_BINS)

# The include rule of the layers (tests/check_layers.py), and the pure
# layers linked whole with protobuf-c alone (tests/link_check.c).
check-layers: $(BUILD)/tests/link_check
	$(Q)python3 tests/check_layers.py
	$(Q)$(BUILD)/tests/link_check

$(BUILD)/tests/link_check: $(call obj,tests/link_check.c) $(LIBEC)
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(EC_CFLAGS) $(CFLAGS) $(call obj,tests/link_check.c) \
		-Wl,--whole-archive $(LIBEC) -Wl,--no-whole-archive -o $@ $(LDLIBS_CORE)

# CLUSTER_TESTS names the cluster tests to run (default: all of them).
cluster-test: all
	$(Q)tests/cluster/run.sh $(CLUSTER_TESTS)

# Every suite runs, whatever an earlier one gave; then a failure of any
# fails the target, naming which.
TEST_SUITES := check-layers unit-test bpf-test cluster-test
test: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)failed=; for t in $(TEST_SUITES); do \
		$(MAKE) --no-print-directory $$t || failed="$$failed $$t"; \
	done; \
	if [ -n "$$failed" ]; then echo "make test: failed:$$failed" >&2; exit 1; fi; \
	echo "make test: $(TEST_SUITES) passed"

demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)cluster/demo.sh

bench: all
	$(Q)cluster/bench.sh

faults: all
	$(Q)cluster/faults.sh

soak: all
	$(Q)cluster/soak.sh

checkpoint-latency: all
	$(Q)cluster/checkpoint_latency.sh

recovery-time: all
	$(Q)cluster/recovery_time.sh

# The one measurement of catch-up from the log alone: test_catchup checks
# a paused follower catches up, but under load and after a 3 s pause.
catchup-time: all
	$(Q)cluster/catchup.sh

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD)/obj $(FUZZ)/obj -name '*.d' 2>/dev/null)
