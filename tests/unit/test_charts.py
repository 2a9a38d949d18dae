import xml.etree.ElementTree as ET

from platform_core.charts import bar_chart, line_chart, stacked_bar_chart

NS = "{http://www.w3.org/2000/svg}"


def _parse(markup):
    return ET.fromstring(str(markup))


def test_bar_chart_scales_bars_and_describes_values():
    svg = _parse(bar_chart([("Bretagne", 100.0), ("Normandie", 50.0), ("Corse", None)], "Entrées",
                           reference=75.0, reference_label="médiane"))
    widths = [float(r.get("width")) for r in svg.iter(f"{NS}rect")]
    assert len(widths) == 2 and abs(widths[0] - 2 * widths[1]) < 0.2
    assert svg.find(f"{NS}title").text == "Entrées"
    desc = svg.find(f"{NS}desc").text
    assert "Bretagne : 100" in desc and "Corse : non calculable" in desc
    assert any(line.get("stroke-dasharray") for line in svg.iter(f"{NS}line"))


def test_text_is_escaped():
    svg = _parse(bar_chart([("<script>", 1.0)], "a & b"))
    assert svg.find(f"{NS}title").text == "a & b"


def test_stacked_and_line_charts_are_valid_svg():
    stacked = _parse(stacked_bar_chart(["A", "B"], {"Personnel": [3, 1], "Locaux": [1, 1]}, "Charges"))
    assert len(list(stacked.iter(f"{NS}rect"))) == 4 + 2  # bars + legend
    line = _parse(line_chart(["2024", "2025"], {"Entrées": [10, None], "Sorties": [5, 8]}, "Tendance"))
    assert len(list(line.iter(f"{NS}polyline"))) == 1  # a series with one point has no line


def test_each_chart_has_its_own_label_ids():
    first, second = _parse(bar_chart([("a", 1.0)], "Un")), _parse(bar_chart([("b", 2.0)], "Deux"))
    ids = {first.find(f"{NS}title").get("id"), second.find(f"{NS}title").get("id")}
    assert len(ids) == 2
    assert first.get("aria-labelledby").split()[0] == first.find(f"{NS}title").get("id")


def test_line_chart_legend_wraps_without_overlap():
    series = {f"Série {i}": [i, i + 1] for i in range(6)}
    svg = _parse(line_chart(["2024", "2025"], series, "Six séries"))
    legend = [(r.get("x"), r.get("y")) for r in svg.iter(f"{NS}rect")]
    assert len(legend) == 6 and len(set(legend)) == 6
    assert float(svg.get("height")) >= max(float(y) for _, y in legend) + 12
