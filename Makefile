# Pitstop: `make demo` shows it working, `make test` proves it.
# One target dir and one profile (release) for tests, benches and the demo, so the
# dependencies are compiled once.

CARGO ?= cargo
PROFILE_FLAGS := --release

# Clippy's lints run inside the build instead of in a check pass of their own: cargo sends
# this workspace's crates (not the dependencies) through clippy-driver, which is rustc
# plus the lints and produces the same code. A check pass compiled every dependency a
# second time (metadata only) and each of our crates twice, about 1.5 minutes of
# `make test`. Every cargo run of this Makefile (demo, tests, the wheel, bench) uses it,
# so they share one build; lints print as warnings, and `make test` fails on any
# (tests/no-warnings.sh). A plain `cargo build` works as before, in artifacts of its own.
export RUSTC_WORKSPACE_WRAPPER := clippy-driver

# No incremental compilation in this Makefile's builds: they start clean on CI, where
# writing the incremental caches of the core's three builds (library, unit tests, suite)
# cost about 7% of their compile time. A plain `cargo` keeps the profile's incremental
# builds for the edit-compile loop (its artifacts are apart from these anyway).
export CARGO_INCREMENTAL := 0

.PHONY: all build build-tests test demo bench setup clean python-checks c-lib c-test plugins plugin-tests wasm-target zig postgres-test postgres-suites dashboard-test \
	python-venv python-wheel python-test onec-lib onec-test onec-windows onec onec-wine-check \
	onec-bsl-check

# Plugins: their own workspace (plugins/), built for wasm32 into this target dir, where
# core/tests/suite/shop_plugins.rs finds them. The C plugin is built with zig's clang (pip).
TARGET_DIR := $(CURDIR)/target
WASM_DIR := $(TARGET_DIR)/wasm32-unknown-unknown/release
PYTHON ?= python3

all: build

setup:
	@command -v cargo >/dev/null || { echo "cargo not found: install the Rust toolchain (rustup)"; exit 1; }
	@rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy rustfmt || true
	@test -e /usr/lib/x86_64-linux-gnu/libsqlite3.so -o -e /usr/lib/libsqlite3.so || \
		{ command -v apt-get >/dev/null && apt-get update -qq && apt-get install -y -qq libsqlite3-dev >/dev/null; } || \
		{ echo "libsqlite3 not found: install libsqlite3-dev (the bench's SQLite baseline links it)"; exit 1; }

build: setup
	$(CARGO) build $(PROFILE_FLAGS) --workspace --all-targets

# What `make test` builds: every target (libraries, binaries, test binaries and the
# benchmarks, so that clippy sees them all), failing on any warning or lint. Its `cargo
# test` runs the libraries', binaries' and test binaries' tests, not the benchmarks.
build-tests: setup
	tests/no-warnings.sh $(CARGO) build $(PROFILE_FLAGS) --workspace --all-targets

wasm-target:
	@rustup target list --installed 2>/dev/null | grep -q '^wasm32-unknown-unknown$$' || rustup target add wasm32-unknown-unknown

zig:
	@$(PYTHON) -m ziglang version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet ziglang

plugins: setup wasm-target zig
	cd plugins && ../tests/no-warnings.sh $(CARGO) build --release --target wasm32-unknown-unknown --target-dir $(TARGET_DIR)
	@mkdir -p $(WASM_DIR)
	$(PYTHON) -m ziglang cc --target=wasm32-freestanding -O2 -nostdlib -Wl,--no-entry \
		-o $(WASM_DIR)/loyal_visit.wasm plugins/c/loyal-visit/plugin.c

# The plugins' native tests build in a target dir of their own: the root workspace links
# the same crates (combined-sale, the SDK) as dev-dependencies with other features, and two
# workspaces writing one release/deps folder leave rlibs that no longer fit each other.
PLUGINS_HOST_DIR := $(TARGET_DIR)/plugins-host

