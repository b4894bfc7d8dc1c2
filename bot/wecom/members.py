"""Member ids: the corp's own members by their UserID, linked-corp members (互联企业/上下游) as "CorpID/UserID".

WeCom UserIDs never contain "/" (letters, digits, "_", "-", "@", "."), so the slash tells the two apart.
What WeCom documents about each form, and what could not be confirmed, is in docs/reach.md.
"""
from __future__ import annotations

SEP = "/"


def is_linked(userid: str) -> bool:
    """True for a linked-corp member ("CorpID/UserID")."""
    return SEP in userid


def split(userid: str) -> tuple[str, str]:
    """("CorpID", "UserID") of a linked id; ("", userid) for one of the corp's own members."""
    corp, sep, user = userid.partition(SEP)
    return (corp, user) if sep else ("", userid)


def from_callback(from_user: str, to_corp: str, own_corp: str) -> str:
    """The member id of a callback's sender, whichever form WeCom used.

    - "CorpID/UserID" in FromUserName (互联企业, the form linkedcorp APIs use): kept as is; our own corp
      written in the long form becomes the short UserID, so one person has one id;
    - a bare UserID with another corp in ToUserName (上下游: "the message carries the downstream corp's
      information"): that corp and the UserID are joined into "CorpID/UserID";
    - a bare UserID addressed to our corp: one of our own members.
    """
    if SEP in from_user:
        corp, user = split(from_user)
        return user if corp == own_corp else from_user
    if to_corp and to_corp != own_corp:
        return f"{to_corp}{SEP}{from_user}"
    return from_user


def addressed(userid: str, agent_id: int) -> dict[str, object]:
    """The `touser`/`agentid` of a message body: a list for linkedcorp/message/send, a string otherwise."""
    return {"touser": [userid] if is_linked(userid) else userid, "agentid": agent_id}
