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
	dbus-daemon sway wtype

.PHONY: venv run test lint bench package system-deps test-deps clean

venv: $(STAMP)

$(STAMP): pyproject.toml
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

# Speaking (writes docs/benchmarks.md and its chart), then push to talk and the offline engine
# (each appends its section), then the soak (its table in docs/reliability.md).
bench: test-deps venv
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m bench.run
	@printf '\n## Push to talk\n\n`.venv/bin/python bench/bench_stt.py`\n\n```\n' >> docs/benchmarks.md
	QT_QPA_PLATFORM=offscreen $(BIN)/python bench/bench_stt.py >> docs/benchmarks.md
	@printf '```\n' >> docs/benchmarks.md
	$(BIN)/python bench/bench_local.py >> docs/benchmarks.md
	QT_QPA_PLATFORM=offscreen $(BIN)/python bench/soak.py

package: system-deps venv
	$(BIN)/pyinstaller --noconfirm --clean --distpath dist --workpath build/pyinstaller packaging/voicedesk.spec
	@echo "built dist/voicedesk/voicedesk"

clean:
	rm -rf build dist .pytest_cache .ruff_cache
