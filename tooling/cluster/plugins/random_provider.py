"""A stand-in for ``pulumi-resource-random``: RandomId and RandomPassword, the two types the program
creates, generated from the operating system's CSPRNG (``secrets``) as the Terraform provider does
from crypto/rand. Every input replaces, as in the real provider (all of them are ForceNew).

Left out: ``bcryptHash`` (nothing here reads it), import, and the other random types.
"""

from __future__ import annotations

import base64
import secrets
import string

from tooling.cluster.plugins.provider import Properties, Resource, StandInProvider, run

VERSION = "4.21.4"  # what requirements.txt's pulumi-random asks the engine for
_SPECIAL = "!@#$%&*()-_=+[]{}<>:?"


class RandomId(Resource):
    """``random:index/randomId:RandomId``: the outputs pulumi-random gives, from ``secrets``."""

    replace_on = frozenset({"byteLength", "keepers", "prefix"})

    def check(self, news: Properties) -> tuple[Properties, list[tuple[str, str]]]:
        length = news.get("byteLength")
        if not isinstance(length, (int, float)) or length < 1:
            return news, [("byteLength", "must be a positive number of bytes")]
        return news, []

    def create(self, inputs: Properties, preview: bool) -> tuple[str, Properties]:
        if preview:
            return "", inputs
        raw = secrets.token_bytes(int(inputs["byteLength"]))
        prefix = inputs.get("prefix", "")
        b64_url = base64.urlsafe_b64encode(raw).decode().rstrip("=")
        outputs = inputs | {
            "b64Url": prefix + b64_url,
            "b64Std": prefix + base64.b64encode(raw).decode(),
            "hex": prefix + raw.hex(),
            "dec": prefix + str(int.from_bytes(raw, "big")),
        }
        return prefix + b64_url, outputs


class RandomPassword(Resource):
    """``random:index/randomPassword:RandomPassword``: pulumi-random's character classes and minimums."""

    replace_on = frozenset(
        {
            "length",
            "special",
            "upper",
            "lower",
            "numeric",
            "number",
            "minLower",
            "minUpper",
            "minNumeric",
            "minSpecial",
            "overrideSpecial",
            "keepers",
        }
    )

    def check(self, news: Properties) -> tuple[Properties, list[tuple[str, str]]]:
        inputs = {"special": True, "upper": True, "lower": True, "numeric": True} | news
        length = inputs.get("length")
        if not isinstance(length, (int, float)) or length < 1:
            return inputs, [("length", "must be a positive number of characters")]
        minimums = sum(
            int(inputs.get(key, 0)) for key in ("minLower", "minUpper", "minNumeric", "minSpecial")
        )
        if minimums > length:
            return inputs, [("length", f"is {int(length)}, shorter than the minimums' sum {minimums}")]
        return inputs, []

    def create(self, inputs: Properties, preview: bool) -> tuple[str, Properties]:
        if preview:
            return "", inputs
        pick = secrets.SystemRandom()
        classes = {
            "lower": (string.ascii_lowercase, "minLower"),
            "upper": (string.ascii_uppercase, "minUpper"),
            "numeric": (string.digits, "minNumeric"),
            "special": (inputs.get("overrideSpecial", _SPECIAL), "minSpecial"),
        }
        alphabet = ""
        chosen: list[str] = []
        for key, (characters, minimum) in classes.items():
            if inputs.get(key, True) and characters:
                alphabet += characters
                chosen += [pick.choice(characters) for _ in range(int(inputs.get(minimum, 0)))]
        chosen += [pick.choice(alphabet) for _ in range(int(inputs["length"]) - len(chosen))]
        pick.shuffle(chosen)
        return "none", inputs | {"result": "".join(chosen)}


PROVIDER = StandInProvider(
    "random",
    VERSION,
    {
        "random:index/randomId:RandomId": RandomId(),
        "random:index/randomPassword:RandomPassword": RandomPassword(),
    },
)

if __name__ == "__main__":
    run(PROVIDER)
