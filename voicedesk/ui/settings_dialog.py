"""The Settings dialog. It edits a copy of `Settings`; the window saves and applies it.

The API key is never written to QSettings: the window hands it to the system keyring. Slow
calls (the key test, listing microphones) run in workers so the dialog never freezes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace
from typing import TypeVar

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QGuiApplication, QShowEvent
from PySide6.QtMultimedia import QAudioDevice, QMediaDevices
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from voicedesk import config, limits
from voicedesk.audio.capture.mic_devices import PULSE_PREFIX, list_input_devices
from voicedesk.audio.playback.pulse_guard import qt_audio_allowed, uses_pulseaudio
from voicedesk.audio.playback.sink_host import audio_outputs
from voicedesk.cancel import CancelToken
from voicedesk.config import Settings
from voicedesk.endpoint import check_api_key, check_base_url
from voicedesk.engines import ENGINE_CHOICES, EngineChoice
from voicedesk.engines.base import Quota
from voicedesk.errors import LiveNeedsElevenLabsError, VoiceDeskError
from voicedesk.insert.inserter import describe as describe_insertion
from voicedesk.ui.key_capture import KeyCaptureButton
from voicedesk.ui.status import quota_text
from voicedesk.workers.background import Background
from voicedesk.workers.engine_holder import KeyTest

MODELS = ("eleven_flash_v2_5", "eleven_turbo_v2_5", "eleven_multilingual_v2", "eleven_v3")
ENGINE_LABELS: dict[EngineChoice, str] = {
    "auto": "Automatic",
    "elevenlabs": "ElevenLabs",
    "local": "Offline voice",
}
_DEFAULT = "Voice default"
INSERT_METHODS = (
    ("auto", "Automatic"),
    ("paste", "Pasting (the clipboard is put back after)"),
    ("type", "Typing key by key"),
)

# The environment variable behind each Settings field that one can set (config.load_settings).
ENV_VARS = {
    "base_url": "ELEVENLABS_BASE_URL",
    "engine": "VOICEDESK_ENGINE",
    "erase_after_use": "VOICEDESK_ERASE_AFTER_USE",
}

# Messages written for the main window send the user to Settings; inside it, they say what to
# do here instead (a message must not send you where you already are).
_HERE = {
    "Check it in Settings.": "Check that the key above is complete and current.",
    "or choose another in Settings.": "or choose another below.",
    "or add it in Settings.": "or enter it above.",
}
_T = TypeVar("_T")

_TO_SETTINGS = re.compile(r"\s*[^.]*\bin Settings\b[^.]*\.")


def said_in_settings(message: str) -> str:
    """`message` as the Settings dialog shows it: without "… in Settings"."""
    for there, here in _HERE.items():
        message = message.replace(there, here)
    return _TO_SETTINGS.sub("", message).strip()


def plan_slots_text() -> str:
    """What the plan's concurrency does to ours ("" while it has not lowered it)."""
    plan, slots = limits.plan_limit(), limits.app_slots()
    if plan is None or slots >= limits.MAX_CONCURRENT_API_CALLS:
        return ""
    return (
        f"Your ElevenLabs plan allows {plan} request{'s' if plan != 1 else ''} at once, so "
        f"voicedesk sends at most {slots} at a time (usually "
        f"{limits.MAX_CONCURRENT_API_CALLS}); the others wait their turn."
    )


def device_labels(devices: list[tuple[str, str]]) -> list[str]:
    """Labels for (description, id) pairs: a description shared by several devices gets the
    device's id after it, so two identical sound cards (or two sinks named alike) can be told
    apart; an id that says nothing new gets a number instead."""
    count: dict[str, int] = {}
    for description, _ in devices:
        count[description] = count.get(description, 0) + 1
    seen: dict[str, int] = {}
    labels = []
    for description, device_id in devices:
        if count[description] == 1:
            labels.append(description)
            continue
        seen[description] = seen.get(description, 0) + 1
        suffix = device_id if device_id and device_id != description else str(seen[description])
        labels.append(f"{description} ({suffix})")
    return labels


