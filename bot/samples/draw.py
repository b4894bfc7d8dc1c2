"""Sample step for the expert draw: the roster's group leader (else its first expert) is engaged apart from the
draw, the roster's experts as the pool, a draw with a published seed, the leader and every drawn expert accept
the 承诺书."""
from __future__ import annotations

import csv
import datetime as dt
import io

from sqlalchemy.orm import Session

from workflows.core import people
from workflows.core.settings import Settings
from workflows.scoring import draw, leader

SPECIALTIES = ("卓越绩效评价", "质量管理体系", "标准化", "计量与检测", "工业工程", "财务与绩效")


def pool_csv(session: Session) -> str:
    """The roster's active experts as a pool CSV without userids (the sample's stand-in for the provincial pool);
    the draw finds each drawn expert on the roster by name and organisation."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(draw.COLUMNS)      # no userid: the province's list names experts, not WeCom members
    for i, p in enumerate(sorted(people.with_role(session, *draw.EXPERT_ROLES), key=lambda p: p.userid)):
        writer.writerow([p.name, p.organization or "（未填写）", p.region, SPECIALTIES[i % len(SPECIALTIES)], f"0751-88{i:06d}"])
    return out.getvalue()


def ensure_panel(session: Session, settings: Settings, now: dt.datetime) -> None:
    """Pool, draw (every eligible expert, so the sample's assignment has its choice), pledges and the leader."""
    if draw.recorded(session, settings) is not None:
        return
    actor = people.with_role(session, "secretariat")[0].userid
    chosen = people.with_role(session, "expert_leader") or people.with_role(session, *draw.EXPERT_ROLES)
    if chosen and draw.leader_of(session, settings) is None:
        leader.engage(session, settings, actor=actor, now=now, who=chosen[0].userid,
                      basis=f"{settings.award.edition_key} 聘书第1号")
    entries = draw.import_pool(session, settings, actor=actor, now=now, text=pool_csv(session))
    eligible = len(entries) - len(draw.exclusions(session, settings, entries))
    draw.draw(session, settings, actor=actor, now=now, count=max(eligible, 1),
              seed=f"{settings.award.edition_key}-示例种子")
    for m in draw.members(session, settings):
        if m.status == "asked":
            draw.accept_pledge(session, settings, actor=m.userid, now=now, member_id=m.id)
