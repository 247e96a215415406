"""GSM 03.38 (GSM-7) rules: what fits in one SMS segment, and how to make any text fit the alphabet.

One character outside GSM-7 (an emoji, "ê", "ç") turns the whole SMS into UCS-2 at 70 characters
per segment; OVH bills per segment. So alerts are written in GSM-7 only.

A text longer than one segment is sent as linked parts, each carrying a 6-byte header that takes 7
GSM-7 units (3 UCS-2 characters): two parts hold 306 units, not 320.
"""

import re
import unicodedata

GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
) - {"\x1b"}
GSM7_EXTENSION = set("^{}\\[]~|€")  # each costs two units (escape + char)
SEGMENT_UNITS = 160  # one GSM-7 SMS
LINKED_PART_UNITS = 153  # each part of a linked GSM-7 SMS
UCS2_SEGMENT_UNITS = 70
UCS2_LINKED_PART_UNITS = 67

# Common non-GSM characters with a readable GSM-7 stand-in; the rest falls back to the
# character's unaccented base letter, or is dropped.
_REPLACEMENTS = {
    "’": "'",
    "‘": "'",
    "“": '"',
    "”": '"',
    "«": '"',
    "»": '"',
    "–": "-",
    "—": "-",
    "…": "...",
    "\u00a0": " ",
    "\u202f": " ",
    "\t": " ",
    "œ": "oe",
    "Œ": "OE",
    "ç": "c",
    "í": "i",
    "á": "a",
    "ó": "o",
    "ú": "u",
    "ý": "y",
    "È": "E",
    "Ê": "E",
    "Ë": "E",
    "À": "A",
    "Â": "A",
    "Î": "I",
    "Ï": "I",
    "Ô": "O",
    "Û": "U",
    "Ù": "U",
}


def gsm7_units(text: str) -> int:
    return sum(2 if ch in GSM7_EXTENSION else 1 for ch in text)


def segment_budget(segments: int, *, ucs2: bool = False) -> int:
    """Units that `segments` parts carry as operators count them: one part 160 (UCS-2: 70), N linked
    parts 153 (67) each."""
    if segments <= 1:
        return UCS2_SEGMENT_UNITS if ucs2 else SEGMENT_UNITS
    return segments * (UCS2_LINKED_PART_UNITS if ucs2 else LINKED_PART_UNITS)


def gsm7_segments(text: str) -> int:
    """Parts an operator sends (and bills) for this GSM-7 text: one up to 160 units, else linked parts
    of 153 units, where an escaped character (two units) is never split between two parts."""
    if gsm7_units(text) <= SEGMENT_UNITS:
        return 1
    parts, used = 1, 0
    for ch in text:
        cost = 2 if ch in GSM7_EXTENSION else 1
        if used + cost > LINKED_PART_UNITS:
            parts, used = parts + 1, 0
        used += cost
    return parts


def is_gsm7(text: str) -> bool:
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text)


def to_gsm7(text: str) -> str:
    # French quotes keep their inner spaces on a page; in an SMS « Réserver audit » reads "Réserver audit".
    text = re.sub(r"«\s*", "«", re.sub(r"\s*»", "»", text))
    out = []
    for ch in text:
        if ch in GSM7_BASIC or ch in GSM7_EXTENSION:
            out.append(ch)
            continue
        if ch in _REPLACEMENTS:
            out.append(_REPLACEMENTS[ch])
            continue
        base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
        if base and all(c in GSM7_BASIC for c in base):
            out.append(base)
        # anything else (emoji, CJK, control characters) is dropped
    # One line: SMS alerts are read on a lock screen.
    return " ".join("".join(out).split())


def truncate_units(text: str, units: int) -> str:
    """Longest prefix of text that costs at most `units`, cut at a word boundary when one is near."""
    if gsm7_units(text) <= units:
        return text
    if units <= 0:
        return ""
    kept, used = [], 0
    for ch in text:
        cost = 2 if ch in GSM7_EXTENSION else 1
        if used + cost > units:
            break
        kept.append(ch)
        used += cost
    cut = "".join(kept)
    space = cut.rfind(" ")
    if space >= len(cut) // 2:  # drop the half-word rather than leave "tardives l"
        cut = cut[:space]
    return cut.rstrip(" ,;:.-")


def truncate_to_segments(text: str, segments: int) -> str:
    """`truncate_units` to what `segments` parts carry, a unit shorter per escaped character that
    would straddle two linked parts."""
    units = segment_budget(segments)
    cut = truncate_units(text, units)
    while gsm7_segments(cut) > max(segments, 1):
        units -= 1
        cut = truncate_units(text, units)
    return cut