plugin-tests: plugins
	cd plugins && $(CARGO) fmt --all --check
	cd plugins && ../tests/no-warnings.sh $(CARGO) build --release --target-dir $(PLUGINS_HOST_DIR) --all-targets
	cd plugins && $(CARGO) test --release --target-dir $(PLUGINS_HOST_DIR)

# Each stage prints the time it starts, so a slow run shows where its time went.
STAGE = @echo "== $$(date +%T) $(1)"

test:
	$(call STAGE,build)
	$(MAKE) --no-print-directory build-tests plugins
	$(call STAGE,one feature set)
	tests/unified-features.sh
	$(call STAGE,format)
	$(CARGO) fmt --all --check
	$(call STAGE,cargo test)
	$(CARGO) test $(PROFILE_FLAGS) --workspace --lib --bins --tests
	$(CARGO) test $(PROFILE_FLAGS) --workspace --doc
	$(call STAGE,the doors: PostgreSQL; plugin workspace; Python and the 1C sources; 1C add-in; dashboard in Chromium; C ABI)
	$(MAKE) --no-print-directory -j2 --output-sync=target $(addprefix lane-,$(DOOR_STAGES))
	$(call STAGE,done)

# The stages after `cargo test`, two at a time: each waits mostly on something other than
# the CPU (PostgreSQL's fsyncs, valgrind's one thread, Chromium, pip), so two share the
# two cores better than one after the other. Longest first. Each lane prints its output
# whole when it ends, between the times it started and ended; a failing lane fails
# `make test` after the running one ends. A lane is a make of its own without the
# jobserver (-j1; make says it resets it): the programs its recipes run (cargo, rustdoc)
# would otherwise find the jobserver named in MAKEFLAGS but not open, and warn. The
# virtualenv's two users (the wheel and the 1C sources' check) share a lane.
DOOR_STAGES := postgres-test plugin-tests python-checks onec-test dashboard-test c-test

lane-%:
	@echo "== $$(date +%T) $* started"
	@$(MAKE) --no-print-directory -j1 $*
	@echo "== $$(date +%T) $* passed"

python-checks: python-test onec-bsl-check

# The shared suites again on PostgreSQL: a throwaway cluster (Debian's postgresql,
# installed when missing; initdb in target/pg-cluster, a Unix socket and a 127.0.0.1
# port), stopped however the tests end. Each test gets a schema of its own. The
# conformance suite, the scenarios, the model-based property test and the executed
# documents run unchanged; the core's integration tests are one binary (core/tests/suite),
# and a suite is selected by its module's name (`scenarios::`). postgres:: adds what only a
# shared store has (many processes, kill -9); postgres_failures:: restarts the server, so
# each runs in a process of its own, as when they were binaries of their own.
PG_CLUSTER_DIR := $(TARGET_DIR)/pg-cluster
PG_SUITES := scenarios model docs engagement growth history regressions request_contract \
	import_reminders branches analytics analytics_more simulate dashboard merge audit \
	audit_report catalog completeness aggregates lots
PG_CARGO_TEST := $(CARGO) test $(PROFILE_FLAGS) -p pitstop-core

postgres-test: setup
	tests/pg/with-cluster.sh $(PG_CLUSTER_DIR) $(MAKE) --no-print-directory postgres-suites

postgres-suites:
	@test -n "$$PITSTOP_TEST_POSTGRES" || { echo "run by make postgres-test (tests/pg/with-cluster.sh)"; exit 1; }
	$(PG_CARGO_TEST) --lib
	$(PG_CARGO_TEST) --test suite -- $(addsuffix ::,$(PG_SUITES))
	$(PG_CARGO_TEST) --test suite -- postgres::
	$(PG_CARGO_TEST) --test suite -- postgres_failures::

