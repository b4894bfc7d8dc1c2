"""Every domain error code the code can raise has its own polite template (no generic fallback)."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RAISE = re.compile(r'(?:NotAllowed|StageNotOpen|StageClosed|NotFound|AlreadyDone|InvalidInput|DomainError)'
                   r'\(\s*"([a-z_]+)"')


def test_every_raised_error_code_has_a_template():
    codes = {m.group(1) for p in [*ROOT.joinpath("workflows").rglob("*.py"), *ROOT.joinpath("bot").rglob("*.py")]
             for m in RAISE.finditer(p.read_text(encoding="utf-8"))}
    templates = {p.name.removesuffix(".md.j2") for p in ROOT.joinpath("templates/messages/errors").glob("*.md.j2")}
    assert len(codes) > 50
    assert sorted(codes - templates) == []


NOTICE = re.compile(r'(?:\.reply|notify|send_card)\(\s*(?:[^,()]+,\s*){0,2}"([a-z_]+\.[a-z_.]+)"')


def test_every_notice_kind_in_the_code_has_a_template():
    kinds = {m.group(1) for p in [*ROOT.joinpath("workflows").rglob("*.py"), *ROOT.joinpath("bot").rglob("*.py")]
             for m in NOTICE.finditer(p.read_text(encoding="utf-8"))}

    def found(kind: str) -> bool:
        path = kind.replace(".", "/")
        return any((ROOT / "templates" / f).exists()
                   for f in (f"cards/{path}.json.j2", f"messages/{path}.md.j2", f"messages/{path}.txt.j2"))
    assert len(kinds) > 80
    assert sorted(k for k in kinds if not found(k)) == []
