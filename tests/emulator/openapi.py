"""A small JSON Schema checker for the subset openapi.json uses, with $ref resolution."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

# ElevenLabs' published HTTP API definition, as in their public documentation repository
# (snapshot of August 2025):
# https://github.com/elevenlabs/elevenlabs-docs/blob/main/fern/apis/api/openapi.json
SPEC_CANDIDATES = (Path(__file__).resolve().with_name("openapi.json"),)
_TYPES: dict[str, type | tuple[type, ...]] = {
    "object": dict,
    "array": list,
    "string": str,
    "boolean": bool,
    "integer": int,
    "number": (int, float),
    "null": type(None),
}


def find_spec() -> Path | None:
    return next((p for p in SPEC_CANDIDATES if p.is_file()), None)


@cache
def load_spec(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def response_schema(
    spec: dict[str, Any],
    path: str,
    method: str,
    status: str = "200",
    content_type: str = "application/json",
) -> dict[str, Any]:
    return spec["paths"][path][method]["responses"][status]["content"][content_type]["schema"]


def request_schema(
    spec: dict[str, Any], path: str, method: str, content_type: str = "application/json"
) -> dict[str, Any]:
    return spec["paths"][path][method]["requestBody"]["content"][content_type]["schema"]


def validate(
    instance: Any, schema: dict[str, Any], spec: dict[str, Any], at: str = "$"
) -> list[str]:
    """Every violation found, as `location: problem` strings (empty when valid)."""
    if "$ref" in schema:
        node: Any = spec
        for part in schema["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        return validate(instance, node, spec, at)
    errors: list[str] = []
    for key in ("anyOf", "oneOf"):
        if key in schema:
            results = [validate(instance, option, spec, at) for option in schema[key]]
            passed = sum(not r for r in results)
            if passed == 0 or (key == "oneOf" and passed > 1):
                errors.append(f"{at}: matches {passed} of the {key} options: {results}")
    for option in schema.get("allOf", ()):
        errors += validate(instance, option, spec, at)
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(_is_type(instance, t) for t in types):
            return [*errors, f"{at}: {type(instance).__name__} is not {schema['type']}"]
    if "enum" in schema and instance not in schema["enum"]:
        errors.append(f"{at}: {instance!r} not in {schema['enum']}")
    if "const" in schema and instance != schema["const"]:
        errors.append(f"{at}: {instance!r} != {schema['const']!r}")
    if isinstance(instance, int | float) and not isinstance(instance, bool):
        errors += _check_range(instance, schema, at)
    if isinstance(instance, str):
        if len(instance) < schema.get("minLength", 0):
            errors.append(f"{at}: shorter than {schema['minLength']}")
        if "maxLength" in schema and len(instance) > schema["maxLength"]:
            errors.append(f"{at}: longer than {schema['maxLength']}")
    if isinstance(instance, dict):
        errors += _check_object(instance, schema, spec, at)
    if isinstance(instance, list) and "items" in schema:
        for i, item in enumerate(instance):
            errors += validate(item, schema["items"], spec, f"{at}[{i}]")
    return errors


def _is_type(instance: Any, name: str) -> bool:
    if isinstance(instance, bool) and name in ("integer", "number"):
        return False
    return isinstance(instance, _TYPES[name])


def _check_range(value: float, schema: dict[str, Any], at: str) -> list[str]:
    checks = (
        ("minimum", value >= schema.get("minimum", value)),
        ("maximum", value <= schema.get("maximum", value)),
        (
            "exclusiveMinimum",
            "exclusiveMinimum" not in schema or value > schema["exclusiveMinimum"],
        ),
        (
            "exclusiveMaximum",
            "exclusiveMaximum" not in schema or value < schema["exclusiveMaximum"],
        ),
    )
    return [f"{at}: {value} breaks {name} {schema[name]}" for name, ok in checks if not ok]


def _check_object(
    instance: dict[str, Any], schema: dict[str, Any], spec: dict[str, Any], at: str
) -> list[str]:
    errors = [f"{at}: missing {key!r}" for key in schema.get("required", ()) if key not in instance]
    properties = schema.get("properties", {})
    extra = schema.get("additionalProperties", True)
    for key, value in instance.items():
        if key in properties:
            errors += validate(value, properties[key], spec, f"{at}.{key}")
        elif extra is False:
            errors.append(f"{at}: unexpected {key!r}")
        elif isinstance(extra, dict):
            errors += validate(value, extra, spec, f"{at}.{key}")
    return errors
