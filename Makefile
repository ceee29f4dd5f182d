# Pitstop: `make demo` shows it working, `make test` proves it.
# One target dir and one profile (release) for tests, benches and the demo, so the
# dependencies are compiled once.

CARGO ?= cargo
PROFILE_FLAGS := --release

.PHONY: all build test demo bench fmt clippy setup clean

all: build

setup:
	@command -v cargo >/dev/null || { echo "cargo not found: install the Rust toolchain (rustup)"; exit 1; }
	@rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy rustfmt || true

build: setup
	$(CARGO) build $(PROFILE_FLAGS) --workspace --all-targets

test: build
	$(CARGO) fmt --all --check
	$(CARGO) clippy $(PROFILE_FLAGS) --workspace --all-targets -- -D warnings
	$(CARGO) test $(PROFILE_FLAGS) --workspace

demo: setup
	$(CARGO) run $(PROFILE_FLAGS) -p pitstop-core --example demo -- ./pitstop-demo

bench: setup
	$(CARGO) run $(PROFILE_FLAGS) -p pitstop-core --example bench

clean:
	$(CARGO) clean
	rm -rf ./pitstop-demo
