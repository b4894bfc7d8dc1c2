"""The example values `config.example.toml` ships with: a real deployment must replace every one of them.

One list (`PLACEHOLDERS`) and one check (`found`). Two scopes:

* ``server`` — what `serve`, `sender` and `scheduler` refuse to start with: the key that signs links and the
  workbench's session cookie (the example one is public, so anyone could forge a session), and the example WeCom
  credentials (anyone could sign callbacks with the example token and AES key). `secret_key` must also be at
  least `SECRET_KEY_MIN` characters long.
* ``public`` — what `publicity start` and `call publish` refuse: contact details printed in texts the public reads.

A value counts as a placeholder when it equals the example or still carries one of `MARKERS` (an address
edited around "（示例地址，请替换）" is not real yet). The demo writes its own values (bot/commands/demo.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from .errors import InvalidInput
from .settings import Settings

Scope = Literal["server", "public"]
SECRET_KEY_MIN = 32
# Words that mark a value as an example still to be replaced.
MARKERS = ("示例", "请替换", "change-me", "replace-me")


@dataclass(frozen=True)
class Placeholder:
    """A setting whose shipped value is only an example. `key` is dotted; `[]` walks every item of a list."""

    key: str
    example: str
    scope: Scope


PLACEHOLDERS: tuple[Placeholder, ...] = (
    Placeholder("server.secret_key", "change-me-to-a-long-random-string", "server"),
    Placeholder("wecom.corp_id", "wwdemocorp000000001", "server"),
    Placeholder("wecom.secret", "demo-secret-replace-me", "server"),
    Placeholder("wecom.token", "DemoToken2018Shaoguan", "server"),
    Placeholder("wecom.encoding_aes_key", "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt", "server"),
    Placeholder("award.secretariat.phone", "0751-0000000", "public"),
    Placeholder("award.secretariat.address", "韶关市质量技术监督局 市政府质量奖评审委员会秘书处（示例地址，请替换）", "public"),
    Placeholder("award.call.contacts[].phone", "0751-8888001", "public"),
)


@dataclass(frozen=True)
class Finding:
    """One setting that must be replaced: where (`key`, list items numbered), what it holds, and why."""

    key: str
    value: str
    reason: Literal["example", "marker", "short"]

    def as_dict(self) -> dict[str, str]:
        """Template data."""
        return {"key": self.key, "value": self.value, "reason": self.reason}


def _values(node: Any, parts: list[str], path: str) -> list[tuple[str, str]]:
    """Every (dotted key, value) the dotted path reaches; `name[]` walks a list."""
    if not parts:
        return [(path, str(node))]
    head, rest = parts[0], parts[1:]
    if head.endswith("[]"):
        items = getattr(node, head[:-2])
        return [kv for i, item in enumerate(items) for kv in _values(item, rest, f"{path}{head[:-2]}[{i}].")]
    return _values(getattr(node, head), rest, f"{path}{head}" + ("." if rest else ""))


def found(settings: Settings, scope: Scope) -> list[Finding]:
    """Every setting of `scope` still holding an example value (and a short `secret_key`), in list order."""
    out: list[Finding] = []
    for p in PLACEHOLDERS:
        if p.scope != scope:
            continue
        for key, value in _values(settings, p.key.split("."), ""):
            if value == p.example:
                out.append(Finding(key, value, "example"))
            elif any(m in value.lower() for m in MARKERS):
                out.append(Finding(key, value, "marker"))
            elif key == "server.secret_key" and len(value) < SECRET_KEY_MIN:
                out.append(Finding(key, "", "short"))
    return out


def require_real_contacts(settings: Settings, *, action: str) -> None:
    """Refuse (`placeholder_contacts`, listing every one) while a public text would print an example contact."""
    findings = found(settings, "public")
    if findings:
        raise InvalidInput("placeholder_contacts", action=action, placeholders=[f.as_dict() for f in findings])
