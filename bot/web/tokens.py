"""Signed, expiring links: upload pages (application + item + member) and read-only material views."""
from __future__ import annotations

import datetime as dt
from typing import Any, Callable

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from workflows.core.settings import Settings

UPLOAD_SALT = "awardbot.upload"
VIEW_SALT = "awardbot.materials"
EVIDENCE_SALT = "awardbot.evidence"
CARD_SALT = "awardbot.card"
__all__ = ["BadSignature", "SignatureExpired", "Links"]


class Links:
    """Makes and reads the app's signed links; time comes from the runtime's clock (tests freeze it)."""

    def __init__(self, settings: Settings, clock: Callable[[], dt.datetime]) -> None:
        self.settings = settings
        signer = type("ClockSigner", (TimestampSigner,), {"get_timestamp": lambda _self: int(clock().timestamp())})
        key = settings.server.secret_key
        self._upload = URLSafeTimedSerializer(key, salt=UPLOAD_SALT, signer=signer)
        self._view = URLSafeTimedSerializer(key, salt=VIEW_SALT, signer=signer)
        self._evidence = URLSafeTimedSerializer(key, salt=EVIDENCE_SALT, signer=signer)
        self._card = URLSafeTimedSerializer(key, salt=CARD_SALT, signer=signer)
        self.base = settings.server.public_url.rstrip("/")

    def upload_token(self, application_id: int, item_key: str, userid: str) -> str:
        """A token for one application's item, usable only by this member until it expires."""
        return self._upload.dumps({"a": application_id, "i": item_key, "u": userid})

    def read_upload(self, token: str) -> dict[str, Any]:
        """The bound application, item and member; raises SignatureExpired or BadSignature."""
        data = self._upload.loads(token, max_age=self.settings.server.upload_token_minutes * 60)
        if not isinstance(data, dict) or not {"a", "i", "u"} <= data.keys():
            raise BadSignature("bad payload")
        return data

    def view_token(self, application_id: int, userid: str) -> str:
        """A token for one member's read-only view of an application's materials."""
        return self._view.dumps({"a": application_id, "u": userid})

    def read_view(self, token: str) -> dict[str, Any]:
        """The bound application and member; raises SignatureExpired or BadSignature."""
        data = self._view.loads(token, max_age=self.settings.server.view_token_hours * 3600)
        if not isinstance(data, dict) or not {"a", "u"} <= data.keys():
            raise BadSignature("bad payload")
        return data

    def evidence_token(self, complaint_id: int, userid: str) -> str:
        """A token for adding evidence to one complaint, usable only by its complainant until it expires."""
        return self._evidence.dumps({"c": complaint_id, "u": userid})

    def read_evidence(self, token: str) -> dict[str, Any]:
        """The bound complaint and member; raises SignatureExpired or BadSignature."""
        data = self._evidence.loads(token, max_age=self.settings.server.upload_token_minutes * 60)
        if not isinstance(data, dict) or not {"c", "u"} <= data.keys():
            raise BadSignature("bad payload")
        return data

    def evidence_url(self, complaint_id: int, userid: str) -> str:
        """The full evidence-upload address for a complaint."""
        return f"{self.base}/evidence/{self.evidence_token(complaint_id, userid)}"

    def card_token(self, task_id: str, userid: str) -> str:
        """A token for one member's page in place of an interactive card (linked-corp members)."""
        return self._card.dumps({"t": task_id, "u": userid})

    def read_card(self, token: str) -> dict[str, Any]:
        """The bound card task and member; raises SignatureExpired or BadSignature."""
        data = self._card.loads(token, max_age=self.settings.server.view_token_hours * 3600)
        if not isinstance(data, dict) or not {"t", "u"} <= data.keys():
            raise BadSignature("bad payload")
        return data

    def card_url(self, task_id: str, userid: str) -> str:
        """The full address of a card's page (the textcard a linked-corp member gets links here)."""
        return f"{self.base}/card/{self.card_token(task_id, userid)}"

    def upload_url(self, application_id: int, item_key: str, userid: str) -> str:
        """The full upload-page address for a chat message or card."""
        return f"{self.base}/upload/{self.upload_token(application_id, item_key, userid)}"

    def materials_url(self, application_id: int, userid: str) -> str:
        """The full read-only materials address for a chat message or card."""
        return f"{self.base}/materials/{self.view_token(application_id, userid)}"
