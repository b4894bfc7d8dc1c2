"""Flow-specific CLI command groups; each module exposes `register(main)`."""
from __future__ import annotations

import importlib.util
from typing import Callable

import click

REGISTRY: list[Callable[[click.Group], None]] = []


def _load() -> None:
    from . import publicity
    REGISTRY.extend([publicity.register])
    if importlib.util.find_spec(f"{__name__}.demo") is not None:  # not on every branch yet
        from . import demo
        REGISTRY.extend([demo.register])


_load()
