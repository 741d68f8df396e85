"""The emulated account: voices, models, subscription, and the service's error bodies."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

DEFAULT_VOICE_ID = "JBFqnCBsd6RMkjVDRZzb"
DEFAULT_MODEL_ID = "eleven_flash_v2_5"
STT_MODELS = frozenset({"scribe_v1", "scribe_v1_experimental", "scribe_v2"})


@dataclass(frozen=True, slots=True)
class VoiceInfo:
    """An emulated voice. `frequency` (Hz) overrides AudioSpec.frequency for its tone, so tests
    can tell from the audio which voice spoke."""

    voice_id: str
    name: str
    frequency: float | None = None
    category: str = "premade"
    labels: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "voice_id": self.voice_id,
            "name": self.name,
            "category": self.category,
            "labels": dict(self.labels),
            "description": f"{self.name}, an emulated voice.",
            "preview_url": None,
            "available_for_tiers": [],
            "settings": None,
            "samples": None,
            "high_quality_base_model_ids": ["eleven_flash_v2_5", "eleven_multilingual_v2"],
            "is_owner": False,
            "is_legacy": False,
            "created_at_unix": 1_700_000_000,
        }


DEFAULT_VOICES: tuple[VoiceInfo, ...] = (
    VoiceInfo(DEFAULT_VOICE_ID, "George", None, labels={"accent": "british", "gender": "male"}),
    VoiceInfo("21m00Tcm4TlvDq8ikWAM", "Rachel", 330.0, labels={"accent": "american"}),
    VoiceInfo("EXAVITQu4vr4xnAvuAP8", "Sarah", 523.25, labels={"accent": "american"}),
    VoiceInfo("IKne3meq5aSn9XLyUdCD", "Charlie", 392.0, labels={"accent": "australian"}),
    VoiceInfo("Xb7hH8MSUJpSbSDYk0k2", "Alice", 587.33, labels={"accent": "british"}),
    VoiceInfo("nPczCjzI2devNBz1zQrb", "Brian", 293.66, labels={"accent": "american"}),
)

# model_id -> (name, maximum characters per request)
MODELS: dict[str, tuple[str, int]] = {
    "eleven_flash_v2_5": ("Eleven Flash v2.5", 40_000),
    "eleven_turbo_v2_5": ("Eleven Turbo v2.5", 40_000),
    "eleven_multilingual_v2": ("Eleven Multilingual v2", 10_000),
    "eleven_v3": ("Eleven v3", 5_000),
}


def model_json(model_id: str) -> dict[str, Any]:
    name, limit = MODELS[model_id]
    return {
        "model_id": model_id,
        "name": name,
        "can_be_finetuned": False,
        "can_do_text_to_speech": True,
        "can_do_voice_conversion": False,
        "can_use_style": True,
        "can_use_speaker_boost": True,
        "serves_pro_voices": False,
        "token_cost_factor": 1.0,
        "description": f"{name} (emulated).",
        "requires_alpha_access": False,
        "max_characters_request_free_user": limit,
        "max_characters_request_subscribed_user": limit,
        "maximum_text_length_per_request": limit,
        "languages": [{"language_id": "en", "name": "English"}],
        "model_rates": {"character_cost_multiplier": 1.0},
        "concurrency_group": "turbo" if "flash" in model_id or "turbo" in model_id else "standard",
    }


def subscription_json(tier: str, character_count: int, character_limit: int) -> dict[str, Any]:
    return {
        "tier": tier,
        "character_count": character_count,
        "character_limit": character_limit,
        "max_character_limit_extension": None,
        "can_extend_character_limit": False,
        "allowed_to_extend_character_limit": False,
        "next_character_count_reset_unix": 1_900_000_000,
        "voice_slots_used": 0,
        "professional_voice_slots_used": 0,
        "voice_limit": 30,
        "voice_add_edit_counter": 0,
        "professional_voice_limit": 1,
        "can_extend_voice_limit": False,
        "can_use_instant_voice_cloning": True,
        "can_use_professional_voice_cloning": True,
        "currency": "usd",
        "status": "free" if tier == "free" else "active",
        "billing_period": "monthly_period",
        "character_refresh_period": "monthly_period",
        "has_open_invoices": False,
    }


def user_json(subscription: dict[str, Any]) -> dict[str, Any]:
    return {
        "user_id": "emulated-user-0001",
        "subscription": {k: v for k, v in subscription.items() if k != "has_open_invoices"},
        "is_new_user": False,
        "xi_api_key": None,
        "can_use_delayed_payment_methods": False,
        "is_onboarding_completed": True,
        "is_onboarding_checklist_completed": True,
        "first_name": "Test",
        "created_at": 1_700_000_000,
    }


# detail.status -> (detail.type, detail.code, default message). The service sends the newer
# type/code/request_id fields alongside the legacy status/message pair.
ERRORS: dict[str, tuple[str, str, str]] = {
    "invalid_api_key": ("authentication_error", "invalid_api_key", "Invalid API key"),
    "quota_exceeded": (
        "authorization_error",
        "quota_exceeded",
        "This request exceeds your quota of {limit}. You have {left} credits remaining, "
        "while {cost} credits are required for this request.",
    ),
    "too_many_concurrent_requests": (
        "rate_limit_error",
        "concurrent_limit_exceeded",
        "Too many concurrent requests. Your current subscription is associated with a maximum "
        "of {limit} concurrent requests (running in parallel). Please upgrade your subscription "
        "or contact sales if you want to increase this limit.",
    ),
    "system_busy": (
        "rate_limit_error",
        "rate_limit_exceeded",
        "We are sorry, the system is experiencing heavy traffic, please try again. "
        "Higher subscriptions have higher priority.",
    ),
    "voice_not_found": (
        "not_found_error",
        "voice_not_found",
        "A voice with voice_id {voice_id} was not found.",
    ),
    "model_not_found": (
        "validation_error",
        "model_not_found",
        "A model with model ID {model_id} does not exist.",
    ),
    "max_character_limit_exceeded": (
        "validation_error",
        "max_character_limit_exceeded",
        "You are sending {length} characters with a single request, but the maximum is {limit}.",
    ),
    "empty_text": ("validation_error", "invalid_parameters", "Text must not be empty."),
    "invalid_parameters": ("validation_error", "invalid_parameters", "{message}"),
    "internal_server_error": (
        "internal_error",
        "internal_server_error",
        "An internal server error occurred.",
    ),
    "service_unavailable": (
        "service_unavailable",
        "service_unavailable",
        "The service is temporarily unavailable.",
    ),
}
STATUS_FOR_CODE = {
    401: "invalid_api_key",
    429: "too_many_concurrent_requests",
    500: "internal_server_error",
    503: "service_unavailable",
}


def error_body(
    status: str, request_id: str, message: str | None = None, **values: object
) -> dict[str, Any]:
    """The service's `{"detail": {...}}` error body. Unknown statuses get a generic detail."""
    kind, code, template = ERRORS.get(status, ("error", status, status.replace("_", " ")))
    if message is None:
        defaults = {
            "limit": "?",
            "left": 0,
            "cost": 0,
            "voice_id": "?",
            "model_id": "?",
            "length": 0,
            "message": status,
        }
        message = template.format(**{**defaults, **values})
    return {
        "detail": {
            "type": kind,
            "code": code,
            "status": status,
            "message": message,
            "request_id": request_id,
        }
    }


def validation_error(loc: list[str | int], msg: str, type_: str) -> dict[str, Any]:
    """FastAPI's 422 body."""
    return {"detail": [{"loc": loc, "msg": msg, "type": type_}]}
