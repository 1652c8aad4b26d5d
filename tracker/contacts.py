"""Contact addresses typed by people: one parser for every form and file that names them.

An address is checked strictly when it is entered, because it later becomes an email header: a
carriage return, a control character or markup in it would break (or forge) the message, and the
mail run would stall on it.

The syntax is RFC 5321's dot-atom, ASCII only, without the characters that mean something in HTML
or in a header (``<>"'&`()[],;:\\`` and spaces), and a domain of two or more labels. Intranet
domains such as ``.local`` are real addresses here (``email-validator`` refuses them as special-use
names, which is why it is not used).
"""

from __future__ import annotations

import re

__all__ = ["is_valid_address", "parse_email_list"]

_ATOM = r"[A-Za-z0-9!#$%*+/=?^_{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_ADDRESS = re.compile(rf"(?P<local>{_ATOM}(?:\.{_ATOM})*)@(?P<domain>{_LABEL}(?:\.{_LABEL})+)", re.ASCII)

_SEPARATORS = str.maketrans({"，": ",", "\n": ",", "\r": ",", ";": ",", "；": ","})


def is_valid_address(address: str) -> bool:
    """A single address in real address syntax, with no control characters and no markup.

    >>> is_valid_address("fgw@example.gov.cn"), is_valid_address("a@b\\r"), is_valid_address("<b>@x.cn")
    (True, False, False)
    """
    m = _ADDRESS.fullmatch(address)
    return m is not None and len(m["local"]) <= 64 and len(address) <= 254


def parse_email_list(text: str) -> tuple[list[str], list[str]]:
    """Split addresses typed with commas (half- or full-width), semicolons or newlines; return (good, bad).

    Good addresses are lower-cased and de-duplicated in their order.

    >>> parse_email_list("A@x.cn， b@y.cn\\nnot-an-address, a@x.cn")
    (['a@x.cn', 'b@y.cn'], ['not-an-address'])
    >>> parse_email_list("a@x.cn\\x0bb@y.cn, <script>@x.cn")
    ([], ['a@x.cn\\x0bb@y.cn', '<script>@x.cn'])
    """
    parts = [p.strip(" \t") for p in text.translate(_SEPARATORS).split(",") if p.strip(" \t")]
    good = [p.lower() for p in parts if is_valid_address(p)]
    bad = [p for p in parts if not is_valid_address(p)]
    return list(dict.fromkeys(good)), bad
