"""Parsing helpers for the clients' output (glanceclient prints prettytable tables)."""

from __future__ import annotations

def table_rows(text: str) -> list[list[str]]:
    """Rows of the first table in `text` (header row included)."""
    rows = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("|") and line.endswith("|"):
            rows.append([c.strip() for c in line[1:-1].split("|")])
    return rows


def property_table(text: str) -> dict:
    """Parse a `| Property | Value |` table; wrapped values are re-joined."""
    rows = table_rows(text)
    assert rows and rows[0][:2] == ["Property", "Value"], f"no property table in:\n{text}"
    out: dict = {}
    last = None
    for row in rows[1:]:
        key, value = row[0], "|".join(row[1:])
        if key == "" and last is not None:
            out[last] += value
        else:
            out[key] = value
            last = key
    return out


def list_table(text: str) -> list[dict]:
    rows = table_rows(text)
    if not rows:
        return []
    header = rows[0]
    return [dict(zip(header, r)) for r in rows[1:]]
