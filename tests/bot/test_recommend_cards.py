"""When one recommender of a unit decides, the unit's other recommenders' cards show it too."""
from bot import sample
from workflows.core import people

from .conftest import deliver


def test_the_other_recommenders_card_is_greyed_with_the_decision(rt, wecom, clock):
    with rt.sessions.begin() as s:
        sample.ensure_roster(s, clock())
        people.import_roster(s, "userid,name,role,organization,region\n"
                                "tuijian-wj2,武江区质量办·林峰,recommender,武江区人民政府,武江区\n",
                             actor="system", now=clock())
        sample.run(s, rt.settings, "review", clock())
    deliver(rt)
    sent = [c for c in wecom.messages_to("tuijian-wj2") if c.get("msgtype") == "template_card"]
    updates = [u for u in wecom.calls_to("message/update_template_card") if u.body["userids"] == ["tuijian-wj2"]]
    assert sent and len(updates) == len(sent)      # every card of the second recommender was closed once
    assert all(u.body["response_code"] for u in updates)
