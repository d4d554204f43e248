"""Lines in JSON text, which the json module does not keep.

A JSON manifest's messages name the line where its value starts, or for an item of a
``List`` the item's own line, as they do in YAML.
"""

from __future__ import annotations

import json
import re

_JSON_SPACE = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


def json_value_line(text: str) -> int | None:
    """The line where the JSON value in ``text`` starts; None if there is only whitespace."""
    offset = _skip(text, 0)
    if offset == len(text):
        return None
    return text.count("\n", 0, offset) + 1


def json_item_lines(text: str) -> list[int] | None:
    """Lines where the elements of a top-level object's ``items`` array start.

    Walks the top level by hand and lets ``raw_decode`` skip over each value; None if
    the text is not shaped as expected.
    """
    try:
        i = _skip(text, 0)
        if text[i] != "{":
            return None
        i = _skip(text, i + 1)
        while text[i] == '"':
            key, i = json.decoder.scanstring(text, i + 1)  # type: ignore[attr-defined]
            i = _skip(text, i)
            if text[i] != ":":
                return None
            i = _skip(text, i + 1)
            if key == "items" and text[i] == "[":
                return _element_lines(text, i)
            _, i = _DECODER.raw_decode(text, i)
            i = _skip(text, i)
            if text[i] != ",":
                return None
            i = _skip(text, i + 1)
    except (ValueError, IndexError):
        return None
    return None


def _element_lines(text: str, i: int) -> list[int]:
    """Lines where the elements of the array opening at ``text[i]`` start."""
    lines: list[int] = []
    # Counted on from the previous element: counting from the start each time made a
    # List of 10,000 items take seconds.
    line, counted = text.count("\n", 0, i) + 1, i
    i = _skip(text, i + 1)
    while text[i] != "]":
        line += text.count("\n", counted, i)
        counted = i
        lines.append(line)
        _, i = _DECODER.raw_decode(text, i)
        i = _skip(text, i)
        if text[i] == ",":
            i = _skip(text, i + 1)
    return lines


def _skip(text: str, i: int) -> int:
    """The offset of the first character from ``i`` on that is not JSON whitespace."""
    match = _JSON_SPACE.match(text, i)
    return match.end() if match else i
