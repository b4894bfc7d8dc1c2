"""A terminal chat with the bot through the real encrypted callback path and the fake API's inbox."""

from __future__ import annotations

import builtins
import io
import mimetypes
import os
import shlex
import time
import xml.etree.ElementTree as ET
from typing import Any, Callable

import requests

from bot.simulator.callbacks import CallbackClient, CallbackResponse
from bot.simulator.render import card_disabled_text, render_entry

HELP = """\
Type a message and press Enter to send it to the bot as user {user}.
  (empty line)        show messages that arrived since
  /click N [S]        press button N on the latest button card (S: option of its selector)
  /vote N N ...       tick options on the latest vote card and submit
  /select Q=N ...     choose option N for question Q on the latest multiple-choice card and submit
  /file PATH          send a file (.jpg/.png go as an image)
  /help  /quit"""


class SimApi:
    """Client for the fake's /_sim/ endpoints; `base` is a URL or a Flask test client."""

    def __init__(self, base: Any, timeout: float = 5.0):
        self.base, self.timeout = base, timeout

    def _call(self, method: str, path: str, **kw: Any) -> Any:
        if isinstance(self.base, str):
            resp = requests.request(method, self.base.rstrip("/") + path, timeout=self.timeout, **kw)
            resp.raise_for_status()
            return resp.json()
        files = kw.pop("files", None)
        if files:
            name, data, ctype = files["media"]
            kw["data"] = dict(kw.get("data") or {}, media=(io.BytesIO(data), name, ctype))
        resp = self.base.open(path, method=method, query_string=kw.pop("params", None), **kw)
        if resp.status_code >= 400:
            raise RuntimeError(f"HTTP {resp.status_code}: {resp.get_data(as_text=True)[:200]}")
        return resp.get_json()

    def inbox(self, userid: str, after: int) -> list[dict]:
        """Entries delivered to a user after seq."""
        return self._call("GET", f"/_sim/inbox/{userid}", params={"after": after})

    def upload(self, filename: str, data: bytes, media_type: str) -> str:
        """Store a file as if the user sent it; returns its media_id."""
        ctype = mimetypes.guess_type(filename)[0] or "application/octet-stream"
        return self._call("POST", "/_sim/media", files={"media": (filename, data, ctype)},
                          data={"type": media_type})["media_id"]

    def click_code(self, task_id: str, userid: str) -> str:
        """A fresh ResponseCode for a click on a card."""
        return self._call("POST", "/_sim/click", json={"task_id": task_id, "userid": userid})["response_code"]


