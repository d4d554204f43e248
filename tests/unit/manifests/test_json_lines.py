"""kgit.manifests.json_lines: where a JSON value and the items of a List start."""

from __future__ import annotations

import json

import pytest

from kgit.manifests.json_lines import json_item_lines, json_value_line

pytestmark = pytest.mark.unit


def test_the_value_line_skips_leading_whitespace() -> None:
    assert json_value_line('\n \r\n\t{"a": 1}') == 3
    assert json_value_line("[]") == 1


def test_only_whitespace_has_no_value_line() -> None:
    assert json_value_line(" \n\t\r\n") is None
    assert json_value_line("") is None


def test_item_lines_are_where_each_element_starts() -> None:
    text = '{\n  "kind": "List",\n  "items": [\n    {"a": "[\\n]"},\n\n    3, "x",\n    []\n  ]\n}'
    assert json_item_lines(text) == [4, 6, 6, 7]


def test_item_lines_of_a_large_list_match_counting_from_the_start() -> None:
    text = json.dumps(
        {"kind": "List", "items": [{"n": n, "s": "a\nb"} for n in range(500)]}, indent=1
    )
    starts = [i for i, char in enumerate(text) if char == "{"][1:]  # the items' own
    assert json_item_lines(text) == [text.count("\n", 0, i) + 1 for i in starts]


@pytest.mark.parametrize(
    "text",
    ['["items"]', '{"items": {}}', '{"a": 1 "items": []}', '{"items": [1, ', "{", "", '{"a" 1}'],
)
def test_text_of_another_shape_has_no_item_lines(text: str) -> None:
    assert json_item_lines(text) is None
