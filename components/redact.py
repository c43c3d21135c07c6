"""Masks what looks like a credential in text the program prints about the user's input.

An error message quotes the value it refuses so the user can find it, but a user who pastes a token or
a connection URL into the wrong key must not see it echoed into a CI log. Every ``ConfigError`` passes
its message through ``redact``: URL userinfo, ``password=``-style pairs, well-known token formats, and
long random-looking strings become ``***``.
"""

from __future__ import annotations

import re

__all__ = ["MASK", "embedded_credential", "printable", "redact", "safe_to_print"]

MASK = "***"

# Userinfo parts are bounded: unbounded, a long run without '@' (150 KB of '-:') made each starting
# position scan to the end, which took hours. No user name or password is 256 characters long.
_URL_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]{0,31}://)[^\s/@'\"]{1,256}@")
# An image digest (``name:tag@sha256:<hex>``) has the same shape, and is no host.
_SCP_USERINFO = re.compile(
    r"(?<![\w/])[^\s:/@'\"]{1,256}:[^\s/@'\"]{1,256}@(?!sha(?:256|384|512):[0-9a-f]{32})(?=[A-Za-z0-9.-]+[:/])"
)
_SECRET_PAIR = re.compile(
    r"(?i)\b(?P<name>password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|client[_-]?secret)"
    r"(?P<sep>\s*[=:]\s*)(?P<value>[^\s&,;'\"]+)"
)
_TOKENS = re.compile(
    r"gh[pousr]_[A-Za-z0-9]{16,}|github_pat_[A-Za-z0-9_]{20,}|glpat-[A-Za-z0-9_-]{16,}"
    r"|xox[abprs]-[A-Za-z0-9-]{10,}|(?:AKIA|ASIA)[0-9A-Z]{16}|sk-[A-Za-z0-9_-]{20,}"
    r"|eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}|-----BEGIN [A-Z ]*PRIVATE KEY-----"
)
# A run of 24+ characters mixing lower case, upper case and digits reads as a generated secret.
_RANDOM_LOOKING = re.compile(r"[A-Za-z0-9+/_=-]{24,}")


def redact(text: str) -> str:
    """``text`` with anything that looks like a credential replaced by ``***``."""
    if "@" in text:
        text = _URL_USERINFO.sub(lambda m: f"{m['scheme']}{MASK}@", text)
        text = _SCP_USERINFO.sub(f"{MASK}@", text)
    text = _SECRET_PAIR.sub(lambda m: f"{m['name']}{m['sep']}{MASK}", text)
    text = _TOKENS.sub(MASK, text)
    return _RANDOM_LOOKING.sub(lambda m: MASK if _looks_random(m.group()) else m.group(), text)


def printable(text: str) -> str:
    """``text`` with every character that is not printable shown escaped (``\\x1b``, ``\\u202e``), the
    newline kept: a control character cannot move the cursor, colour the terminal, reorder the line
    (bidi) or hide in it (zero width)."""
    return "".join(_printable(c) for c in text)


def safe_to_print(text: str) -> str:
    """``text`` as the program may print it: escaped, then masked."""
    return redact(printable(text))


def _printable(char: str) -> str:
    return char if char.isprintable() or char == "\n" else char.encode("unicode_escape").decode("ascii")


def embedded_credential(url: str) -> bool:
    """Whether a URL carries a password or token in its userinfo (``https://bot:token@host``)."""
    match = re.match(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?P<userinfo>[^/@\s]*)@", url)
    if match is None:
        return False
    # Over HTTP(S) a user name alone can be a token (https://<token>@github.com/...).
    return ":" in match["userinfo"] or match["scheme"].lower() in ("http", "https")


def _looks_random(run: str) -> bool:
    return any(c.islower() for c in run) and any(c.isupper() for c in run) and any(c.isdigit() for c in run)
