"""The stack file's raw config made into ``StackSettings``, or refused with one ``ConfigError`` whose
lines each name the key to fix, what is allowed, and never a secret value.

Apart from the model (``settings``): the model says what is valid, this module how a refusal reads, and
which plain values look like credentials that belong in a secret key.
"""

from __future__ import annotations

import difflib
import re
from typing import Annotated, Any, get_args, get_origin

from pydantic import BaseModel, ValidationError

from components.model import ConfigError
from components.redact import embedded_credential, redact
from components.settings import OFFLINE, SECRET_KEYS, StackSettings

__all__ = ["ConfigError", "parse_settings"]


def parse_settings(
    raw: dict[str, Any], *, source: str, namespace: str = "airflow", offline: bool = False
) -> StackSettings:
    """Validate raw config (keys without the ``airflow:`` prefix) or raise one ConfigError.

    ``source`` names the file the user edits (``Pulumi.prod.yaml``) so the message points there.
    ``offline`` skips only the check that required secret values are set (see ``missing_secrets``).
    """
    cause: ValidationError | None = None
    try:
        settings = StackSettings.model_validate(raw, context={OFFLINE: offline})
    except ValidationError as err:
        settings, cause = None, err
    errors = cause.errors() if cause else []
    refused = {".".join(str(part) for part in error["loc"]) for error in errors}
    lines = {_describe(error, source, namespace) for error in errors} | {
        f"{namespace}:{key} in {source} looks like it holds a credential (value not shown), and it is "
        "not a secret key: its value would be stored in plain text in the state and the chart values. "
        "Keep credentials in Secrets or in 'pulumi config set --secret' keys"
        for key in _plain_credentials(raw)
        if key not in refused
    }
    if lines or settings is None:
        raise ConfigError("\n".join(sorted(lines))) from cause
    return settings


# Plain keys whose values are public but look random: an SSH host key and a CA certificate are meant to be
# published (the CA's own check refuses anything but one certificate, a private key included).
_PUBLIC_RANDOM_LOOKING = frozenset(
    {"dags.gitSync.knownHosts", "dags.gitBundle.knownHosts", "redis.caCertificate"}
)


def _plain_credentials(value: Any, path: str = "") -> list[str]:
    """The key paths of plain (non-secret) values that read as a credential: a URL with userinfo, a
    ``password=`` pair, a known token format, or a long random-looking string."""
    if isinstance(value, dict):
        return [
            found
            for key, item in value.items()
            if not (path == "" and key in SECRET_KEYS)
            for found in _plain_credentials(item, f"{path}.{key}" if path else str(key))
        ]
    if isinstance(value, list):
        return [found for i, item in enumerate(value) for found in _plain_credentials(item, f"{path}[{i}]")]
    if isinstance(value, str) and path not in _PUBLIC_RANDOM_LOOKING:
        # A path's folders are checked one by one: joined by '/', folders named at random (mktemp, CI
        # workspaces) read as one long random-looking run, which base64 tokens also are.
        parts = value.split("/") if path in _PATHS else [_without_ssh_user(value)]
        if any(redact(part) != part for part in parts):
            return [path]
    return []


_PATHS = frozenset({"dags.folder", "dags.gitSync.subPath", "dags.gitBundle.subPath", "chart.tarball"})


_SSH_USER = re.compile(r"^(?P<scheme>(?:git\+)?ssh://)[^/@:\s]+@", re.IGNORECASE)


def _without_ssh_user(value: str) -> str:
    """An SSH URL's user name (``ssh://git@host/...``) names an account, not a secret; over SSH the
    credential is the key. Log redaction still masks it, but it is no reason to refuse a plain key."""
    return value if embedded_credential(value) else _SSH_USER.sub(r"\g<scheme>", value)


def _describe(error: Any, source: str, namespace: str) -> str:
    error = _as_delivery_error(error)
    location = _config_key(error["loc"])
    message = error["msg"].removeprefix("Value error, ")
    if not location:
        return "\n".join(f"{source}: {line}" for line in message.splitlines())
    key = ".".join(location)
    other_mode = _OTHER_MODES.get(key) if error["type"] == "extra_forbidden" else None
    if other_mode is not None:
        return (
            f"{namespace}:{key} in {source} is the settings of airflow:dags.delivery {other_mode!r}, but "
            f"the delivery is {error['loc'][1]!r}; remove it or change the delivery"
        )
    if error["type"] == "extra_forbidden":
        known = _known_keys(error["loc"][:-1])
        hint = difflib.get_close_matches(location[-1], known, n=1)
        suggestion = f"; did you mean '{hint[0]}'?" if hint else ""
        return (
            f"{namespace}:{key} in {source} is not a known key{suggestion} "
            f"Known keys here: {', '.join(sorted(known))}"
        )
    if error["type"] == "literal_error":
        message = f"must be one of {error['ctx']['expected']}"
        if isinstance(error["input"], bool):
            # yaml.v3, as the Pulumi CLI reads a stack file, takes an unquoted true or false for a boolean.
            return (
                f"{namespace}:{key} in {source}: {message}, got the boolean {str(error['input']).lower()}: "
                'YAML reads an unquoted true or false as a boolean; quote the value (e.g. mode: "true")'
            )
    hidden = (
        location[0] in SECRET_KEYS or error["type"] in _INPUT_NOT_SHOWN or isinstance(error["input"], dict)
    )
    shown = "" if hidden else f", got {_shown(error['input'])}"
    return f"{namespace}:{key} in {source}: {message}{shown}"


