"""Bounded YAML composing for files a user or an attacker may have written: a nesting depth past which
PyYAML's recursive composer would end in a ``RecursionError``, and, where the writer never uses them,
no aliases (a few lines of ``&a [*b, *b, ...]`` expand to billions of values for whoever walks them)."""

from __future__ import annotations

from typing import Any

import yaml
from yaml.events import AliasEvent

__all__ = ["MAX_DEPTH", "AliasRefused", "BoundedLoader", "NoAliasLoader", "TooDeep"]

MAX_DEPTH = 64  # a stack file's settings nest a handful of levels, a Kubernetes manifest a dozen or two


class TooDeep(yaml.YAMLError):
    def __init__(self, mark: Any) -> None:
        super().__init__(f"nests deeper than {MAX_DEPTH} levels")
        self.problem, self.problem_mark = str(self), mark


class AliasRefused(yaml.YAMLError):
    def __init__(self, mark: Any) -> None:
        super().__init__("uses YAML aliases (&/*)")
        self.problem, self.problem_mark = str(self), mark


class BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader that refuses a document nesting deeper than ``MAX_DEPTH``."""

    _depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self._depth >= MAX_DEPTH:
            raise TooDeep(self.peek_event().start_mark)
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


class NoAliasLoader(BoundedLoader):
    """For files a program wrote without aliases (the render's): an alias means someone else did."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(AliasEvent):
            raise AliasRefused(self.peek_event().start_mark)
        return super().compose_node(parent, index)