class ChatSession:
    """One user's chat: sends typed lines as callbacks and prints what the bot delivers."""

    def __init__(self, userid: str, *, callbacks: CallbackClient, api: SimApi, output: Callable[[str], Any],
                 reply_wait: float = 3.0, poll_interval: float = 0.2, settle: float = 0.5):
        self.userid, self.callbacks, self.api, self.out = userid, callbacks, api, output
        self.reply_wait, self.poll_interval, self.settle = reply_wait, poll_interval, settle
        self.after = 0
        self.cards: dict[str, dict] = {}  # task_id -> latest inbox view of that card

    def handle(self, line: str) -> bool:
        """Act on one input line; False means quit."""
        line = line.strip()
        if not line:
            self.poll(0)
            return True
        if not line.startswith("/"):
            return self._send(self.callbacks.text(self.userid, line))
        cmd, _, rest = line.partition(" ")
        args = rest.split()
        actions = {"/quit": lambda: False, "/exit": lambda: False, "/help": self._help,
                   "/click": lambda: self._click(args), "/vote": lambda: self._vote(args),
                   "/select": lambda: self._select(args), "/file": lambda: self._file(rest.strip())}
        if cmd not in actions:
            self.out(f"(unknown command {cmd})")
            return self._help()
        return actions[cmd]()

    def poll(self, wait: float) -> int:
        """Print new inbox entries, waiting up to `wait` s for the first and `settle` s of quiet after."""
        start, last_new, shown = time.monotonic(), None, 0
        while True:
            try:
                entries = self.api.inbox(self.userid, self.after)
            except (requests.RequestException, RuntimeError, ValueError) as exc:
                self.out(f"(api unreachable: {exc})")
                return shown
            for entry in entries:
                self.after = max(self.after, entry["seq"])
                self._remember(entry)
                self.out(render_entry(entry))
            shown += len(entries)
            now = time.monotonic()
            last_new = now if entries else last_new
            if (last_new is not None and now - last_new >= self.settle) or now - start >= wait:
                return shown
            time.sleep(self.poll_interval)

    # --- commands -------------------------------------------------------------------------
    def _help(self) -> bool:
        self.out(HELP.format(user=self.userid))
        return True

    def _send(self, xml: str) -> bool:
        try:
            resp = self.callbacks.send(xml)
        except requests.RequestException as exc:
            self.out(f"(webhook unreachable: {exc})")
            return True
        self._show_passive(resp)
        self.poll(self.reply_wait)
        return True

    def _show_passive(self, resp: CallbackResponse) -> None:
        if resp.status != 200:
            self.out(f"(webhook answered HTTP {resp.status}: {resp.body[:200]})")
            return
        try:
            plain = self.callbacks.decrypt_reply(resp.body)
        except Exception as exc:  # any garbage the webhook returns is shown, not fatal
            self.out(f"(undecryptable reply {resp.body[:80]!r}: {exc})")
            return
        if not plain:
            return
        root = ET.fromstring(plain)
        msgtype = root.findtext("MsgType")
        if msgtype == "text":
            self.out(f"bot> {root.findtext('Content')}")
        elif msgtype == "update_button":
            self.out(f"bot> (按钮已更新: {root.findtext('Button/ReplaceName')})")
        else:
            self.out(f"bot> (passive {msgtype} reply)")

    def _remember(self, entry: dict) -> None:
        task_id = entry.get("task_id")
        if not task_id:
            return
        view = self.cards.setdefault(task_id, {})
        view.update({k: v for k, v in entry.items() if k in ("card", "replace_name", "response_code", "body")})
        view["disabled"] = card_disabled_text(entry)

    def _latest(self, card_type: str) -> tuple[str, dict] | None:
        for task_id, view in reversed(list(self.cards.items())):
            if (view.get("card") or {}).get("card_type") == card_type and not view.get("disabled"):
                return task_id, view["card"]
        self.out(f"(no open {card_type} card)")
        return None

    def _event(self, task_id: str, card: dict, key: str, selected: dict[str, list[str]] | None) -> bool:
        try:
            code = self.api.click_code(task_id, self.userid)
        except (requests.RequestException, RuntimeError) as exc:
            self.out(f"(could not click: {exc})")
            return True
        return self._send(self.callbacks.template_card_event(
            self.userid, key, task_id, card["card_type"], code, selected))

    def _click(self, args: list[str]) -> bool:
        found = self._latest("button_interaction")
        if not found:
            return True
        task_id, card = found
        buttons = card.get("button_list") or []
        n = _index(args[0] if args else "", len(buttons))
        if n is None:
            self.out(f"(choose a button 1..{len(buttons)})")
            return True
        selected = None
        sel = card.get("button_selection")
        if sel:
            options = sel.get("option_list") or []
            s = _index(args[1], len(options)) if len(args) > 1 else None
            chosen = options[s]["id"] if s is not None else sel.get("selected_id") or (options[0]["id"] if options else "")
            selected = {sel.get("question_key", ""): [chosen]}
        return self._event(task_id, card, buttons[n].get("key", ""), selected)

    def _vote(self, args: list[str]) -> bool:
        found = self._latest("vote_interaction")
        if not found:
            return True
        task_id, card = found
        box = card.get("checkbox") or {}
        options = box.get("option_list") or []
        picks = [_index(a, len(options)) for a in args]
        if None in picks:
            self.out(f"(options are 1..{len(options)})")
            return True
        ids = [options[i]["id"] for i in picks] if picks else [o["id"] for o in options if o.get("is_checked")]
        if box.get("mode", 0) != 1 and len(ids) != 1:
            self.out("(single choice: pick exactly one option)")
            return True
        key = (card.get("submit_button") or {}).get("key", "")
        return self._event(task_id, card, key, {box.get("question_key", ""): ids})

    def _select(self, args: list[str]) -> bool:
        found = self._latest("multiple_interaction")
        if not found:
            return True
        task_id, card = found
        questions = card.get("select_list") or []
        chosen = {q.get("question_key", ""): q.get("selected_id") or ((q.get("option_list") or [{}])[0].get("id", ""))
                  for q in questions}
        for arg in args:
            q_raw, _, n_raw = arg.partition("=")
            qi = _index(q_raw, len(questions))
            if qi is None:
                qi = next((i for i, q in enumerate(questions) if q.get("question_key") == q_raw), None)
            options = (questions[qi].get("option_list") or []) if qi is not None else []
            ni = _index(n_raw, len(options))
            if qi is None or ni is None:
                self.out(f"(bad choice {arg!r}; use Q=N with Q 1..{len(questions)})")
                return True
            chosen[questions[qi].get("question_key", "")] = options[ni]["id"]
        key = (card.get("submit_button") or {}).get("key", "")
        return self._event(task_id, card, key, {q: [o] for q, o in chosen.items()})

    def _file(self, path: str) -> bool:
        path = shlex.split(path)[0] if path else ""
        if not path or not os.path.isfile(path):
            self.out(f"(no such file: {path!r})")
            return True
        name = os.path.basename(path)
        is_image = name.lower().endswith((".jpg", ".jpeg", ".png"))
        with open(path, "rb") as fh:
            data = fh.read()
        try:
            media_id = self.api.upload(name, data, "image" if is_image else "file")
        except (requests.RequestException, RuntimeError) as exc:
            self.out(f"(upload failed: {exc})")
            return True
        xml = self.callbacks.image(self.userid, media_id) if is_image else self.callbacks.file(self.userid, media_id, name)
        return self._send(xml)


def _index(raw: str, size: int) -> int | None:
    """1-based user choice -> 0-based index, or None when out of range."""
    return int(raw) - 1 if raw.isdigit() and 1 <= int(raw) <= size else None


def run_chat(userid: str, *, webhook_url: str, api_url: Any, token: str, encoding_aes_key: str, corp_id: str,
             agent_id: int | str, input: Callable[[str], str] = builtins.input,
             output: Callable[[str], Any] = print, callbacks: CallbackClient | None = None,
             reply_wait: float = 3.0, poll_interval: float = 0.2) -> None:
    """Run the terminal chat until /quit or end of input; `callbacks` overrides the webhook transport."""
    callbacks = callbacks or CallbackClient(token, encoding_aes_key, corp_id, agent_id, webhook_url, path="")
    session = ChatSession(userid, callbacks=callbacks, api=SimApi(api_url), output=output,
                          reply_wait=reply_wait, poll_interval=poll_interval)
    session.handle("/help")
    session.poll(0)
    while True:
        try:
            line = input(f"{userid}> ")
        except (EOFError, KeyboardInterrupt):
            break
        if not session.handle(line):
            break
