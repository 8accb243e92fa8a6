"""The one place that turns a failed Hugging Face hub download into advice a user can act on."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from xner.errors import XnerError

T = TypeVar("T")


class HubUnreachableError(XnerError, RuntimeError):
    """The hub could not be reached and nothing was cached; the message says what to do."""


def hub_call(load: Callable[[], T], what: str, local_hint: str) -> T:
    """Run `load`, re-raising a connection failure as HubUnreachableError naming `what`."""
    try:
        return load()
    except OSError as err:  # ConnectionError, and transformers' "couldn't connect" OSError
        raise HubUnreachableError(
            f"could not load {what} from the Hugging Face hub and no cached copy was found "
            f"({type(err).__name__}: {str(err).partition(chr(10))[0]}). "
            f"To work offline, {local_hint}."
        ) from err
