# Two commands for a fresh Debian 12 machine, as root (see README.md):
#   make demo   - set up, then run the kiosk on its embedded defaults
#   make test   - set up, then run the whole test suite headless
# Both are idempotent: what is already installed is not installed again.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

# What Qt needs to draw on a bare Debian 12 (offscreen and xcb) and CJK fonts,
# so 自助缴费 is not drawn as boxes (Noto Sans CJK: real bold weights).  See ../shared/PLATFORM.md.
APT_PACKAGES := python3-venv fonts-noto-cjk fonts-wqy-microhei \
	libgl1 libegl1 libx11-6 libxkbcommon0 libfontconfig1 libfreetype6 libglib2.0-0 libdbus-1-3 \
	libx11-xcb1 libxcb1 libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0 \
	libxcb-render0 libxcb-render-util0 libxcb-shape0 libxcb-shm0 libxcb-sync1 libxcb-util1 \
	libxcb-xfixes0 libxcb-xkb1 libxkbcommon-x11-0 \
	pcscd vsmartcard-vpcd libpcsclite-dev gcc python3-dev espeak-ng alsa-utils
# pcscd + vsmartcard-vpcd: a real PC/SC daemon with a virtual reader for the
# card tests and the demo; libpcsclite-dev, gcc, python3-dev: pyscard builds
# from source (there is no Linux wheel).  espeak-ng, alsa-utils: the spoken
# prompts (the voice tests use the real engine).

.PHONY: demo test tour bench setup apt-packages clean

demo: setup
	@$(VENV)/bin/kiosk demo --config config.toml

# Includes tests/packaging/test_deb.py: the .deb built and installed into a
# fresh Debian 12 root (as root, with the Debian mirror: 2.5 min cold, under
# 2 min warm; skipped when not root).  deb-tools: what it needs on this machine.
test: setup deb-tools
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q

tour: setup
	QT_QPA_PLATFORM=offscreen $(VENV)/bin/kiosk tour --out tour --lang all

bench: setup
	QT_QPA_PLATFORM=offscreen $(PY) bench/startup.py
	QT_QPA_PLATFORM=offscreen $(PY) bench/transition.py
	QT_QPA_PLATFORM=offscreen $(PY) bench/acceptor_latency.py
	QT_QPA_PLATFORM=offscreen $(PY) bench/gui_stall.py --seconds 10 2>/dev/null
	$(PY) bench/sync_faults.py --payments 10000
	$(PY) bench/crash_cash_in.py --runs 200

setup: apt-packages $(STAMP)

apt-packages:
	@missing=$$(for p in $(APT_PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages: $$missing"; \
		if [ "$$(id -u)" != 0 ]; then echo "make: run as root to install: $$missing" >&2; exit 1; fi; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

clean:
	rm -rf $(VENV) tour build *.egg-info

# ---------------------------------------------------------------- field packaging
# make deb            dist/utility-kiosk_<version>_amd64.deb (packaging/build-deb.sh)
# make test-packaging only the .deb build and install tests (also part of `make test`)
# make image          build/image/utility-kiosk.img, a bootable disk (packaging/build-image.sh)
# make image-boot     boots that image in QEMU and saves the screen (packaging/qemu-boot.py)
# See packaging/README.md.

# pyscard has no Linux wheel: it is compiled against Debian's Python 3.11 and pcsc-lite.
# debootstrap: test_deb.py's Debian root (dpkg-deb, unshare and mount are in
# every Debian; systemd-analyze and cage run inside that root, not here).
DEB_TOOLS   := python3.11 python3-venv python3.11-dev gcc libpcsclite-dev debootstrap
IMAGE_TOOLS := debootstrap qemu-system-x86 qemu-utils grub-pc-bin grub-efi-amd64-bin \
	dosfstools mtools e2fsprogs fdisk

.PHONY: deb deb-tools image image-tools image-boot test-packaging

deb: deb-tools
	bash packaging/build-deb.sh

deb-tools:
	@sh packaging/apt-install-missing.sh $(DEB_TOOLS)

test-packaging: setup deb-tools
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q tests/packaging/test_deb.py

image: deb image-tools
	bash packaging/build-image.sh

image-tools:
	@sh packaging/apt-install-missing.sh $(IMAGE_TOOLS)

image-boot: setup image-tools
	$(PY) packaging/qemu-boot.py --image build/image/utility-kiosk.img --screenshot docs/screenshots/qemu-home.png
