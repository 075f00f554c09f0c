from __future__ import annotations

import re

from server.web.charts import WIDTH, Bar, _width, bar_chart


def test_a_bar_and_its_value_with_overdue_stay_inside_the_chart() -> None:
    bars = [Bar("芙蓉一网格", 8, "#1a73e8", extra="（逾期 12）"), Bar("未分网格", 2, "#1a73e8")]
    svg = str(bar_chart(bars, title="按网格"))
    texts = re.findall(r'<text x="([\d.]+)"[^>]*>([^<]*)</text>', svg)
    values = [(float(x), text) for x, text in texts if text[0].isdigit()]
    assert [text for _x, text in values] == ["8（逾期 12）", "2"]
    for x, text in values:
        assert x + _width(text) <= WIDTH
