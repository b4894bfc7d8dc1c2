"""Sample step for stage "review": realistic applications submitted and endorsed through the real services."""
from __future__ import annotations

import datetime as dt
import io

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.samples.base import ACTOR, recommending_units
from workflows import apply, intake
from workflows.documents.store import DocumentStore
from workflows.core import stages
from workflows.apply.creditcode import own_county, with_check_digits
from workflows.apply.models import Application
from workflows.core.models import CardTask
from workflows.core.settings import Settings

# (applicant userid, enterprise, credit code prefix (16), unit, contact, mobile, demo recommender, opinion).
# With an imported roster the application goes to a unit that has a recommender: its own county if it has one
# (a county recommends only the enterprises registered there, by the credit code), else a city department with
# the sample's reason, else its own county all the same (the secretariat is told nobody can recommend it).
SAMPLES = (
    ("qiye-shaogang", "韶关市武江精工钢构有限公司", "91440203MA4UJG01", "武江区", "王志强", "13902281001",
     "tuijian-wj", "该企业导入卓越绩效管理模式多年，产品质量稳定，同意推荐。"),
    ("qiye-danxia", "韶关丹霞食品科技有限公司", "91440203MA4UDX02", "武江区", "李秀英", "13902281002",
     "tuijian-wj", "企业质量管理体系健全，近三年无质量安全事故，同意推荐。"),
    ("qiye-qujiang", "韶关市曲江新材料股份有限公司", "91440205MA4UQJ03", "曲江区", "陈海燕", "13902281003",
     "tuijian-qj", "该企业创新能力突出，对全区经济贡献明显，同意推荐。"),
    ("qiye-beijiang", "韶关北江电力设备有限公司", "91440205MA4UBJ04", "曲江区", "黄建华", "13902281004",
     "tuijian-qj", "企业主导产品市场占有率居全市前列，同意推荐。"),
    ("qiye-nanling", "韶关南岭生态茶业有限公司", "91440203MA4UNL05", "武江区", "刘丽萍", "13902281005",
     "tuijian-wj", "企业带动农户增收成效显著，质量追溯体系完善，同意推荐。"),
    ("qiye-maba", "韶关马坝精密铸造有限公司", "91440205MA4UMB06", "曲江区", "周国栋", "13902281006",
     "tuijian-qj", "企业通过多项管理体系认证，质量效益持续提升，同意推荐。"),
    ("qiye-furong", "韶关芙蓉汽车零部件有限公司", "91440203MA4UFR07", "武江区", "吴晓东", "13902281007",
     "tuijian-wj", "企业技术创新能力较强，产品出口稳定增长，同意推荐。"),
    ("qiye-zhenjiang", "韶关曲江绿色建材有限公司", "91440205MA4UQX08", "曲江区", "郑美玲", "13902281008",
     "tuijian-qj", "企业环保绩效突出，近三年无重大事故，同意推荐。"),
)


def _pdf(label: str) -> bytes:
    """A small, valid PDF standing in for a scanned document."""
    return (f"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Title ({label}) >>\nendobj\n"
            "trailer\n<< /Root 1 0 R >>\n%%EOF\n").encode()


def _apply(session: Session, settings: Settings, now: dt.datetime, sample: tuple, unit: str) -> Application:
    userid, name, prefix, _unit, contact, phone, _rec, _op = sample
    app, _ = apply.start(session, settings, actor=userid, now=now)
    for setter, value in ((apply.set_enterprise_name, name), (apply.set_credit_code, with_check_digits(prefix)),
                          (apply.set_enterprise_type, "1"), (apply.set_unit, unit), (apply.set_industry, "1"),
                          (apply.set_contact_name, contact), (apply.set_contact_phone, phone)):
        setter(session, settings, app, value, actor=userid, now=now)
    if app.department:
        apply.set_unit_reason(session, settings, app, "（示例）市属企业，由行业主管部门组织申报", actor=userid, now=now)
    for q in settings.award.eligibility:
        if (app.eligibility or {}).get(q.key) is None:
            apply.answer_eligibility(session, settings, app, q.key, "是", actor=userid, now=now)
    store = DocumentStore.from_settings(settings.storage)
    for m in apply.applicant_materials(settings):
        if m.required:
            intake.accept(session, settings, store, target=intake.Target("material", app.id, m.key),
                          stream=io.BytesIO(_pdf(f"{name} {m.name}")), filename=f"{m.name}.pdf", source="page",
                          actor=userid, now=now)
    return apply.submit(session, settings, app, actor=userid, now=now)


def applications_endorsed(session: Session, settings: Settings, now: dt.datetime) -> None:
    """Eight enterprises apply with complete materials; their units recommend them; formal review opens."""
    units = recommending_units(session, settings)  # ensure_roster made sure there is one
    counties = {r.code: r.name for r in settings.award.regions}
    departments = sorted(u for u in units if u in settings.award.departments)
    for i, sample in enumerate(SAMPLES):
        if apply.get_for_applicant(session, settings, sample[0]) is not None:
            continue
        own = counties.get(own_county(sample[2], counties) or "")
        spare = sorted(units) if own is None else departments
        unit = own if own in units else (spare[i % len(spare)] if spare else own or sample[3])
        app = _apply(session, settings, now, sample, unit)
        recommender = units.get(unit)
        task = session.scalar(select(CardTask).where(CardTask.subject == apply.subject(app),
                                                     CardTask.recipient == recommender, CardTask.status == "open"))
        if task is None:
            continue  # the unit has no recommender in this roster; the secretariat was told
        apply.decide(session, settings, application_id=app.id, decision="recommend", opinion=sample[7],
                     actor=recommender, now=now)
    stages.open_stage(session, settings, "review", actor=ACTOR, now=now)