# The owner's dashboard as a person sees it: tests/dashboard/check.sh builds a small demo
# shop with the built `pitstop`, writes its dashboard, loads it in Debian's headless
# Chromium (installed when missing) with every host name unresolvable, fails on a missing
# or empty chart or any console message, and keeps the screenshots in target/dashboard.
# No compile of its own: the binary is the one `make build` made.
DASHBOARD_OUT := $(TARGET_DIR)/dashboard

dashboard-test: setup
	$(CARGO) build $(PROFILE_FLAGS) -p pitstop-cli
	tests/dashboard/check.sh $(TARGET_DIR)/release/pitstop $(DASHBOARD_OUT)

# The showcase: builds the `pitstop` binary, then `pitstop demo` generates a shop with three
# years of history in ./pitstop-demo and runs its first day. The example plugins are
# installed when `make plugins` has built them (the demo says so when they are absent).
demo: setup
	$(CARGO) run $(PROFILE_FLAGS) -p pitstop-cli --bin pitstop -- demo ./pitstop-demo

bench: setup plugins
	$(CARGO) run $(PROFILE_FLAGS) -p pitstop-core --example bench
	$(CARGO) run $(PROFILE_FLAGS) -p pitstop-core --example plugin_bench
	$(CARGO) run $(PROFILE_FLAGS) -p pitstop-cli --example import_bench
	$(CARGO) run $(PROFILE_FLAGS) -p pitstop-cli --example report_bench
	$(CARGO) run $(PROFILE_FLAGS) -p pitstop-core --example referral_bench
	$(CARGO) run $(PROFILE_FLAGS) -p pitstop-cli --example simulate_bench
	tests/pg/with-cluster.sh $(TARGET_DIR)/pg-cluster-bench $(CARGO) run $(PROFILE_FLAGS) -p pitstop-core --example pg_bench

# The C ABI as a host sees it: libpitstop built by cargo, the committed header, C programs
# compiled with plain cc (shared and static), the POS demo run, the C tests run under
# valgrind (no errors, no definite leaks). `make c-test VALGRIND=` runs them without it.
CC ?= cc
CXX ?= c++
C_OUT := target/c
C_LIB_DIR := $(CURDIR)/target/release
C_FLAGS := -std=c11 -Wall -Wextra -Werror -pedantic -g -O1 -I ffi/include -I examples/c
C_SHARED := -L $(C_LIB_DIR) -lpitstop -Wl,-rpath,$(C_LIB_DIR) -lpthread
C_STATIC := $(C_LIB_DIR)/libpitstop.a -lgcc_s -lutil -lrt -lpthread -lm -ldl -lc
# --fair-sched=yes: valgrind runs one thread at a time, and its default lock lets a thread
# that spins (sled's IO buffers, a reader loop racing a close) take the lock back again and
# again, so a run that takes 4 s with it took 60 s here and longer than CI allowed there.
# The timeout turns any such stall into a failure that says so, not a silent hour.
VALGRIND ?= timeout 600 valgrind --fair-sched=yes --quiet --error-exitcode=99 --leak-check=full \
	--errors-for-leak-kinds=definite --show-leak-kinds=definite --suppressions=tests/c/valgrind.supp

c-lib: setup
	$(CARGO) build $(PROFILE_FLAGS) -p pitstop-ffi

c-test: c-lib
	@test -z "$(VALGRIND)" || command -v valgrind >/dev/null || \
		{ command -v apt-get >/dev/null && apt-get update -qq && apt-get install -y -qq valgrind >/dev/null; } || \
		{ echo "valgrind not found: install it, or run make c-test VALGRIND="; exit 1; }
	mkdir -p $(C_OUT)
	$(CXX) -std=c++17 -Wall -Wextra -Werror -fsyntax-only -x c++ ffi/include/pitstop.h
	$(CC) $(C_FLAGS) examples/c/pos_demo.c $(C_SHARED) -o $(C_OUT)/pos_demo
	$(CC) $(C_FLAGS) examples/c/pos_demo.c $(C_STATIC) -o $(C_OUT)/pos_demo_static
	$(CC) $(C_FLAGS) tests/c/abi_test.c $(C_SHARED) -o $(C_OUT)/abi_test
	rm -rf $(C_OUT)/pos-demo-store $(C_OUT)/pos-demo-static-store $(C_OUT)/abi-test
	$(C_OUT)/pos_demo $(C_OUT)/pos-demo-store
	$(VALGRIND) $(C_OUT)/pos_demo_static $(C_OUT)/pos-demo-static-store >/dev/null
	$(VALGRIND) $(C_OUT)/abi_test $(C_OUT)/abi-test
	rm -rf $(C_OUT)/pos-demo-store $(C_OUT)/pos-demo-static-store $(C_OUT)/abi-test

