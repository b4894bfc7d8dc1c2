"""Shared set-up for the publicity, complaint, award and archive tests: applications made directly."""
from __future__ import annotations

import datetime as dt

from workflows.apply.models import Application
from workflows.core.models import Person

SH = dt.timezone(dt.timedelta(hours=8))
# 2019-02-01 10:00 Shanghai: inside the first edition's publicity stage (deadline 2019-02-25).
START = dt.datetime(2019, 2, 1, 10, 0, tzinfo=SH)

ROSTER = [("mishu1", "秘书甲", "secretariat"), ("weiyuan1", "委员甲", "committee"),
          ("weiyuan2", "委员乙", "committee"), ("zhuren", "主任", "committee_chair"), ("zhuanjia1", "专家甲", "expert")]


def make_roster(session, now: dt.datetime = START) -> None:
    """The roster members the notices go to."""
    for userid, name, role in ROSTER:
        session.add(Person(userid=userid, name=name, role=role, organization="", region="", updated_at=now))


def make_apps(session, settings, n: int = 5, now: dt.datetime = START) -> list[int]:
    """n accepted applications in rank order, applicants qiye1..qiyeN; returns their ids."""
    ids = []
    for i in range(1, n + 1):
        app = Application(edition=settings.award.edition_key, number=f"SG2018-{i:03d}", applicant=f"qiye{i}",
                          status="accepted", enterprise_name=f"韶关第{i}制造有限公司", credit_code=f"91440200MA{i:07d}X",
                          contact_name=f"联系人{i}", contact_phone="13800138000", created_at=now, updated_at=now)
        session.add(app)
        session.flush()
        ids.append(app.id)
    return ids


def committee_result(session, settings, winners: list[int], reserve: list[int] = (),
                     now: dt.datetime = START) -> None:
    """A closed, decided committee vote proposing `winners` (rank order), `reserve` ranked after them.

    Publicity starts only from the committee's result (workflows.publicity.notice.proposed)."""
    from workflows.voting.models import Ballot

    candidates = [*winners, *reserve]
    counts = {f"app-{a}": 10 - i for i, a in enumerate(candidates)}
    ballot = Ballot(edition=settings.award.edition_key, seats=len(winners),
                    candidates=[{"application_id": a, "enterprise_name": f"#{a}", "composite": None,
                                 "material": None, "site": None} for a in candidates],
                    status="closed", outcome="decided", opened_by="mishu1", opened_at=now - dt.timedelta(days=2),
                    closes_at=now - dt.timedelta(days=1), closed_at=now - dt.timedelta(days=1), closed_by="mishu1",
                    result={"counts": counts, "ranking": [[k, v] for k, v in counts.items()],
                            "winners": [f"app-{a}" for a in winners], "runoff": None, "decided": True,
                            "seats": len(winners), "ballots": 10, "members": 10, "voted": 10, "quorum": "2/3",
                            "quorum_met": True})
    session.add(ballot)
    session.flush()
    ballot.series_id = ballot.id
    session.flush()
