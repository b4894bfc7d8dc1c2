"""Flow-specific CLI command groups; each module exposes `register(main)`."""
from __future__ import annotations

import click

from . import (application, award, call, committee, demo, draw, experts, pledges, publicity, remind, retention, review,
               roster, stages, visits, vote)

REGISTRY = (demo.register, roster.register, stages.register, committee.register, call.register, application.register,
            review.register, experts.register, draw.register, pledges.register, visits.register, vote.register,
            publicity.register, award.register, retention.register, remind.register)


def register_all(main: click.Group) -> None:
    """Add every flow's commands to the main group."""
    for register in REGISTRY:
        register(main)