# The 1C:Enterprise add-in (onec/, crate pitstop-1c). `onec-test` loads the Linux library
# into tests/onec/addin_test, a C stand-in for 1C (dlopen, the exports, the interface
# tables, UTF-16, a counting memory manager, AddError), under valgrind like the C tests.
# `onec` cross-builds the Windows library with Debian's mingw-w64 and packs both with
# MANIFEST.XML into the ZIP a configuration keeps in a common template (макет);
# `onec-wine-check` loads the DLL under wine when wine64 is installed.
ONEC_TARGET_DIR := $(or $(CARGO_TARGET_DIR),$(TARGET_DIR))
ONEC_OUT := $(ONEC_TARGET_DIR)/onec
ONEC_LIB := $(ONEC_TARGET_DIR)/release/libpitstop_1c.so
ONEC_WINDOWS := x86_64-pc-windows-gnu
ONEC_DLL := $(ONEC_TARGET_DIR)/$(ONEC_WINDOWS)/release/pitstop_1c.dll
ONEC_MINGW := x86_64-w64-mingw32
ONEC_ZIP := $(ONEC_OUT)/pitstop-1c.zip
ONEC_C_FLAGS := -std=c11 -Wall -Wextra -Werror -pedantic -g -O1 -I examples/c -I tests/onec

onec-lib: setup
	$(CARGO) build $(PROFILE_FLAGS) -p pitstop-1c

onec-test: onec-lib
	@test -z "$(VALGRIND)" || command -v valgrind >/dev/null || \
		{ command -v apt-get >/dev/null && apt-get update -qq && apt-get install -y -qq valgrind >/dev/null; } || \
		{ echo "valgrind not found: install it, or run make onec-test VALGRIND="; exit 1; }
	mkdir -p $(ONEC_OUT)
	$(CC) $(ONEC_C_FLAGS) tests/onec/addin_test.c -ldl -lpthread -o $(ONEC_OUT)/addin_test
	rm -rf $(ONEC_OUT)/addin-test
	RUST_BACKTRACE=0 tests/pg/with-cluster.sh $(TARGET_DIR)/pg-cluster-onec \
		$(VALGRIND) $(ONEC_OUT)/addin_test $(ONEC_LIB) $(ONEC_OUT)/addin-test
	rm -rf $(ONEC_OUT)/addin-test

onec-windows: setup
	@rustup target list --installed 2>/dev/null | grep -q '^$(ONEC_WINDOWS)$$' || rustup target add $(ONEC_WINDOWS)
	@command -v $(ONEC_MINGW)-gcc >/dev/null || \
		{ command -v apt-get >/dev/null && apt-get update -qq && apt-get install -y -qq gcc-mingw-w64-x86-64 >/dev/null; } || \
		{ echo "$(ONEC_MINGW)-gcc not found: install Debian's gcc-mingw-w64-x86-64"; exit 1; }
	$(CARGO) build $(PROFILE_FLAGS) -p pitstop-1c --target $(ONEC_WINDOWS)

