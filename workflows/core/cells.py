"""Cells of a spreadsheet or CSV export: what a person typed is written as text, never as a formula.

An enterprise named `=HYPERLINK("http://…","…")` (or a phone `+1…`, a reason `-…`, `@…`) would become a live
formula when the export is opened in Excel or WPS.  Every export (the admin XLSX files, the archive's CSV
tables, `scores export`) passes its text cells through `text_cell`: a text starting with one of
`= + - @`, a tab or a carriage return gets a leading apostrophe, the spreadsheet convention for "this is
text" (OWASP, CSV injection).  Numbers, dates and other non-text values pass unchanged.  The archive's JSON
tables keep the exact values.
"""
from __future__ import annotations

from typing import Any

FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")
TEXT_MARK = "'"


def text_cell(value: Any) -> Any:
    """`value`, with a leading apostrophe if it is text a spreadsheet would read as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_LEADS):
        return TEXT_MARK + value
    return value


def text_row(values: Any) -> list[Any]:
    """`text_cell` over a row."""
    return [text_cell(v) for v in values]
