"""Reading the staff roster HR uploads as CSV: decoding and checking, nothing written.

``parse_roster`` turns the uploaded bytes into rows and a list of every
problem it found; applying the rows is ``consent.services``' job. The file
is the whole staff, so a single bad line refuses all of it: a half-imported
roster would deactivate the people on the lines that were skipped.

No cell holding something that looks like a My Number is ever repeated in a
message, nor kept in a row.
"""

import codecs
import csv
import hashlib
import io
import re
import unicodedata
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from consent.models import validate_employee_number, validate_organisation_email
from consent.mynumber import contains_my_number

# 200,000 lines of Japanese names, addresses and office names come to about 20 MB.
MAX_BYTES = 32 * 1024 * 1024
MAX_ROWS = 200_000

SAMPLE_HEADER_JA = "職員番号,氏名,メールアドレス,事務所コード,事務所名,上位事務所コード,在職"

_SUPPORTED_ENCODINGS = ("utf-8", "utf-8-sig", "cp932", "shift_jis")
# The upload form's choices; the preview and the messages name a codec with the same words.
ENCODING_CHOICES = (("utf-8", "UTF-8"), ("cp932", "Shift_JIS (CP932)"))
_ENCODING_LABELS = {**dict(ENCODING_CHOICES), "utf-8-sig": "UTF-8", "shift_jis": "Shift_JIS"}

# What images, PDFs and Excel workbooks (.xlsx is a ZIP, .xls an OLE2 file) open with.
_BINARY_SIGNATURES = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"%PDF-", b"PK\x03\x04", b"\xd0\xcf\x11\xe0")
# A control byte a header line never holds (tab and the CR of CRLF aside). Neither UTF-8 nor
# CP932 uses any of these inside a multi-byte character, so one is never part of a letter.
_BINARY_BYTE_RE = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CODE_RE = re.compile(r"[A-Za-z0-9-]{1,20}")
# Unicode's control characters (category Cc) are exactly these 65.
_CONTROL_RE = re.compile("[\x00-\x1f\x7f-\x9f]")
_NAME_LIMIT = 100
# What auth.User.email holds; Django's validator alone lets through up to 320.
_EMAIL_LIMIT = 254

_ACTIVE_VALUES = {
    "1": True,
    "0": False,
    "true": True,
    "false": False,
    "yes": True,
    "no": False,
    "在職": True,
    "退職": False,
    "はい": True,
    "いいえ": False,
}
_ACTIVE_ALLOWED = "1/0, true/false, yes/no, 在職/退職, はい/いいえ"


@dataclass(frozen=True)
class RosterRow:
    line: int  # 1-based line in the file; the header is line 1
    employee_number: str
    name: str
    email: str  # lower-cased
    office_code: str
    office_name: str
    parent_office_code: str  # "" when none
    active: bool


@dataclass(frozen=True)
class RosterError:
    line: int | None  # None for problems with the whole file
    column: str | None  # the header as written in the file
    message: str  # already translated


@dataclass(frozen=True)
class ParsedRoster:
    rows: tuple[RosterRow, ...]  # the lines that passed every check
    errors: tuple[RosterError, ...]  # sorted by line, problems with the whole file first
    encoding: str  # the codec used; "" when none could read the file
    sha256: str  # of the bytes as uploaded
    data_lines: int = 0  # records after the header, bad ones included: what the file holds

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def encoding_label(self) -> str:
        """The codec as the upload form's select names it ("UTF-8", not "utf-8")."""
        return _ENCODING_LABELS.get(self.encoding, self.encoding)


@dataclass(frozen=True)
class _Field:
    name: str
    ja: str
    required: bool


FIELDS = (
    _Field("employee_number", "職員番号", True),
    _Field("name", "氏名", True),
    _Field("email", "メールアドレス", True),
    _Field("office_code", "事務所コード", True),
    _Field("office_name", "事務所名", True),
    _Field("parent_office_code", "上位事務所コード", False),
    _Field("active", "在職", False),
)
_DEFAULTS = {"parent_office_code": "", "active": True}


def _header_key(cell):
    # Excel users type headers with full-width letters or in capitals as often as not.
    return unicodedata.normalize("NFKC", cell).strip().casefold()


