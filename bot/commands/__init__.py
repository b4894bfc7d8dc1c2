"""Flow-specific CLI command groups; each module exposes `register(main)`."""
from __future__ import annotations

from typing import Callable

import click

REGISTRY: list[Callable[[click.Group], None]] = []


def _load() -> None:
    from . import application, demo, experts, publicity, remind, review, vote
    REGISTRY.extend([demo.register, application.register, review.register, experts.register, vote.register,
                     publicity.register, remind.register])


_load()
