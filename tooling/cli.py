"""What every command of ``tooling/`` does at its top, so no input ends in a traceback.

- Its output cannot fail on an odd locale: a character stdout cannot encode is printed escaped
  (``\\xe9``), never raised after the work is done.
- Ctrl-C and SIGTERM are one line and exit 130; the command's own cleanup (``finally``) runs first.
- Anything unexpected is one line naming the command and its input, masked, with the traceback behind
  ``--debug``, and exits 2.
- A command people wait for (the render, the diff) runs without the cycle collector (``exit_with``).
"""

from __future__ import annotations

import argparse
import gc
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import NoReturn

from components.redact import safe_to_print

__all__ = ["Interrupted", "add_debug_flag", "exit_with", "guarded", "signals_held"]

INTERRUPTED_EXIT = 130  # as a shell reports a command stopped by SIGINT
FAILED_EXIT = 2


class Interrupted(BaseException):
    """Ctrl-C or SIGTERM: a BaseException, so no ``except Exception`` on the way swallows it."""


def add_debug_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--debug", action="store_true", help="print the traceback of an unexpected failure")


def guarded(run: Callable[[], int], *, command: str, what: str, debug: bool, after_interrupt: str) -> int:
    """``run()``'s exit code. ``command`` is the word its lines start with (``render``); ``what`` names
    it with its input (``render of stack 'dev'``); ``after_interrupt`` says what an interruption left
    (``render/dev is as it was``)."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")
    previous = _on_sigterm(_terminated)
    try:
        return run()
    except (KeyboardInterrupt, Interrupted):
        print(f"{command}: interrupted; {after_interrupt}", file=sys.stderr)
        return INTERRUPTED_EXIT
    except Exception as err:  # the guard's purpose: one line for whatever escaped the command
        if debug:
            traceback.print_exc()
        print(
            f"error: {what} failed unexpectedly: {type(err).__name__}: {safe_to_print(str(err))} "
            "(run again with --debug for the traceback)",
            file=sys.stderr,
        )
        return FAILED_EXIT
    finally:
        _on_sigterm(previous)


def exit_with(main: Callable[[], int]) -> NoReturn:
    """Runs a short-lived command's ``main`` and exits with its code, without Python's cycle collector.

    A render lives about a second and loads tens of thousands of long-lived objects (the generated
    classes and typing objects of ``pulumi_kubernetes``, ``grafanalib``'s attrs classes). The collector
    would scan them again and again while they load, and all of them once more at exit, for garbage
    that reference counting already frees as the command goes: about 0.3 s of a 1.1 s render of prod
    for 2 MB more memory (``bench/render_vs_helm.sh``). Frozen objects are skipped by the interpreter's
    last collection; the process ends anyway. For ``__main__`` only: a test calling ``main()`` keeps
    its collector.
    """
    gc.disable()
    code = main()
    gc.freeze()
    sys.exit(code)


@contextmanager
def signals_held() -> Iterator[None]:
    """Ctrl-C and SIGTERM wait until the block is done: for steps that must not stop halfway (two
    renames that swap a folder in)."""
    held = {signal.SIGINT, signal.SIGTERM}
    signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, held)


def _terminated(signum: int, frame: object) -> None:
    raise Interrupted(signal.Signals(signum).name)


def _on_sigterm(handler: object) -> object:
    """Sets the SIGTERM handler where Python allows it (the main thread); the previous one."""
    if handler is None or threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGTERM, handler)  # type: ignore[arg-type]