_FIELD_BY_HEADER = {_header_key(name): field for field in FIELDS for name in (field.ja, field.name)}


@dataclass(frozen=True)
class _Column:
    field: str | None  # None when the column is not read: unknown, repeated, blank
    label: str | None  # None when the header is blank or holds a My Number
    blank: bool = False


@dataclass(frozen=True)
class _Office:
    line: int
    name: str
    parent: str


class _Invalid(Exception):
    pass


def _my_number_message():
    return _("This looks like a My Number (12-digit individual number). Never enter one here.")


# Translated only when a line repeats a value: 100,000 lines must not cost 200,000 look-ups.
_SAME_VALUE = {
    "employee_number": lambda: _("Line %(line)d has the same employee number."),
    "email": lambda: _("Line %(line)d has the same email address."),
}


def _too_long(limit):
    return _Invalid(_("This is longer than %(limit)d characters.") % {"limit": limit})


def _clean_employee_number(value):
    try:
        validate_employee_number(value)
    except ValidationError as exc:
        raise _Invalid(" ".join(exc.messages)) from None
    return value


def _clean_name(value):
    if len(value) > _NAME_LIMIT:
        raise _too_long(_NAME_LIMIT)
    # Control characters (NUL above all) have no place in a name, and the
    # database would refuse them only after the preview said yes.
    if _CONTROL_RE.search(value):
        raise _Invalid(_("This contains control characters."))
    return value


def _clean_email(value):
    if len(value) > _EMAIL_LIMIT:
        raise _too_long(_EMAIL_LIMIT)
    try:
        validate_email(value)
    except ValidationError:
        raise _Invalid(_("This is not a valid email address.")) from None
    try:
        validate_organisation_email(value)
    except ValidationError as exc:
        raise _Invalid(" ".join(exc.messages)) from None
    return value.lower()


def _clean_code(value):
    if not _CODE_RE.fullmatch(value):
        raise _Invalid(_("An office code is 1 to 20 letters, digits or hyphens."))
    return value


def _clean_active(value):
    try:
        return _ACTIVE_VALUES[unicodedata.normalize("NFKC", value).casefold()]
    except KeyError:
        raise _Invalid(_("This must be one of: %(allowed)s.") % {"allowed": _ACTIVE_ALLOWED}) from None


_CLEANERS = {
    "employee_number": _clean_employee_number,
    "name": _clean_name,
    "email": _clean_email,
    "office_code": _clean_code,
    "office_name": _clean_name,
    "parent_office_code": _clean_code,
    "active": _clean_active,
}


