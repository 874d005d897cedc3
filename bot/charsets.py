"""Bytes of a page or file to text, as browsers decide its charset: BOM, header, <meta>, UTF-8, detector.

Apart from bot.fetch so that reading a local file (`briefbot brief page.html`) doesn't import the HTTP client.
"""

from __future__ import annotations

import codecs
import re

import charset_normalizer
from charset_normalizer import CharsetMatch

PRESCAN_BYTES = 4096  # <meta charset> must sit early in <head>; browsers scan the first 1024 bytes
DETECT_SAMPLE_BYTES = 200_000
_META_CHARSET = re.compile(rb"""<meta[^>]+?charset\s*=\s*["']?\s*([A-Za-z0-9_:.\-]+)""", re.IGNORECASE)
_XML_ENCODING = re.compile(rb"""^<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_:.\-]+)""", re.IGNORECASE)
# Browsers decode these labels with a superset codec; pages labelled latin-1 routinely contain cp1252 quotes.
_SUPERSETS = {"iso8859-1": "cp1252", "ascii": "cp1252", "gb2312": "gb18030", "gbk": "gb18030"}
# The WHATWG Encoding Standard's legacy encodings: DOS code pages such as cp852 win detector ties otherwise.
WEB_ENCODINGS = [
    *(f"cp{n}" for n in range(1250, 1259)),
    *(f"iso8859_{n}" for n in (2, 3, 4, 5, 6, 7, 8, 10, 13, 14, 15, 16)),
    *("koi8_r", "koi8_u", "mac_cyrillic", "cp866", "cp874"),
    *("shift_jis", "euc_jp", "iso2022_jp", "gb18030", "big5", "euc_kr"),
]


def decode_body(body: bytes, header_charset: str | None, content_type: str) -> tuple[str, str]:
    """Decode with the first charset that works: BOM, header, <meta>/XML declaration, UTF-8, detector.

    A declared charset that fails strict decoding is skipped (sites mislabel cp1252 as UTF-8 and back);
    if nothing decodes cleanly the detector's or finally cp1252's best effort wins, with replacements.
    """
    if bom_codec := _bom_codec(body):
        return body.decode(bom_codec, errors="replace"), bom_codec
    candidates = [header_charset]
    if content_type != "text/plain":
        candidates.append(declared_in_markup(body[:PRESCAN_BYTES]))
    candidates.append("utf-8")
    for codec in dict.fromkeys(map(normalize_charset, candidates)):  # in order, each tried once
        if codec is None:
            continue
        try:
            return body.decode(codec), codec
        except UnicodeDecodeError:
            continue
    return _detect_and_decode(body)


def _bom_codec(body: bytes) -> str | None:
    if body.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if body.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    return None


def declared_in_markup(head: bytes) -> str | None:
    """The charset named by `<meta charset>`, `<meta http-equiv content="...; charset=...">` or `<?xml`."""
    match = _XML_ENCODING.match(head.lstrip()) or _META_CHARSET.search(head)
    return match.group(1).decode("ascii") if match else None


def normalize_charset(name: str | None) -> str | None:
    """Python's codec for a charset label, widened the way browsers widen it; None if unknown."""
    if not name:
        return None
    try:
        codec = codecs.lookup(name.strip().strip("\"'")).name
    except LookupError:
        return None
    if codec.startswith("utf-16"):  # a UTF-16 label in an ASCII-readable <meta> is wrong (HTML spec: UTF-8)
        return "utf-8"
    return _SUPERSETS.get(codec, codec)


def _detect_and_decode(body: bytes) -> tuple[str, str]:
    codec = normalize_charset(detect_charset(body)) or "cp1252"
    return body.decode(codec, errors="replace"), codec


def detect_charset(body: bytes) -> str | None:
    """Guess an undeclared charset from a sample, among the encodings web pages actually use.

    The sample keeps the cost bounded (the detector took ~0.8 s on 5 MB) and ends at a newline so a
    multi-byte character is not cut. cp1252, what browsers assume for undeclared Western pages, wins
    unless the detector finds something clearly better: on English text it otherwise picked cp1250
    (which reads "£" as "Ł") and, on 300 bytes, big5.
    """
    cut = body.rfind(b"\n", 0, DETECT_SAMPLE_BYTES) + 1 if len(body) > DETECT_SAMPLE_BYTES else len(body)
    sample = body[: cut or DETECT_SAMPLE_BYTES]
    best = charset_normalizer.from_bytes(sample, cp_isolation=WEB_ENCODINGS).best()
    western = charset_normalizer.from_bytes(sample, cp_isolation=["cp1252"]).best()
    if western is not None and (best is None or _as_good(western, best)):
        return "cp1252"
    return best.encoding if best is not None else None


def _as_good(candidate: CharsetMatch, best: CharsetMatch) -> bool:
    # The tolerances charset_normalizer itself uses when it ranks two matches as equally likely.
    return candidate.chaos <= best.chaos + 0.01 and candidate.coherence >= best.coherence - 0.02
