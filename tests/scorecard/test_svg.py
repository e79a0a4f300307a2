"""The hand-written SVG charts are well-formed, deterministic and show what they are given."""

from __future__ import annotations

from xml.etree import ElementTree

from bzdata.scorecard import svg

NS = {"s": "http://www.w3.org/2000/svg"}


def test_bar_chart_has_one_bar_per_scored_item():
    bars = [svg.Bar("市公安局", 87.5, "↑2"), svg.Bar("市卫健委", None), svg.Bar("市统计局", 100)]
    text = svg.bar_chart("排名", bars)
    root = ElementTree.fromstring(text)
    rects = root.findall("s:rect", NS)
    assert len(rects) == 1 + 2  # background + two scored bars
    widths = [float(r.get("width")) for r in rects[1:]]
    assert widths[0] < widths[1]  # 87.5 is shorter than 100
    labels = "".join(t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text"))
    assert "市卫健委" in labels and "不参评" in labels and "87.50  ↑2" in labels
    assert svg.size_of(text) == (int(root.get("width")), int(root.get("height")))
    assert svg.bar_chart("排名", bars) == text


def test_line_chart_breaks_lines_at_missing_months():
    series = [svg.Series("综合", [80, None, 90, 95]), svg.Series("整改", [None, 50, 60, 70])]
    root = ElementTree.fromstring(svg.line_chart("趋势", ["01", "02", "03", "04"], series))
    lines = root.findall("s:polyline", NS)
    # 综合: a lone point, then a run of two; 整改: one run of three
    assert sorted(len(p.get("points").split()) for p in lines) == [2, 3]
    assert len(root.findall("s:circle", NS)) == 6
    legend = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "综合" in legend and "整改" in legend and "04" in legend


def test_text_is_escaped():
    text = svg.bar_chart("A<B>&C", [svg.Bar("x<y", 1.0)])
    ElementTree.fromstring(text)
    assert "A&lt;B&gt;&amp;C" in text
