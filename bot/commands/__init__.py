"""Flow-specific CLI command groups; each module exposes `register(main)`."""
from __future__ import annotations

import importlib.util
from typing import Callable

import click

REGISTRY: list[Callable[[click.Group], None]] = []


def _load() -> None:
    from . import remind
    REGISTRY.extend([remind.register])
    if importlib.util.find_spec(f"{__name__}.demo") is not None:  # demo lands on its own branch
        from . import demo
        REGISTRY.append(demo.register)


_load()