# Errors whose input is not repeated: it is missing, spans the model, or may hold a credential.
_INPUT_NOT_SHOWN = frozenset({"missing", "value_error", "embedded_credential", "known_hosts", "git_url"})
_SHOWN_CHARACTERS = 80


def _shown(value: Any) -> str:
    """A refused value as the message quotes it: short (redacted by ConfigError, like the whole line)."""
    text = repr(value)
    return (
        text if len(text) <= _SHOWN_CHARACTERS else f"{text[:_SHOWN_CHARACTERS]}... ({len(text)} characters)"
    )


# The tagged union of settings types that ``airflow:dags.delivery`` chooses among (dags.settings).
_TAG = "delivery"
# Each mode's own settings key, refused beside another mode.
_OTHER_MODES = {"dags.image": "image", "dags.gitSync": "git-sync", "dags.gitBundle": "git-bundle"}


def _as_delivery_error(error: Any) -> Any:
    """A delivery pydantic could not match to a mode, reported as the literal it is: at the
    ``delivery`` key, with the modes it may be (pydantic reports a tagged union's miss at the union)."""
    if error["type"] not in ("union_tag_invalid", "union_tag_not_found"):
        return error
    if not isinstance(error["input"], dict):
        return {**error, "type": "model_type", "msg": "must be a mapping such as {delivery: configmap}"}
    *others, last = (repr(tag) for tag in _members(_DAGS_UNION))
    expected = f"{', '.join(others)} or {last}"
    return {
        "type": "literal_error",
        "loc": (*error["loc"], _TAG),
        "msg": f"Input should be {expected}",
        "input": error["input"].get(_TAG),
        "ctx": {"expected": expected},
    }


def _config_key(location: tuple[Any, ...]) -> list[str]:
    """An error location as the stack file spells the key: the mode pydantic inserts after a tagged
    union (``dags.image.image.registry``) is not a key."""
    return _walk(location)[0]


def _known_keys(location: tuple[Any, ...]) -> list[str]:
    """The keys the model at ``location`` takes; none where the location leads to no model."""
    model = _walk(location)[1]
    return [] if model is None else [field.alias or name for name, field in model.model_fields.items()]


def _walk(location: tuple[Any, ...]) -> tuple[list[str], type[BaseModel] | None]:
    """Follows an error location from ``StackSettings`` down: the keys it names (union tags dropped),
    and the model it ends in (None past a list index or a plain value)."""
    keys: list[str] = []
    model: type[BaseModel] | None = StackSettings
    # "[key]": pydantic's mark for a mapping's key that failed, which the key before it already names.
    parts = [str(part) for part in location if part != "[key]"]
    while parts:
        part = parts.pop(0)
        keys.append(part)
        field = _field(model, part)
        members = _members(field.annotation) if field is not None else {}
        if len(members) > 1 and parts and parts[0] in members:
            model = members[parts.pop(0)]
        else:
            model = next(iter(members.values()), None)
    return keys, model


def _field(model: type[BaseModel] | None, key: str) -> Any:
    if model is None:
        return None
    return next((f for name, f in model.model_fields.items() if key in (name, f.alias)), None)


def _members(annotation: Any) -> dict[str, type[BaseModel]]:
    """The models an annotation holds: one (``Model``, ``Model | None``), or a tagged union's, by tag."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return {"": annotation}
    models = [arg for arg in _flat(annotation) if isinstance(arg, type) and issubclass(arg, BaseModel)]
    if len(models) > 1:
        return {model.model_fields[_TAG].annotation.__args__[0]: model for model in models}
    return {"": models[0]} if models else {}


def _flat(annotation: Any) -> list[Any]:
    """The types of a union, with ``Annotated`` (a tag) taken off; a plain type is itself."""
    if get_origin(annotation) is Annotated:
        return _flat(get_args(annotation)[0])
    args = get_args(annotation)
    return [inner for arg in args for inner in _flat(arg)] if args else [annotation]


_DAGS_UNION = StackSettings.model_fields["dags"].annotation
