"""What an offline render shows that is not what ``pulumi up`` would deploy, so a reviewer never takes
it for the real thing: values the mocks make up (the pushed image's digest), and example values in a
stack file that an operator must replace (``your-org``, AWS's documented example account).
"""

from __future__ import annotations

from typing import Any

from components.config import NAMESPACE, raw_from_config
from tooling.offline.runtime import Recording

__all__ = ["EXAMPLE_MARKERS", "comments", "example_keys", "made_up_in", "made_up_values"]

# Text that marks a value in a stack file as an example: the shipped stacks use these for everything
# that names an organisation's own registry, repository, bucket, role or mailbox.
EXAMPLE_MARKERS = ("your-org", "123456789012", "example.com")
_IMAGE_TYPE = "docker:index/image:Image"


def example_keys(config: dict[str, str]) -> list[str]:
    """Keys (``airflow:remoteLogs.bucket``) whose value in the stack file is still an example."""
    found: list[str] = []

    def walk(key: str, value: Any) -> None:
        if isinstance(value, dict):
            for child, item in value.items():
                walk(f"{key}.{child}", item)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                walk(f"{key}[{index}]", item)
        elif isinstance(value, str) and any(marker in value for marker in EXAMPLE_MARKERS):
            found.append(key)

    for key, value in sorted(raw_from_config(config).items()):
        walk(f"{NAMESPACE}:{key}", value)
    return found


def made_up_values(recording: Recording) -> dict[str, str]:
    """Each value the mocks invented that reaches a rendered file, with what stands behind it."""
    found = {}
    for image in recording.of_type(_IMAGE_TYPE):
        reference = str(image.outputs.get("repoDigest") or "")
        if "@" in reference:
            found[reference] = "the pushed image's digest, known only after the push"
            found[reference.split("@", 1)[1]] = "the pushed image's digest, known only after the push"
    return found


def made_up_in(document: Any, made_up: dict[str, str]) -> list[str]:
    """``key.path: what stands behind it`` for each made-up value in ``document``."""
    lines: list[str] = []

    def walk(path: str, value: Any) -> None:
        if isinstance(value, dict):
            # By key: the order the program's outputs resolved in is not the same in every run.
            for key in sorted(value, key=str):
                walk(f"{path}.{key}" if path else str(key), value[key])
        elif isinstance(value, list):
            for index, item in enumerate(value):
                walk(f"{path}[{index}]", item)
        elif isinstance(value, str):
            # Within a value too: task pods' `worker_container_tag` is the tag and the digest joined.
            behind = next((why for made, why in made_up.items() if made in value), None)
            if behind is not None:
                lines.append(f"{path}: {behind}")

    walk("", document)
    return lines


def comments(stand_ins: list[str]) -> str:
    """The header a rendered file gets, so nobody reads a made-up value as the real one."""
    return "".join(f"# offline stand-in at {line}\n" for line in stand_ins)
