"""WeCom errcodes the stand-in returns (WECOM.md §4.3); simulator-chosen codes are marked."""

OK = 0
INVALID_SECRET = 40001
INVALID_MEDIA_TYPE = 40004
INVALID_MEDIA_ID = 40007
INVALID_MSGTYPE = 40008
INVALID_CORPID = 40013
INVALID_ACCESS_TOKEN = 40014
INVALID_USERID_LIST = 40031
INVALID_AGENTID = 40056
INVALID_PARAMETER = 40058
MISSING_ACCESS_TOKEN = 41001
ACCESS_TOKEN_EXPIRED = 42001
EMPTY_MEDIA = 44001
EMPTY_TEXT_CONTENT = 44004
INVALID_JSON = 47001
USER_NOT_FOUND = 60111
ALL_RECIPIENTS_INVALID = 81013

# The real codes for these two are unverified (WECOM.md §7 q4); the simulator picks its own.
INVALID_RESPONSE_CODE = 40098  # unknown, already used or expired (72 h) response_code
DUPLICATE_TASK_ID = 40099  # a template_card task_id already sent by this app

# Errmsg texts; the real ones carry a hint URL, only the code matters to clients.
MESSAGES = {
    OK: "ok",
    INVALID_SECRET: "invalid credential",
    INVALID_MEDIA_TYPE: "invalid media type",
    INVALID_MEDIA_ID: "invalid media_id",
    INVALID_MSGTYPE: "invalid message type",
    INVALID_CORPID: "invalid corpid",
    INVALID_ACCESS_TOKEN: "invalid access_token",
    INVALID_USERID_LIST: "invalid userid list",
    INVALID_AGENTID: "invalid agentid",
    INVALID_PARAMETER: "invalid parameter",
    MISSING_ACCESS_TOKEN: "access_token missing",
    ACCESS_TOKEN_EXPIRED: "access_token expired",
    EMPTY_MEDIA: "empty media data",
    EMPTY_TEXT_CONTENT: "empty content",
    INVALID_JSON: "json data format error",
    USER_NOT_FOUND: "userid not found",
    ALL_RECIPIENTS_INVALID: "all touser invalid or no privilege",
    INVALID_RESPONSE_CODE: "invalid response_code (simulator)",
    DUPLICATE_TASK_ID: "task_id already exists (simulator)",
}


def error_body(errcode: int, errmsg: str | None = None) -> dict:
    """Build a WeCom JSON error body for an errcode."""
    return {"errcode": errcode, "errmsg": errmsg or MESSAGES.get(errcode, "simulated error")}
