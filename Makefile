# Set-up and everyday commands. `make serve` and `make test` install what a fresh
# Debian 12 machine lacks (as root, or through sudo) before they run.

CARGO ?= cargo
LISTEN ?= 127.0.0.1:8080
DATA_DIR ?= ./thumbd-data
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# Debian packages: FFmpeg libraries and tool, the toolchain pieces that the -sys
# crates build with (clang for bindgen, cmake and nasm for libjpeg-turbo), Mesa's
# lavapipe Vulkan driver for the GPU backend's tests, and Python's venv for the tests
# that run the official Kaltura client libraries.
APT_PACKAGES := libavcodec-dev libavformat-dev libavutil-dev libswscale-dev \
	libavfilter-dev libavdevice-dev libswresample-dev ffmpeg clang libclang-dev \
	pkg-config cmake nasm mesa-vulkan-drivers libvulkan1 python3-venv
# Node.js for the Node client's test, installed from Debian only when no `npm` is on
# the PATH (a NodeSource or nvm install already brings its own).
NODE_PACKAGES := nodejs npm
BENCH_PACKAGES := libvips-tools imagemagick hyperfine time

.PHONY: deps serve test bench lint

deps:
	@command -v $(CARGO) >/dev/null || { echo "Rust is missing: install it with rustup (https://rustup.rs), then rerun make" >&2; exit 1; }
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing: $$missing"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; \
	fi
	@command -v npm >/dev/null || { \
		echo "installing: $(NODE_PACKAGES)"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $(NODE_PACKAGES) >/dev/null; \
	}

serve: deps
	$(CARGO) run --release -- serve --listen $(LISTEN) --data-dir $(DATA_DIR)

test: deps
	$(CARGO) test --locked

lint: deps
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets --locked -- -D warnings

bench: deps
	@missing=$$(for p in $(BENCH_PACKAGES); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; \
	fi
	$(CARGO) build --release --locked
	bash scripts/bench.sh
