"""The whole path once: encrypted callback → webhook → router → outbox → sender → WeCom stand-in."""
from tests.bot.conftest import deliver, texts


def test_help_reaches_member_through_the_real_path(cb, rt, wecom):
    r = cb.send(cb.text("qiye1", "帮助"))
    assert (r.status, r.body) == (200, "")
    assert wecom.calls_to("message/send") == []  # nothing sent inside the request
    assert deliver(rt) == 1
    [reply] = texts(wecom, "qiye1")
    assert "可用指令" in reply and "申报企业联系人" in reply


def test_a_new_member_is_greeted_by_the_directory_name(cb, rt, wecom, clock):
    wecom.set_users({"qiye1": "张小红"})
    cb.send(cb.enter_agent("qiye1"))               # opening the app: the name is looked up (outside the request)
    deliver(rt)
    assert len(wecom.calls_to("user/get")) == 1
    clock.advance(minutes=5)
    cb.send(cb.enter_agent("qiye1"))
    deliver(rt)
    assert len(wecom.calls_to("user/get")) == 1    # looked up once
    assert "您好，张小红" in texts(wecom, "qiye1")[-1]


def test_unknown_text_gets_a_hint(cb, rt, wecom):
    cb.send(cb.text("qiye1", "你好"))
    deliver(rt)
    [reply] = texts(wecom, "qiye1")
    assert "没有理解" in reply and "帮助" in reply


def test_a_domain_error_with_a_deadline_is_explained(cb, rt, wecom, clock):
    """Domain errors carry datetimes; the reply renders them in Asia/Shanghai."""
    from workflows.core import stages
    from workflows.core.errors import StageClosed

    def closed(ctx, args):
        raise StageClosed(stage="apply", stage_name="申报推荐", deadline=stages.deadline(ctx.session, ctx.settings, "apply"))
    rt.dispatcher.router.command("试试")(closed)
    assert cb.send(cb.text("qiye1", "试试")).status == 200
    deliver(rt)
    [reply] = texts(wecom, "qiye1")
    assert "2018年11月15日 23:59" in reply and "申报推荐" in reply


def test_anyone_can_list_the_stages_and_their_deadlines(cb, rt, wecom, clock):
    from bot import sample
    with rt.sessions.begin() as s:
        sample.run(s, rt.settings, "apply", clock())
    cb.send(cb.text("qiye9", "阶段"))
    deliver(rt)
    [reply] = texts(wecom, "qiye9")
    assert "进行中</font> 申报推荐，2018年09月16日起，截止 2018年11月15日" in reply   # start and deadline (23.6)
    assert "已结束</font> 首次评审委员会会议" in reply and "未开始 表彰奖励" in reply


def test_a_member_missing_from_the_directory_is_simply_not_named(cb, rt, wecom, http):
    wecom.fail_next("user/get", errcode=60111)   # userid not found (e.g. outside the app's visibility)
    cb.send(cb.enter_agent("qiye1"))
    deliver(rt)
    assert http.get("/healthz").get_json()["outbox"]["dead"] == 0
    assert texts(wecom, "qiye1")[-1].startswith("您好！")


def test_every_line_of_help_says_what_it_does_for_every_role(cb, rt, wecom, clock):
    from workflows.core import people
    roles = ["secretariat", "recommender", "expert", "expert_leader", "committee", "committee_chair"]
    rows = "".join(f"m-{r},成员{i},{r},,{'武江区' if r == 'recommender' else ''}\n" for i, r in enumerate(roles))
    with rt.sessions.begin() as s:
        assert not people.import_roster(s, "userid,name,role,organization,region\n" + rows, actor="cli",
                                        now=clock()).problems
    for who in [f"m-{r}" for r in roles] + ["qiye1"]:
        cb.send(cb.text(who, "帮助"))
        deliver(rt)
        lines = [ln for ln in "\n".join(texts(wecom, who)).splitlines() if ln.startswith("> `")]
        assert lines, who
        bare = [ln for ln in lines if not ln.split("`", 2)[2].strip()]
        assert bare == [], (who, bare)   # a chat word listed without what it does
