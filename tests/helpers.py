"""What many tests read from a recorded program run: the secret values the mocks generated, and a
Secret's data. Shared here, so no test module imports another."""

from __future__ import annotations

from tooling.offline.runtime import Recording, is_secret

__all__ = ["RANDOM_TYPES", "SECRET_TYPE", "generated_values", "secret_string_data"]

SECRET_TYPE = "kubernetes:core/v1:Secret"
RANDOM_TYPES = ("random:index/randomPassword:RandomPassword", "random:index/randomId:RandomId")


def generated_values(recording: Recording) -> list[str]:
    """Every secret value the mocks generated, to search for in places they must not be."""
    found = []
    for r in recording.registrations:
        if r.type in RANDOM_TYPES:
            found += [
                str(r.outputs[key]) for key in ("result", "b64Url", "b64Std", "hex") if key in r.outputs
            ]
    assert found, "the mocks generated no secret values to look for"
    return found


def secret_string_data(recording: Recording, name: str) -> dict[str, str]:
    secret = next(r for r in recording.of_type(SECRET_TYPE) if r.inputs["metadata"]["name"] == name)
    assert is_secret(secret.inputs["stringData"]), f"{name} stringData is not marked secret"
    return secret.inputs["stringData"]["value"]
