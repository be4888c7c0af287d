"""Kinds of resource and their plain names."""

from __future__ import annotations

KINDS: dict[str, str] = {
    "document": "Document",
    "companion": "Companion document",
    "toolkit": "Toolkit",
    "guidance": "Guidance",
    "presentation": "Presentation",
    "webinar": "Webinar",
    "website": "Website",
    "group-page": "Working group page",
}

STATUSES: dict[str, str] = {
    "current": "Current",
    "superseded": "Superseded",
}


def kind_label(kind: str) -> str:
    return KINDS.get(kind, kind.replace("-", " ").capitalize())
