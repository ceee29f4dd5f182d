# Pitstop: `make demo` shows it working, `make test` proves it.
# One target dir and one profile (release) for tests, benches and the demo, so the
# dependencies are compiled once.

CARGO ?= cargo
PROFILE_FLAGS := --release

.PHONY: all build test demo bench fmt clippy setup clean plugins plugin-tests wasm-target zig

# Plugins: their own workspace (plugins/), built for wasm32 into this target dir, where
# core/tests/shop_plugins.rs finds them. The C plugin is built with zig's clang (pip).
TARGET_DIR := $(CURDIR)/target
WASM_DIR := $(TARGET_DIR)/wasm32-unknown-unknown/release
PYTHON ?= python3

all: build

setup:
	@command -v cargo >/dev/null || { echo "cargo not found: install the Rust toolchain (rustup)"; exit 1; }
	@rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy rustfmt || true

build: setup
	$(CARGO) build $(PROFILE_FLAGS) --workspace --all-targets

wasm-target:
	@rustup target list --installed 2>/dev/null | grep -q '^wasm32-unknown-unknown$$' || rustup target add wasm32-unknown-unknown

zig:
	@$(PYTHON) -m ziglang version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet ziglang

plugins: setup wasm-target zig
	cd plugins && $(CARGO) build --release --target wasm32-unknown-unknown --target-dir $(TARGET_DIR)
	@mkdir -p $(WASM_DIR)
	$(PYTHON) -m ziglang cc --target=wasm32-freestanding -O2 -nostdlib -Wl,--no-entry \
		-o $(WASM_DIR)/loyal_visit.wasm plugins/c/loyal-visit/plugin.c

plugin-tests: plugins
	cd plugins && $(CARGO) fmt --all --check
	cd plugins && $(CARGO) clippy --release --target-dir $(TARGET_DIR) --all-targets -- -D warnings
	cd plugins && $(CARGO) test --release --target-dir $(TARGET_DIR)

test: build plugins
	$(CARGO) fmt --all --check
	$(CARGO) clippy $(PROFILE_FLAGS) --workspace --all-targets -- -D warnings
	$(CARGO) test $(PROFILE_FLAGS) --workspace
	$(MAKE) plugin-tests

demo: setup
	$(CARGO) run $(PROFILE_FLAGS) -p pitstop-core --example demo -- ./pitstop-demo

bench: setup plugins
	$(CARGO) run $(PROFILE_FLAGS) -p pitstop-core --example bench
	$(CARGO) run $(PROFILE_FLAGS) -p pitstop-core --example plugin_bench

clean:
	$(CARGO) clean
	rm -rf ./pitstop-demo
