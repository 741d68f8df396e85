# voicedesk: `make run` opens the app, `make test` runs the whole suite headless.
# Both create .venv and install everything first; system libraries come from apt-get when we
# are root (or have password-less sudo), else we print the exact command to run.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# What Qt Multimedia and PortAudio need at run time, then what the tests use.
RUNTIME_DEBS := libpulse0 libportaudio2 libasound2-plugins libegl1 libgl1 libfontconfig1 \
	libdbus-1-3 libxkbcommon0 libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-image0 \
	libxcb-keysyms1 libxcb-randr0 libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 \
	libxcb-xkb1 libxcb-xfixes0 libxrender1 libxi6 espeak-ng-data
TEST_DEBS := pulseaudio pulseaudio-utils xvfb xdotool x11-utils imagemagick espeak-ng strace mpv \
	dbus-daemon sway wtype desktop-file-utils appstream
# `make package`: PyInstaller appends its archive with objcopy; the spec strips with strip and
# builds the encoder stand-ins with as, ld, nm and readelf (all binutils).
PACKAGE_DEBS := binutils

.PHONY: venv run test lint bench package package-test dist install-desktop system-deps test-deps \
	package-deps clean

venv: $(STAMP)

$(STAMP): pyproject.toml setup.py
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "voicedesk needs Python 3.11 or newer ($(PYTHON) is older): set PYTHON=python3.11"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

system-deps:
	@DEBS="$(RUNTIME_DEBS)" sh scripts/apt-deps.sh

test-deps:
	@DEBS="$(RUNTIME_DEBS) $(TEST_DEBS)" sh scripts/apt-deps.sh

package-deps:
	@DEBS="$(RUNTIME_DEBS) $(PACKAGE_DEBS)" sh scripts/apt-deps.sh

run: system-deps venv
	@if [ -z "$$DISPLAY$$WAYLAND_DISPLAY" ] && [ "$$(uname)" = Linux ]; then \
		echo "voicedesk: no display found (DISPLAY/WAYLAND_DISPLAY unset). On a headless machine: xvfb-run -a make run"; \
		exit 1; fi
	$(BIN)/voicedesk

test: test-deps venv
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest

lint: venv
	$(BIN)/ruff check voicedesk tests bench
	$(BIN)/ruff format --check voicedesk tests bench
	$(BIN)/mypy

# Speaking (writes docs/benchmarks.md and its chart), then push to talk, the offline engine and
# cold and warm connections over a slow https link (each appends its section), then the soak
# (its table in docs/reliability.md).
bench: test-deps venv
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m bench.run
	@printf '\n## Push to talk\n\n`.venv/bin/python bench/bench_stt.py`\n\n```\n' >> docs/benchmarks.md
	QT_QPA_PLATFORM=offscreen $(BIN)/python bench/bench_stt.py >> docs/benchmarks.md
	@printf '```\n' >> docs/benchmarks.md
	$(BIN)/python bench/bench_local.py >> docs/benchmarks.md
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m bench.wan >> docs/benchmarks.md
	QT_QPA_PLATFORM=offscreen $(BIN)/python bench/soak.py

# The bundle (docs/packaging.md): rebuilt when the code, resources, spec or dependencies change.
BUNDLE := dist/voicedesk/voicedesk
BUNDLE_SOURCES := pyproject.toml setup.py $(shell find voicedesk resources packaging -type f \
	! -name '*.pyc' 2>/dev/null)
VERSION := $(shell sed -n 's/^__version__ = "\(.*\)"/\1/p' voicedesk/__init__.py)
ARCHIVE := dist/voicedesk-$(VERSION)-linux-x86_64.tar.gz

package: $(BUNDLE)

$(BUNDLE): $(STAMP) $(BUNDLE_SOURCES) | package-deps
	$(BIN)/pyinstaller --noconfirm --clean --distpath dist --workpath build/pyinstaller packaging/voicedesk.spec
	@touch $@
	@echo "built $@ ($$(du -sh dist/voicedesk | cut -f1))"

# Smoke-tests the bundle with no venv, no Python on PATH and an empty HOME, and holds it to its
# size budget (tests/package; `make test` leaves these out).
package-test: test-deps venv dist
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -m package -p no:randomly tests/package

# The release archive, reproducible (sorted, no owners, the last commit's time) + SHA256SUMS.
dist: $(ARCHIVE)

$(ARCHIVE): $(BUNDLE)
	tar --sort=name --owner=0 --group=0 --numeric-owner \
		--mtime=@$$(git log -1 --format=%ct 2>/dev/null || echo 0) \
		-C dist -cf - voicedesk | gzip -9n > $@.part
	mv $@.part $@
	cd dist && sha256sum $(notdir $@) > SHA256SUMS
	@echo "wrote $@ ($$(du -h $@ | cut -f1)) and dist/SHA256SUMS"

# The desktop entry, icons and AppStream metainfo for the current user (XDG_DATA_HOME). The
# entry runs the bundle if it is built, else the venv's console script; VOICEDESK_BIN overrides.
XDG_DATA_HOME ?= $(HOME)/.local/share
VOICEDESK_BIN ?= $(if $(wildcard $(BUNDLE)),$(CURDIR)/$(BUNDLE),$(CURDIR)/$(BIN)/voicedesk)
ICON_SIZES := 16 22 24 32 48 64 128 256 512

install-desktop:
	@mkdir -p "$(XDG_DATA_HOME)/applications" "$(XDG_DATA_HOME)/metainfo"
	sed 's|^Exec=.*|Exec="$(VOICEDESK_BIN)"|' resources/voicedesk.desktop \
		> "$(XDG_DATA_HOME)/applications/voicedesk.desktop"
	install -D -m 644 resources/voicedesk.svg \
		"$(XDG_DATA_HOME)/icons/hicolor/scalable/apps/voicedesk.svg"
	@for size in $(ICON_SIZES); do \
		install -D -m 644 resources/icons/voicedesk-$$size.png \
			"$(XDG_DATA_HOME)/icons/hicolor/$${size}x$$size/apps/voicedesk.png" || exit 1; done
	install -m 644 resources/org.voicedesk.voicedesk.metainfo.xml "$(XDG_DATA_HOME)/metainfo/"
	@if command -v desktop-file-validate >/dev/null; then \
		desktop-file-validate "$(XDG_DATA_HOME)/applications/voicedesk.desktop"; fi
	@if command -v update-desktop-database >/dev/null; then \
		update-desktop-database -q "$(XDG_DATA_HOME)/applications"; fi
	@echo "installed voicedesk.desktop (Exec: $(VOICEDESK_BIN)) under $(XDG_DATA_HOME)"

clean:
	rm -rf build dist .pytest_cache .ruff_cache