def pulse_sources() -> list[tuple[str, str]]:
    """(description, source name) for each PulseAudio input, saved as `pulse:<source name>`:
    two with the same description can be told apart, and a saved choice names the same one
    after a restart (the PortAudio list below only sees the sound server as a whole)."""
    if not (uses_pulseaudio() and qt_audio_allowed()):
        return []
    return described(QMediaDevices.audioInputs())


def described(devices: Iterable[QAudioDevice]) -> list[tuple[str, str]]:
    """(description, id as text) of each of Qt's audio devices."""
    return [(device.description(), bytes(device.id().data()).decode()) for device in devices]


def _input_names(cancel: CancelToken) -> tuple[str, ...]:
    return tuple(device.name for device in list_input_devices())


def _spin(low: float, high: float, value: float | None, name: str) -> QDoubleSpinBox:
    spin = QDoubleSpinBox()
    spin.setAccessibleName(name)
    spin.setDecimals(2)
    spin.setSingleStep(0.05)
    # One step below the range means "not set": the voice keeps its own value.
    spin.setRange(low - 0.01, high)
    spin.setSpecialValueText(_DEFAULT)
    spin.setValue(low - 0.01 if value is None else value)
    return spin


def _spin_value(spin: QDoubleSpinBox) -> float | None:
    return None if spin.value() <= spin.minimum() else round(spin.value(), 2)