onec: onec-lib onec-windows
	@command -v zip >/dev/null || { apt-get update -qq && apt-get install -y -qq zip >/dev/null; }
	rm -rf $(ONEC_OUT)/zip $(ONEC_ZIP)
	mkdir -p $(ONEC_OUT)/zip
	cp onec/MANIFEST.XML $(ONEC_OUT)/zip/
	strip -o $(ONEC_OUT)/zip/libpitstop_1c_lin64.so $(ONEC_LIB)
	$(ONEC_MINGW)-strip -o $(ONEC_OUT)/zip/pitstop_1c_win64.dll $(ONEC_DLL)
	cd $(ONEC_OUT)/zip && zip -q -X -9 $(ONEC_ZIP) MANIFEST.XML libpitstop_1c_lin64.so pitstop_1c_win64.dll
	@unzip -l $(ONEC_ZIP)

onec-wine-check: onec-windows
	@command -v wine64 >/dev/null || test -x /usr/lib/wine/wine64 || \
		{ echo "wine not found: apt-get install wine64"; exit 1; }
	mkdir -p $(ONEC_OUT)/wine
	$(ONEC_MINGW)-gcc $(ONEC_C_FLAGS) tests/onec/load_check.c -o $(ONEC_OUT)/wine/load_check.exe
	$(ONEC_MINGW)-gcc -std=c11 -Wall -Wextra -Werror -O1 -shared tests/onec/wine/bcryptprimitives.c \
		-lbcrypt -o $(ONEC_OUT)/wine/bcryptprimitives.dll
	rm -rf $(ONEC_OUT)/wine/store
	WINEDEBUG=-all $$(command -v wine64 || echo /usr/lib/wine/wine64) $(ONEC_OUT)/wine/load_check.exe \
		'Z:$(subst /,\,$(ONEC_DLL))' 'Z:$(subst /,\,$(ONEC_OUT)/wine/store)'
	rm -rf $(ONEC_OUT)/wine/store

# The BSL examples (examples/1c) parsed by tree-sitter-bsl and checked by bslfmt, both
# from PyPI, in the project's virtualenv.
onec-bsl-check: python-venv
	$(VENV_PY) -m pip install --quiet --disable-pip-version-check tree-sitter==0.26.1 tree-sitter-bsl==0.1.6 bslfmt==0.27.0
	PATH="$(VENV)/bin:$$PATH" $(VENV_PY) examples/1c/check_bsl.py

# The Python binding installed the way a user installs it: a virtualenv (.venv) with maturin,
# pytest and mypy from pip, the extension built by maturin as an abi3 wheel and installed
# into it; then the stubs checked against the module (stubtest), the package, tests and
# examples type-checked (mypy --strict) and pytest. pandas is optional for users (the package
# does not depend on it); the test venv has it so that Report.to_dataframe and to_pandas are
# tested (and their ImportError without it, by hiding the module). matplotlib is optional.
VENV := $(CURDIR)/.venv
VENV_PY := $(VENV)/bin/python
WHEELS := $(TARGET_DIR)/python-wheels

python-venv:
	@test -x $(VENV_PY) || $(PYTHON) -m venv $(VENV)
	$(VENV_PY) -m pip install --quiet --disable-pip-version-check maturin pytest mypy pandas

python-wheel: setup python-venv
	rm -f $(WHEELS)/pitstop-*.whl
	$(VENV)/bin/maturin build --release --manifest-path python/Cargo.toml --interpreter $(VENV_PY) --out $(WHEELS)
	$(VENV_PY) -m pip install --quiet --disable-pip-version-check --force-reinstall --no-deps $(WHEELS)/pitstop-*.whl

python-test: python-wheel
	$(VENV_PY) -m mypy.stubtest pitstop --allowlist python/stubtest-allowlist.txt
	MYPYPATH=python/tests $(VENV_PY) -m mypy --config-file python/pyproject.toml python/pitstop python/tests examples/python
	tests/pg/with-cluster.sh $(TARGET_DIR)/pg-cluster-python $(VENV)/bin/pytest python/tests

clean:
	$(CARGO) clean
	rm -rf ./pitstop-demo ./pitstop-demo-dashboard.html
