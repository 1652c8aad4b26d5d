"""Contact addresses typed by people: one parser for every form that edits them."""

from __future__ import annotations


def parse_email_list(text: str) -> tuple[list[str], list[str]]:
    """Split addresses typed with commas (half- or full-width) or newlines; return (good, bad).

    Good addresses are lower-cased and de-duplicated in their order.

    >>> parse_email_list("A@x.cn， b@y.cn\\nnot-an-address, a@x.cn")
    (['a@x.cn', 'b@y.cn'], ['not-an-address'])
    """
    parts = [p.strip() for p in text.replace("，", ",").replace("\n", ",").split(",") if p.strip()]
    good = [p.lower() for p in parts if "@" in p and " " not in p]
    bad = [p for p in parts if "@" not in p or " " in p]
    return list(dict.fromkeys(good)), bad
