"""What of a complaint may leave the secretariat (保守秘密; every complaint text promises 秘书处将严格保密).

The secretariat sees who complained in its own views (the notice of a new complaint, 投诉列表, the workbench's
notice page). Everything that goes to others — the verification report to the committee and its files, the
approval package to the city government, reports downloaded for them — is built from `outgoing`, which
carries no name, no phone, no evidence file names (a complainant may name a file after himself), and masks
the name and the phone where the complaint's own texts repeat them.
"""
from __future__ import annotations

import re
from typing import Any

IDENTITY = ("real_name", "phone")
FREE_TEXTS = ("content", "findings", "reason")
MASK = "＊＊"


def _phone_pattern(phone: str) -> re.Pattern[str] | None:
    """The phone's digits with any spaces, dashes or dots between them (`139 1234-5678`)."""
    digits = re.sub(r"\D", "", phone)
    if len(digits) < 5:
        return None
    return re.compile(r"[\s\-.]*".join(re.escape(d) for d in digits))


def mask(text: str, *, real_name: str | None, phone: str | None) -> str:
    """`text` with the complainant's name and phone replaced by a mask."""
    if not text:
        return text
    if real_name and real_name.strip():
        text = text.replace(real_name.strip(), MASK)
    pattern = _phone_pattern(phone or "")
    if pattern is not None:
        text = pattern.sub(MASK, text)
    return text


def outgoing(data: dict[str, Any]) -> dict[str, Any]:
    """A `complaints.complaint_data` view fit to leave the secretariat: no identity of the complainant."""
    name, phone = data.get("real_name") or None, data.get("phone") or None
    out = {k: v for k, v in data.items() if k not in IDENTITY}
    for key in FREE_TEXTS:
        if isinstance(out.get(key), str):
            out[key] = mask(out[key], real_name=name, phone=phone)
    out["evidence"] = [{"sha256": e["sha256"], "size": e["size"]} for e in data.get("evidence") or []]
    return out
