"""The Fernet check's reading of the Secret: keys compared by hash, in order, none shown."""

from __future__ import annotations

import base64
import hashlib

from tooling.cluster.fernet_rotation import key_hashes


def _secret(text: str) -> dict:
    return {"data": {"fernet-key": base64.b64encode(text.encode()).decode()}}


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_a_rotating_secret_gives_the_new_keys_hash_then_the_old_ones() -> None:
    assert key_hashes(_secret("new-key=,old-key=")) == [_sha("new-key="), _sha("old-key=")]


def test_a_settled_secret_gives_one_hash_and_no_key() -> None:
    hashes = key_hashes(_secret("only-key="))
    assert hashes == [_sha("only-key=")]
    assert "only-key=" not in "".join(hashes)


def test_a_secret_without_the_key_gives_none() -> None:
    assert key_hashes({"data": {}}) == []
    assert key_hashes({}) == []