class SettingsDialog(QDialog):
    def __init__(
        self,
        settings: Settings,
        background: Background,
        keyring_ok: bool,
        parent: QWidget | None = None,
        hotkey_note: str = "",
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("voicedesk settings")
        self._settings = settings
        self._background = background
        self._key_test: CancelToken | None = None

        # -- ElevenLabs ------------------------------------------------------------------
        self.api_key = QLineEdit(settings.api_key or "")
        self.api_key.setEchoMode(QLineEdit.EchoMode.Password)
        self.api_key.setAccessibleName("ElevenLabs API key")
        self.api_key.setPlaceholderText("sk_…")
        self.show_key = QCheckBox("Show")
        self.show_key.setAccessibleName("Show the API key")
        self.show_key.toggled.connect(self._toggle_key)
        self.test_button = QPushButton("&Test key")
        self.test_button.setAccessibleName("Test the API key")
        self.test_button.clicked.connect(self.test_key)
        self.key_result = QLabel()
        self.key_result.setAccessibleName("Key test result")
        self.key_result.setWordWrap(True)
        self.key_result.setVisible(False)  # no empty gap until there is something to say
        key_row = QHBoxLayout()
        key_row.addWidget(self.api_key, 1)
        key_row.addWidget(self.show_key)
        key_row.addWidget(self.test_button)
        key_note = self._key_note(settings, keyring_ok)
        if settings.api_key_source in ("environment", ".env"):
            self.api_key.setReadOnly(True)  # saving it here would not change the one in use

        self.base_url = QLineEdit(settings.base_url or "")
        self.base_url.setAccessibleName("ElevenLabs base URL")
        self.base_url.setPlaceholderText("https://api.elevenlabs.io (default)")
        self.url_problem = QLabel()
        self.url_problem.setAccessibleName("Base URL problem")
        self.url_problem.setWordWrap(True)
        self.url_problem.setVisible(False)
        self.model = QComboBox()
        self.model.setEditable(True)
        self.model.setAccessibleName("Model")
        self.model.addItems(MODELS)
        self.model.setCurrentText(settings.model_id)

        eleven = QFormLayout()
        # QFormLayout sets a "&" label's buddy only for a widget field, not for a row layout.
        key_label = QLabel("API &key:")
        key_label.setBuddy(self.api_key)
        eleven.addRow(key_label, key_row)
        eleven.addRow("", key_note)
        eleven.addRow("", self.key_result)
        eleven.addRow("&Base URL:", self.base_url)
        eleven.addRow("", self.url_problem)
        self._from_environment(eleven, self.base_url, "base_url")
        eleven.addRow("&Model:", self.model)
        self.erase = QCheckBox("&Delete my audio and transcripts from ElevenLabs after use")
        self.erase.setAccessibleName("Delete my audio and transcripts from ElevenLabs after use")
        self.erase.setToolTip(
            "ElevenLabs keeps a history item for every utterance and a copy of every "
            "transcript. With this on, voicedesk deletes each one once it has been used "
            "(on enterprise plans it asks for zero retention instead, so nothing is kept)."
        )
        self.erase.setChecked(settings.erase_after_use)
        eleven.addRow("", self.erase)
        self._from_environment(eleven, self.erase, "erase_after_use")
        self.plan_note = QLabel(plan_slots_text())
        self.plan_note.setObjectName("plan-slots-note")
        self.plan_note.setWordWrap(True)
        self.plan_note.setEnabled(False)  # a quiet hint, as the key note is
        if self.plan_note.text():  # a hidden row would still take its spacing
            eleven.addRow("", self.plan_note)
        else:
            self.plan_note.setVisible(False)

        # -- Voice -----------------------------------------------------------------------
        self.stability = _spin(0.0, 1.0, settings.stability, "Stability")
        self.similarity = _spin(0.0, 1.0, settings.similarity, "Similarity")
        self.speed = _spin(0.7, 1.2, settings.speed, "Speed")
        voice = QFormLayout()
        voice.addRow("S&tability:", self.stability)
        voice.addRow("Si&milarity:", self.similarity)
        voice.addRow("S&peed:", self.speed)

        # -- Engine and devices ----------------------------------------------------------
        self.engine = QComboBox()
        self.engine.setAccessibleName("Speech engine")
        for choice in ENGINE_CHOICES:
            self.engine.addItem(ENGINE_LABELS[choice], choice)
        self.engine.setCurrentIndex(max(0, self.engine.findData(settings.engine)))
        self.fallback = QCheckBox("Fall back to the offline voice when ElevenLabs fails")
        self.fallback.setAccessibleName(self.fallback.text())
        self.fallback.setChecked(settings.offline_fallback)
        self.live = QCheckBox("Live words while the push-to-talk key is held (ElevenLabs)")
        self.live.setAccessibleName("Live words")
        self.live.setToolTip(
            "Streams the microphone to ElevenLabs' realtime model while you speak: words appear "
            "as you say them, and the text is ready almost as soon as you let go. Live words "
            "need ElevenLabs; the offline engine transcribes after the take."
        )
        # Unset means "on when a key is set": shown as that, and kept unset unless changed.
        self._live_default = settings.has_api_key
        self.live.setChecked(
            self._live_default if settings.live_transcript is None else settings.live_transcript
        )
        self.live_note = QLabel(LiveNeedsElevenLabsError.default_message)
        self.live_note.setAccessibleName("Live words note")
        self.live_note.setWordWrap(True)
        self.live_note.setEnabled(False)  # the palette's quiet text colour
        self.output = QComboBox()
        self.output.setAccessibleName("Output device")
        self.output.addItem("System default", "")
        outputs = described(audio_outputs())
        for label, (_, device_id) in zip(device_labels(outputs), outputs, strict=True):
            self.output.addItem(label, device_id)
        self._select(self.output, settings.output_device)
        self.input = QComboBox()
        self.input.setAccessibleName("Input device")
        self.input.addItem("System default", "")
        sources = pulse_sources()
        for label, (_, source) in zip(device_labels(sources), sources, strict=True):
            self.input.addItem(label, PULSE_PREFIX + source)
        self._select(self.input, settings.input_device)
        self.ptt = KeyCaptureButton(settings.ptt_key)
        general = QFormLayout()
        general.addRow("&Engine:", self.engine)
        self._from_environment(general, self.engine, "engine")
        general.addRow("", self.fallback)
        general.addRow("", self.live)
        general.addRow("", self.live_note)
        general.addRow("&Output device:", self.output)
        general.addRow("&Input device:", self.input)
        general.addRow("Push-to-talk &key:", self.ptt)

        # -- Push to talk in other applications ------------------------------------------
        self.hotkey_source = QLabel(hotkey_note)
        self.hotkey_source.setAccessibleName("Where the push-to-talk key works")
        self.hotkey_source.setWordWrap(True)
        self.hotkey_source.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.type_into = QCheckBox("T&ype the transcript where the cursor is, in any application")
        self.type_into.setAccessibleName("Type the transcript into the focused application")
        self.type_into.setChecked(settings.type_into_focused)
        self.insert_method = QComboBox()
        self.insert_method.setAccessibleName("How to insert the transcript")
        for value, label in INSERT_METHODS:
            self.insert_method.addItem(label, value)
        self.insert_method.setCurrentIndex(
            max(0, self.insert_method.findData(settings.insert_method))
        )
        self.insert_method.setEnabled(settings.type_into_focused)
        self.type_into.toggled.connect(self.insert_method.setEnabled)
        insert_note = QLabel(describe_insertion(QGuiApplication.platformName()))
        insert_note.setWordWrap(True)
        insert_note.setEnabled(False)
        anywhere = QFormLayout()
        anywhere.addRow("Key:", self.hotkey_source)
        anywhere.addRow("", self.type_into)
        anywhere.addRow("I&nsert by:", self.insert_method)
        anywhere.addRow("", insert_note)

        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        groups = (
            ("General", general),
            ("Push to talk in other applications", anywhere),
            ("ElevenLabs", eleven),
            ("Voice", voice),
        )
        for title, form in groups:
            box = QGroupBox(title)
            box.setLayout(form)
            layout.addWidget(box)
        layout.addWidget(buttons)
        self._background.run(_input_names, self._fill_inputs, None, name="input-devices")
        self.engine.currentIndexChanged.connect(self._show_live_note)
        self.api_key.textChanged.connect(self._show_live_note)
        self._show_live_note()

    @Slot()
    def _show_live_note(self) -> None:
        """With the offline engine, say that live words need ElevenLabs."""
        chosen = replace(self._settings, engine=self.engine.currentData(), api_key=self.entered_key)
        self.live_note.setVisible(chosen.resolved_engine() == "local")

    @staticmethod
    def _key_note(settings: Settings, keyring_ok: bool) -> QLabel:
        if settings.api_key_source == "environment":
            text = "From ELEVENLABS_API_KEY in the environment: used, not saved."
        elif settings.api_key_source == ".env":
            text = "From ELEVENLABS_API_KEY in a .env file: used, not saved here."
        elif keyring_ok:
            text = "Kept in the system keyring, never in a settings file."
        else:
            text = f"No system keyring to keep a key entered here. {config.no_keyring_hint()}"
        note = QLabel(text)
        note.setObjectName("key-note")
        note.setWordWrap(True)
        note.setEnabled(False)  # the palette's disabled text: a quiet hint in any theme
        return note

    def _from_environment(self, form: QFormLayout, field: QWidget, name: str) -> None:
        """A value set by an environment variable is shown, read-only, with a note naming the
        variable; `result_settings` keeps it as it was and `save_settings` never writes it."""
        if name not in self._settings.from_environment:
            return
        variable = ENV_VARS.get(name, name)
        if isinstance(field, QLineEdit):
            field.setReadOnly(True)
        else:
            field.setEnabled(False)
        field.setToolTip(f"Set by {variable} in the environment")
        note = QLabel(f"From {variable} in the environment: used, not saved.")
        note.setObjectName(f"env-note-{name}")
        note.setWordWrap(True)
        note.setEnabled(False)
        form.addRow("", note)

    @staticmethod
    def _select(combo: QComboBox, value: str) -> None:
        index = combo.findData(value)
        if index < 0 and value:
            combo.addItem(f"{value} (not connected)", value)
            index = combo.count() - 1
        combo.setCurrentIndex(max(0, index))

    def _fill_inputs(self, names: tuple[str, ...]) -> None:
        current = self.input.currentData()
        for name in names:
            if self.input.findData(name) < 0:
                self.input.addItem(name, name)
        self._select(self.input, current)

    @Slot(bool)
    def _toggle_key(self, shown: bool) -> None:
        mode = QLineEdit.EchoMode.Normal if shown else QLineEdit.EchoMode.Password
        self.api_key.setEchoMode(mode)

    @Slot()
    def test_key(self) -> None:
        key = self.api_key.text().strip() or None
        if self._key_test is not None:
            self._key_test.set()
        self.test_button.setEnabled(False)
        self._say("Testing…")
        url = self.base_url.text().strip() or None
        test = KeyTest(
            key, url, self._settings.allow_insecure_http, min(self._settings.read_timeout, 15.0)
        )
        self._key_test = self._background.run(test, self._key_ok, self._key_failed, name="test-key")

    def accept(self) -> None:
        """Save, unless the key or base URL is malformed: then say why here and stay open."""
        self.url_problem.setVisible(False)
        try:
            if self.entered_key:
                check_api_key(self.entered_key)
        except VoiceDeskError as error:
            self._say(said_in_settings(error.message))
            self.api_key.setFocus()
            return
        try:
            check_base_url(
                self.base_url.text(),
                allow_insecure_http=self._settings.allow_insecure_http,
                api_key=self.entered_key or self._settings.api_key,
            )
        except VoiceDeskError as error:
            self.url_problem.setText(error.message)
            self.url_problem.setVisible(True)
            self.base_url.setFocus()
            return
        super().accept()

    def _say(self, text: str) -> None:
        self.key_result.setText(text)
        self.key_result.setVisible(bool(text))
        self._fit_height()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._fit_height()  # the notes that wrap need their lines from the start

    def _fit_height(self) -> None:
        """Grow to fit a message that wraps onto more lines. A dialog's layout does not resize
        its window for a word-wrapped label's height-for-width, so the label would be squeezed
        over the key hint above it."""
        layout = self.layout()
        if layout is None:
            return
        layout.activate()
        needed = layout.totalHeightForWidth(self.width()) if layout.hasHeightForWidth() else -1
        needed = max(needed, layout.totalSizeHint().height())
        if self.height() < needed:
            self.resize(self.width(), needed)

    def _key_ok(self, quota: Quota | None) -> None:
        self._key_test = None
        self.test_button.setEnabled(True)
        detail, _ = quota_text(quota)
        self._say(f"The key works. {detail}".strip())

    def _key_failed(self, error: VoiceDeskError) -> None:
        self._key_test = None
        self.test_button.setEnabled(True)
        self._say(said_in_settings(error.message))

    @property
    def entered_key(self) -> str:
        return self.api_key.text().strip()

    @property
    def key_changed(self) -> bool:
        return self.entered_key != (self._settings.api_key or "")

    def _live_choice(self) -> bool | None:
        checked = self.live.isChecked()
        if self._settings.live_transcript is None and checked == self._live_default:
            return None  # untouched: stays "on when a key is set"
        return checked

    def _kept(self, name: str, edited: _T) -> _T:
        """What came from the environment stays as it came; anything else as edited."""
        if name in self._settings.from_environment:
            kept: _T = getattr(self._settings, name)
            return kept
        return edited

    def result_settings(self) -> Settings:
        """The edited settings (the key included, for the window to use and keep in the keyring)."""
        key = self.entered_key or None
        source = self._settings.api_key_source
        if self.key_changed:
            source = "keyring" if key else ""
        return replace(
            self._settings,
            api_key=key,
            api_key_source=source,
            base_url=self._kept("base_url", self.base_url.text().strip() or None),
            model_id=self.model.currentText().strip() or self._settings.model_id,
            stability=_spin_value(self.stability),
            similarity=_spin_value(self.similarity),
            speed=_spin_value(self.speed),
            engine=self._kept("engine", self.engine.currentData()),
            offline_fallback=self.fallback.isChecked(),
            live_transcript=self._live_choice(),
            output_device=str(self.output.currentData() or ""),
            input_device=str(self.input.currentData() or ""),
            ptt_key=self.ptt.key,
            type_into_focused=self.type_into.isChecked(),
            insert_method=self.insert_method.currentData(),
            erase_after_use=self._kept("erase_after_use", self.erase.isChecked()),
        )
