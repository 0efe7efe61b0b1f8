"""Tests for course_utils.poem_form: well-formed regulated verse, splitting samples, the interval of a share."""
import math

import pytest

from course_utils.poem_form import (clause_count, form_share, is_well_formed, longest_well_formed, split_poems,
                                    wilson_interval)

JUEJU_5 = "床前明月光，疑是地上霜。\n举头望明月，低头思故乡。"
JUEJU_7 = "朝辞白帝彩云间，千里江陵一日还。\n两岸猿声啼不住，轻舟已过万重山。"
LUSHI_5 = "国破山河在，城春草木深。\n感时花溅泪，恨别鸟惊心。\n烽火连三月，家书抵万金。\n白头搔更短，浑欲不胜簪？"
LUSHI_7 = "\n".join(["朝辞白帝彩云间，千里江陵一日还！"] * 4)


WITH_UNKNOWN = "床前明\ufffd光，疑是地上霜。\n举头望明月，低头思故乡。"     # the unknown id counts as a character


@pytest.mark.parametrize("poem", [JUEJU_5, JUEJU_7, LUSHI_5, LUSHI_7, WITH_UNKNOWN])
def test_regulated_poems_are_well_formed(poem):
    assert is_well_formed(poem)


@pytest.mark.parametrize("poem, why", [
    ("床前明月光，疑是地上霜。\n两岸猿声啼不住，轻舟已过万重山。", "5 and 7 mixed across lines"),
    ("床前明月光，千里江陵一日还。\n举头望明月，低头思故乡。", "5 and 7 mixed in one line"),
    ("床前明月光，疑是地上霜。", "2 clauses"),
    ("床前明月光，疑是地上霜。\n举头望明月，低头思故乡。\n床前明月光，疑是地上霜。", "6 clauses"),
    ("\n".join([JUEJU_5] * 3), "12 clauses (a pailü): not a regulated count here"),
    ("床前明月光疑是地上霜。\n举头望明月，低头思故乡。", "missing comma"),
    ("床前明月光，疑是地上霜\n举头望明月，低头思故乡。", "missing full stop"),
    ("床前明月光，疑是地上霜。举头望明月，低头思故乡。", "missing newline"),
    ("床前明月，疑是地上霜。\n举头望明月，低头思故乡。", "a clause of 4"),
    ("床前明月光。疑是地上霜，\n举头望明月，低头思故乡。", "punctuation swapped"),
    ("床前明月光，疑是地上霜。\n举头望明月，低头思故乡。\n", "a trailing empty line"),
    ("", "empty"),
])
def test_malformed_poems_are_rejected(poem, why):
    assert not is_well_formed(poem), why


def test_clause_count_and_longest_poem():
    assert clause_count(JUEJU_5) == 4 and clause_count(LUSHI_5) == 8
    assert clause_count("床前明月光疑是地上霜。") == 1
    assert longest_well_formed() == len(LUSHI_7) == 67


def test_split_poems_drops_the_unfinished_last_poem():
    sample = f"\n\n{JUEJU_5}\n\n{LUSHI_5}\n\n\n{JUEJU_7}\n\n床前明月光，疑是"
    assert split_poems(sample) == [JUEJU_5, LUSHI_5, JUEJU_7]
    assert split_poems(f"{JUEJU_5}\n\n") == [JUEJU_5]           # ends on a blank line: nothing unfinished
    assert split_poems(JUEJU_5) == []                            # never finished
    endless = "\n".join(["床前明月光，疑是地上霜。"] * 6)            # 77 characters, no blank line
    assert split_poems(endless) == [endless] and not is_well_formed(endless)


def test_wilson_interval():
    low, high = wilson_interval(50, 100)
    assert low == pytest.approx(0.4038, abs=1e-4) and high == pytest.approx(0.5962, abs=1e-4)
    assert wilson_interval(0, 20)[0] == 0.0 and 0 < wilson_interval(0, 20)[1] < 0.2
    for n in (1, 7, 96, 1000):                                   # the share itself is always inside
        assert wilson_interval(0, n)[0] <= 0.0 and wilson_interval(n, n)[1] >= 1.0
    assert wilson_interval(0, 0) == (0.0, 1.0)
    with pytest.raises(ValueError, match="successes"):
        wilson_interval(5, 3)


def test_form_share():
    share = form_share([JUEJU_5, LUSHI_7, "床前明月光，疑是地上霜。"])
    assert (share.n, share.well_formed) == (3, 2) and share.share == pytest.approx(2 / 3)
    assert share.low < 2 / 3 < share.high and "66.7% of 3" in str(share)
    assert math.isnan(form_share([]).share)


def test_bad_input_says_what_to_pass():
    with pytest.raises(TypeError, match="one poem"):
        is_well_formed(["床前明月光，疑是地上霜。"])
    with pytest.raises(TypeError, match="str"):
        split_poems(None)