def _not_text(data):
    """Whether the upload is an image, a workbook or another file that is not CSV text: it opens
    with such a file's signature, or its first line, where the header is, holds a control byte.
    A NUL further down is a bad cell, named with its line. UTF-16 text (a NUL beside each
    ASCII letter) is left to the message about the encoding."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return False
    first_line = data[:4096].split(b"\n", 1)[0]
    return data.startswith(_BINARY_SIGNATURES) or _BINARY_BYTE_RE.search(first_line) is not None


def _decode(data, encoding):
    """The text, the codec used and the problem, if any."""
    if encoding is None:
        if data.startswith(codecs.BOM_UTF8):
            return _decode_as(data, "utf-8-sig")
        for candidate in ("utf-8", "cp932"):
            try:
                return data.decode(candidate), candidate, None
            except UnicodeDecodeError:
                pass
        return None, "", RosterError(None, None, _("The file is neither UTF-8 nor Shift_JIS."))
    try:
        codec = codecs.lookup(encoding).name
    except LookupError:
        codec = None
    if codec not in _SUPPORTED_ENCODINGS:
        message = _("This encoding is not supported; choose UTF-8 or Shift_JIS.")
        return None, "", RosterError(None, None, message)
    # A BOM read as plain UTF-8 would glue U+FEFF onto the first header.
    if codec == "utf-8" and data.startswith(codecs.BOM_UTF8):
        codec = "utf-8-sig"
    return _decode_as(data, codec)


def _decode_as(data, codec):
    try:
        return data.decode(codec), codec, None
    except UnicodeDecodeError as exc:
        # No CP932 or UTF-8 multi-byte sequence contains the byte 0x0A, so counting them is safe.
        line = data.count(b"\n", 0, exc.start) + 1
        message = _("The file is not valid %(encoding)s from this line on; check the encoding.") % {
            "encoding": _ENCODING_LABELS[codec]
        }
        return None, codec, RosterError(line, None, message)


class _Reader:
    def __init__(self):
        self.errors = []
        self.rows = []
        self.unreadable = False
        self.columns = []
        self.labels = {}  # field name -> header as written
        self.complete = False  # every required column is there
        self.number_lines = {}
        self.email_lines = {}
        self.offices = {}  # code -> _Office, as its first line has it
        self.data_lines = 0

    def error(self, line, column, message):
        self.errors.append(RosterError(line, column, message))

    def records(self, text):
        """(first line, cells) of each record with something in it."""
        reader = csv.reader(io.StringIO(text, newline=""))
        end = 0
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error:
                self.unreadable = True
                self.error(end + 1, None, _("The file is not valid CSV from this line on."))
                return
            # A quoted cell may span lines; the record is where it starts.
            start, end = end + 1, reader.line_num
            # Excel writes ",,,,," for rows that were only formatted.
            if any(cell.strip() for cell in cells):
                yield start, cells

    def read(self, text):
        records = self.records(text)
        first = next(records, None)
        if first is None:
            if not self.unreadable:
                self.error(None, None, _("The file is empty."))
            return
        self.read_header(*first)
        count = 0
        for line, cells in records:
            count += 1
            self.data_lines = count
            if count > MAX_ROWS:
                message = _("The file has more than %(limit)d data lines.") % {"limit": MAX_ROWS}
                self.error(None, None, message)
                return
            self.read_row(line, cells)
        if count == 0 and not self.unreadable:
            self.error(None, None, _("The file has a header but no data lines."))
        self.check_parents()

    def read_header(self, line, cells):
        unknown = []
        for cell in cells:
            label = cell.strip()
            if contains_my_number(cell):
                self.error(line, None, _my_number_message())
                self.columns.append(_Column(None, None))
                continue
            if not label:
                self.columns.append(_Column(None, None, blank=True))
                continue
            field = _FIELD_BY_HEADER.get(_header_key(label))
            if field is None:
                unknown.append(label)
                self.columns.append(_Column(None, label))
            elif field.name in self.labels:
                message = _("The column %(column)s appears more than once.") % {"column": label}
                self.error(line, label, message)
                self.columns.append(_Column(None, label))
            else:
                self.labels[field.name] = label
                self.columns.append(_Column(field.name, label))
        if not self.labels:
            # Listing every cell as unknown would only confuse when the header row is simply missing.
            message = _("The first line must be the column headers, for example: %(sample)s")
            self.error(line, None, message % {"sample": SAMPLE_HEADER_JA})
            # That line was most likely data, whose empty cells say nothing about the columns.
            self.columns = [_Column(None, column.label) for column in self.columns]
            return
        if unknown:
            self.error(line, None, _("Unknown columns: %(columns)s.") % {"columns": ", ".join(unknown)})
        missing = [field for field in FIELDS if field.required and field.name not in self.labels]
        for field in missing:
            message = _("The required column %(column)s is missing.")
            self.error(line, None, message % {"column": f"{field.ja} ({field.name})"})
        self.complete = not missing

    def read_row(self, line, cells):
        before = len(self.errors)
        values = {}
        extra = False
        for position, cell in enumerate(cells):
            column = self.columns[position] if position < len(self.columns) else _Column(None, None)
            if contains_my_number(cell):
                self.error(line, column.label, _my_number_message())
                if column.field:
                    values[column.field] = None
            elif position >= len(self.columns):
                extra = extra or bool(cell.strip())
            elif column.field:
                values[column.field] = cell.strip()
            elif column.blank and cell.strip():
                message = _("There is a value in column %(position)d, which has no header.")
                self.error(line, None, message % {"position": position + 1})
        if extra:
            self.error(line, None, _("This line has more values than the header has columns."))
        cleaned = self.clean_fields(line, values)
        self.check_across_lines(line, cleaned)
        if self.complete and len(self.errors) == before:
            self.rows.append(RosterRow(line=line, **cleaned))

    def clean_fields(self, line, values):
        cleaned = {}
        for field in FIELDS:
            if field.name not in self.labels:
                if field.name in _DEFAULTS:
                    cleaned[field.name] = _DEFAULTS[field.name]
                continue
            # A short line leaves its last cells empty, as Excel does with trailing blanks.
            value = values.get(field.name, "")
            if value is None:
                continue
            column = self.labels[field.name]
            if not value:
                if field.required:
                    self.error(line, column, _("This value is required."))
                else:
                    cleaned[field.name] = _DEFAULTS[field.name]
                continue
            try:
                cleaned[field.name] = _CLEANERS[field.name](value)
            except _Invalid as exc:
                self.error(line, column, str(exc))
        code, parent = cleaned.get("office_code"), cleaned.get("parent_office_code")
        if code and parent == code:
            self.error(line, self.labels["parent_office_code"], _("An office cannot be its own parent."))
            del cleaned["parent_office_code"]
        return cleaned

    def check_across_lines(self, line, cleaned):
        for field, seen in (("employee_number", self.number_lines), ("email", self.email_lines)):
            if field in cleaned:
                first = seen.setdefault(cleaned[field], line)
                if first != line:
                    self.error(line, self.labels[field], _SAME_VALUE[field]() % {"line": first})
        if not {"office_code", "office_name", "parent_office_code"} <= cleaned.keys():
            return
        code = cleaned["office_code"]
        office = self.offices.setdefault(
            code, _Office(line, cleaned["office_name"], cleaned["parent_office_code"])
        )
        if office.name != cleaned["office_name"]:
            message = _("Line %(line)d gives office %(code)s a different name.")
            self.error(line, self.labels["office_name"], message % {"line": office.line, "code": code})
        if office.parent != cleaned["parent_office_code"]:
            message = _("Line %(line)d gives office %(code)s a different parent office.")
            column = self.labels.get("parent_office_code")
            self.error(line, column, message % {"line": office.line, "code": code})

    def check_parents(self):
        parents = {code: office.parent for code, office in self.offices.items() if office.parent}
        walked_from = {}
        for start in parents:
            path = []
            code = start
            while code in parents and code not in walked_from:
                walked_from[code] = start
                path.append(code)
                code = parents[code]
            if walked_from.get(code) != start:
                continue
            loop = path[path.index(code) :]
            first = min(range(len(loop)), key=lambda i: self.offices[loop[i]].line)
            loop = loop[first:] + loop[:first]
            message = _("The parent offices form a loop: %(codes)s.") % {
                "codes": " → ".join([*loop, loop[0]])
            }
            self.error(self.offices[loop[0]].line, self.labels["parent_office_code"], message)


def parse_roster(data: bytes, encoding: str | None = None) -> ParsedRoster:
    """Decode and check a roster CSV; never raises for what is in the file.

    ``encoding`` None detects: a UTF-8 BOM, else strict UTF-8, else CP932
    (what Japanese Excel writes for "CSV (comma delimited)").
    """
    sha256 = hashlib.sha256(data).hexdigest()
    if not data:
        return ParsedRoster((), (RosterError(None, None, _("The file is empty.")),), encoding or "", sha256)
    if len(data) > MAX_BYTES:
        message = _("The file is too large (at most %(limit)d MB).") % {"limit": MAX_BYTES // (1024 * 1024)}
        return ParsedRoster((), (RosterError(None, None, message),), encoding or "", sha256)
    if _not_text(data):
        message = _(
            "This is not a CSV text file (it looks like an image, a workbook or another kind of file). "
            "In Excel, save the roster as 'CSV UTF-8' or 'CSV (comma delimited)' and upload that file."
        )
        return ParsedRoster((), (RosterError(None, None, message),), "", sha256)
    text, used, problem = _decode(data, encoding)
    if problem:
        return ParsedRoster((), (problem,), used, sha256)
    reader = _Reader()
    reader.read(text)
    errors = sorted(reader.errors, key=lambda error: error.line or 0)
    return ParsedRoster(tuple(reader.rows), tuple(errors), used, sha256, reader.data_lines)
