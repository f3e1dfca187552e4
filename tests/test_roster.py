"""Reading the roster CSV: encodings, headers, every problem reported, no My Number echoed."""

import hashlib

import pytest
from django.utils import translation
from hypothesis import given, settings
from hypothesis import strategies as st

from consent import roster
from consent.models import validate_employee_number
from consent.mynumber import contains_my_number
from consent.roster import SAMPLE_HEADER_JA, parse_roster

MY_NUMBER = "123456789018"
HEADER_EN = "employee_number,name,email,office_code,office_name,parent_office_code,active"
GOOD_LINES = [
    "R0001,山田 太郎,Taro@Example.jp,100,中部地方整備局,,1",
    "R0002,鈴木 花子,hanako@example.jp,200,名古屋国道事務所,100,在職",
    "R0003,佐藤 次郎,jiro@example.jp,200,名古屋国道事務所,100,退職",
]


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def csv_text(*lines, header=SAMPLE_HEADER_JA):
    return "\r\n".join([header, *lines]) + "\r\n"


def messages(parsed):
    return [error.message for error in parsed.errors]


def errors_on(parsed, line):
    return [error for error in parsed.errors if error.line == line]


def test_sample_header_names_every_column_in_japanese():
    assert SAMPLE_HEADER_JA.split(",") == [field.ja for field in roster.FIELDS]


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (csv_text(*GOOD_LINES).encode("utf-8"), "utf-8"),
        ("\ufeff".encode() + csv_text(*GOOD_LINES).encode("utf-8"), "utf-8-sig"),
        (csv_text(*GOOD_LINES).encode("cp932"), "cp932"),
    ],
    ids=["utf-8", "utf-8-bom", "cp932"],
)
def test_detects_the_encoding_and_reads_the_rows(data, encoding):
    parsed = parse_roster(data)
    assert parsed.ok, parsed.errors
    assert parsed.encoding == encoding
    assert [row.line for row in parsed.rows] == [2, 3, 4]
    first, second, third = parsed.rows
    assert first == roster.RosterRow(
        line=2,
        employee_number="R0001",
        name="山田 太郎",
        email="taro@example.jp",
        office_code="100",
        office_name="中部地方整備局",
        parent_office_code="",
        active=True,
    )
    assert second.office_name == "名古屋国道事務所" and second.parent_office_code == "100"
    assert second.active is True and third.active is False


def test_cp932_only_office_name_decodes():
    data = csv_text("R0001,山田,taro@example.jp,200,名古屋国道事務所,,1").encode("cp932")
    parsed = parse_roster(data)
    assert parsed.encoding == "cp932"
    assert parsed.rows[0].office_name == "名古屋国道事務所"


def test_explicit_encoding_is_honoured():
    data = csv_text(*GOOD_LINES).encode("cp932")
    assert parse_roster(data, "cp932").ok
    assert parse_roster(data, "shift_jis").encoding == "shift_jis"
    bom = "\ufeff".encode() + csv_text(*GOOD_LINES).encode()
    parsed = parse_roster(bom, "utf-8")
    assert parsed.ok and parsed.encoding == "utf-8-sig"


def test_explicit_wrong_encoding_is_reported_with_its_line():
    data = csv_text(*GOOD_LINES).encode("cp932")
    parsed = parse_roster(data, "utf-8")
    assert not parsed.ok and parsed.rows == ()
    assert parsed.encoding == "utf-8"
    [error] = parsed.errors
    assert error.line == 1 and "UTF-8" in error.message


def test_unsupported_encoding_is_reported():
    parsed = parse_roster(csv_text(*GOOD_LINES).encode(), "latin-1")
    assert [error.line for error in parsed.errors] == [None]
    assert "UTF-8 or Shift_JIS" in parsed.errors[0].message


def test_neither_utf8_nor_shift_jis():
    parsed = parse_roster(b"\x81\n\x82")
    assert messages(parsed) == ["The file is neither UTF-8 nor Shift_JIS."]
    assert parsed.encoding == ""


def test_english_headers_in_any_order_with_spaces():
    header = " email , EMPLOYEE_NUMBER,name,office_name,office_code "
    parsed = parse_roster(csv_text("a@example.jp,R1,山田,本局,100", header=header).encode())
    assert parsed.ok, parsed.errors
    [row] = parsed.rows
    assert (row.employee_number, row.email, row.office_code, row.parent_office_code, row.active) == (
        "R1",
        "a@example.jp",
        "100",
        "",
        True,
    )
    assert parse_roster(csv_text(*GOOD_LINES, header=HEADER_EN).encode()).ok


def test_missing_required_column():
    header = "職員番号,氏名,事務所コード,事務所名"
    parsed = parse_roster(csv_text("R1,山田,100,本局", header=header).encode())
    assert not parsed.ok and parsed.rows == ()
    [error] = parsed.errors
    assert error.line == 1
    assert error.message == "The required column メールアドレス (email) is missing."


def test_unknown_columns_are_listed():
    header = SAMPLE_HEADER_JA + ",備考, Note "
    parsed = parse_roster(csv_text(GOOD_LINES[0] + ",,", header=header).encode())
    assert messages(parsed) == ["Unknown columns: 備考, Note."]


def test_repeated_column():
    header = SAMPLE_HEADER_JA + ",employee_number"
    parsed = parse_roster(csv_text(GOOD_LINES[0] + ",R9", header=header).encode())
    [error] = parsed.errors
    assert (error.line, error.column) == (1, "employee_number")


def test_data_without_header_asks_for_one():
    parsed = parse_roster("\r\n".join(GOOD_LINES).encode())
    [error] = parsed.errors
    assert error.line == 1 and SAMPLE_HEADER_JA in error.message


def test_bad_email_and_bad_active_value():
    parsed = parse_roster(csv_text("R1,山田,not-an-email,100,本局,,maybe").encode())
    assert [(e.line, e.column, e.message) for e in parsed.errors] == [
        (2, "メールアドレス", "This is not a valid email address."),
        (2, "在職", "This must be one of: 1/0, true/false, yes/no, 在職/退職, はい/いいえ."),
    ]


@pytest.mark.parametrize("value", ["1", "TRUE", "Yes", "在職", "はい", "ｙｅｓ", ""])
def test_active_true_values(value):
    parsed = parse_roster(csv_text(f"R1,山田,a@example.jp,100,本局,,{value}").encode())
    assert parsed.rows[0].active is True


@pytest.mark.parametrize("value", ["0", "false", "NO", "退職", "いいえ"])
def test_active_false_values(value):
    parsed = parse_roster(csv_text(f"R1,山田,a@example.jp,100,本局,,{value}").encode())
    assert parsed.rows[0].active is False


def test_required_values_lengths_and_codes():
    parsed = parse_roster(
        csv_text(
            f",{'名' * 101},a@example.jp,10 0,本局,,1",
            f"R2,山田,b@example.jp,{'A' * 21},{'局' * 101},200,1",
        ).encode()
    )
    assert [(e.line, e.column) for e in parsed.errors] == [
        (2, "職員番号"),
        (2, "氏名"),
        (2, "事務所コード"),
        (3, "事務所コード"),
        (3, "事務所名"),
    ]
    assert parsed.errors[0].message == "This value is required."
    assert parsed.errors[1].message == "This is longer than 100 characters."


def test_office_name_must_agree_on_every_line():
    parsed = parse_roster(
        csv_text(
            "R1,山田,a@example.jp,200,名古屋国道事務所,,1",
            "R2,鈴木,b@example.jp,200,名古屋国道,,1",
        ).encode()
    )
    [error] = parsed.errors
    assert (error.line, error.column) == (3, "事務所名")
    assert error.message == "Line 2 gives office 200 a different name."


def test_office_parent_must_agree_on_every_line():
    parsed = parse_roster(
        csv_text(
            "R1,山田,a@example.jp,200,名古屋国道事務所,100,1",
            "R2,鈴木,b@example.jp,200,名古屋国道事務所,,1",
        ).encode()
    )
    assert [(e.line, e.column) for e in parsed.errors] == [(3, "上位事務所コード")]


def test_office_cannot_be_its_own_parent():
    parsed = parse_roster(csv_text("R1,山田,a@example.jp,200,名古屋国道事務所,200,1").encode())
    assert messages(parsed) == ["An office cannot be its own parent."]


def test_parent_cycle_is_refused_once():
    parsed = parse_roster(
        csv_text(
            "R1,山田,a@example.jp,B,乙,C,1",
            "R2,鈴木,b@example.jp,A,甲,B,1",
            "R3,佐藤,c@example.jp,C,丙,A,1",
            "R4,田中,d@example.jp,D,丁,A,1",
        ).encode()
    )
    [error] = parsed.errors
    assert (error.line, error.column) == (2, "上位事務所コード")
    assert error.message == "The parent offices form a loop: B → C → A → B."


def test_parent_outside_the_file_is_left_to_the_service():
    assert parse_roster(csv_text("R1,山田,a@example.jp,200,名古屋国道事務所,999,1").encode()).ok


def test_duplicates_name_the_first_line():
    parsed = parse_roster(
        csv_text(
            "R1,山田,a@example.jp,100,本局,,1",
            "R2,鈴木,b@example.jp,100,本局,,1",
            "R1,佐藤,B@EXAMPLE.JP,100,本局,,1",
        ).encode()
    )
    assert [(e.line, e.column, e.message) for e in parsed.errors] == [
        (4, "職員番号", "Line 2 has the same employee number."),
        (4, "メールアドレス", "Line 3 has the same email address."),
    ]
    assert [row.line for row in parsed.rows] == [2, 3]


@pytest.mark.parametrize(
    ("line", "header", "column"),
    [
        (f"R1,山田 {MY_NUMBER},a@example.jp,100,本局,,1", SAMPLE_HEADER_JA, "氏名"),
        (f"R1,山田,a@example.jp,100,本局,,1,{MY_NUMBER}", SAMPLE_HEADER_JA + ",備考", "備考"),
        ("R1,山田,a@example.jp,100,本局,,1,1234 5678 9018", SAMPLE_HEADER_JA + ",備考", "備考"),
        (f"{MY_NUMBER},山田,a@example.jp,100,本局,,1", SAMPLE_HEADER_JA, "職員番号"),
        (f"R1,山田,a@example.jp,100,本局,,1,,{MY_NUMBER}", SAMPLE_HEADER_JA + ",", None),
    ],
    ids=["name", "unknown-column", "spaced", "employee-number", "beyond-the-header"],
)
def test_a_my_number_anywhere_is_refused_and_never_repeated(line, header, column):
    parsed = parse_roster(csv_text(line, header=header).encode())
    assert not parsed.ok and parsed.rows == ()
    flagged = [e for e in parsed.errors if e.line == 2 and "My Number" in e.message]
    assert [e.column for e in flagged] == [column]
    for error in parsed.errors:
        assert "9018" not in error.message and "9018" not in (error.column or "")


def test_a_my_number_in_the_header_is_not_repeated_as_a_column_name():
    parsed = parse_roster(csv_text(GOOD_LINES[0] + ",x", header=SAMPLE_HEADER_JA + f",{MY_NUMBER}").encode())
    assert [(e.line, e.column) for e in parsed.errors] == [(1, None)]
    assert MY_NUMBER not in repr(parsed)


def test_my_number_message_is_translated():
    with translation.override("ja"):
        parsed = parse_roster(csv_text(f"R1,{MY_NUMBER},a@example.jp,100,本局,,1").encode())
    assert parsed.errors[0].message.startswith("マイナンバー")


def test_twelve_digit_employee_number_without_a_check_digit_is_accepted():
    number = "123456789012"
    assert not contains_my_number(number)
    validate_employee_number(number)
    parsed = parse_roster(csv_text(f"{number},山田,a@example.jp,100,本局,,1").encode())
    assert parsed.ok and parsed.rows[0].employee_number == number


def test_bad_employee_number_uses_the_model_rule():
    parsed = parse_roster(csv_text("R 1,山田,a@example.jp,100,本局,,1").encode())
    assert messages(parsed) == ["An employee number is 1 to 20 letters, digits or hyphens."]


def test_every_problem_is_collected_and_sorted():
    parsed = parse_roster(
        csv_text(
            "R1,山田,bad,100,本局,,1",
            GOOD_LINES[1],
            "R3,鈴木,c@example.jp,100,本局,,perhaps",
            ",佐藤,d@example.jp,100,本局,,1",
        ).encode()
    )
    assert not parsed.ok
    assert len(parsed.errors) >= 3
    assert [e.line for e in parsed.errors] == [2, 4, 5]
    assert [row.line for row in parsed.rows] == [3]


def test_line_numbers_count_blank_lines_and_multi_line_cells():
    text = csv_text(
        "",
        'R1,"山田\n太郎",a@example.jp,100,本局,,1',
        ",,,,,,",
        "R2,鈴木,bad,100,本局,,1",
    )
    parsed = parse_roster(text.encode())
    # A line break inside a name is refused (control character), at the line
    # where its record starts; the next record's line still counts both lines.
    assert [row.line for row in parsed.rows] == []
    assert [e.line for e in parsed.errors] == [3, 6]


def test_extra_values_beyond_the_header():
    parsed = parse_roster(csv_text(GOOD_LINES[0] + ",extra").encode())
    assert [(e.line, e.column) for e in parsed.errors] == [(2, None)]
    assert parse_roster(csv_text(GOOD_LINES[0] + ",,").encode()).ok


def test_value_under_a_blank_header():
    header = SAMPLE_HEADER_JA + ","
    assert parse_roster(csv_text(GOOD_LINES[0] + ",", header=header).encode()).ok
    parsed = parse_roster(csv_text(GOOD_LINES[0] + ",x", header=header).encode())
    assert messages(parsed) == ["There is a value in column 8, which has no header."]


@pytest.mark.parametrize("data", [b"", b"\xef\xbb\xbf", b"\r\n\r\n", b" , ,\n"])
def test_empty_file(data):
    parsed = parse_roster(data)
    assert messages(parsed) == ["The file is empty."]


def test_header_only():
    parsed = parse_roster(csv_text().encode())
    assert messages(parsed) == ["The file has a header but no data lines."]


def test_too_large():
    parsed = parse_roster(b"a" * (roster.MAX_BYTES + 1))
    assert messages(parsed) == ["The file is too large (at most 32 MB)."]


def test_too_many_rows(monkeypatch):
    monkeypatch.setattr(roster, "MAX_ROWS", 2)
    parsed = parse_roster(csv_text(*GOOD_LINES).encode())
    assert [(e.line, e.message) for e in parsed.errors] == [(None, "The file has more than 2 data lines.")]


def test_unreadable_csv_is_reported():
    huge = "x" * 200_000
    parsed = parse_roster(csv_text(GOOD_LINES[0], f'R2,"{huge}",b@example.jp,100,本局,,1').encode())
    assert [(e.line, e.message) for e in parsed.errors] == [
        (3, "The file is not valid CSV from this line on.")
    ]


def test_sha256_is_of_the_raw_bytes_and_stable():
    data = csv_text(*GOOD_LINES).encode("cp932")
    first, second = parse_roster(data), parse_roster(data, "cp932")
    assert first.sha256 == second.sha256 == hashlib.sha256(data).hexdigest()
    assert parse_roster(b"").sha256 == hashlib.sha256(b"").hexdigest()


def check_invariants(parsed):
    assert parsed.ok == (not parsed.errors)
    assert [e.line or 0 for e in parsed.errors] == sorted(e.line or 0 for e in parsed.errors)
    for error in parsed.errors:
        assert isinstance(error.message, str) and error.message
    for row in parsed.rows:
        assert row.email == row.email.lower()


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000), st.sampled_from([None, "utf-8", "cp932", "shift_jis", "utf-8-sig"]))
def test_never_raises_for_any_bytes(data, encoding):
    check_invariants(parse_roster(data, encoding))


def characters(codec):
    # CP932 reads these back as their full-width look-alikes; what the parser is given still decodes.
    return st.characters(codec=codec, include_characters="¢£¬‖−〜")


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(["utf-8", "cp932"]).flatmap(
        lambda codec: st.tuples(st.just(codec), st.text(alphabet=characters(codec), max_size=400))
    ),
    st.booleans(),
)
def test_never_raises_for_any_text(codec_and_text, with_header):
    codec, text = codec_and_text
    if with_header:
        text = SAMPLE_HEADER_JA + "\n" + text
    parsed = parse_roster(text.encode(codec))
    check_invariants(parsed)


cell = st.one_of(
    st.text(max_size=15),
    st.sampled_from(["R1", "100", "a@example.jp", "1", "退職", MY_NUMBER, "1234-5678-9018", ""]),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(cell, min_size=1, max_size=9), max_size=6))
def test_rows_of_arbitrary_cells_never_raise_nor_echo_a_my_number(lines):
    text = SAMPLE_HEADER_JA + ",備考\n" + "\n".join(",".join(cells) for cells in lines)
    parsed = parse_roster(text.encode())
    check_invariants(parsed)
    for error in parsed.errors:
        assert not contains_my_number(error.message)
    for row in parsed.rows:
        assert not any(contains_my_number(str(value)) for value in vars(row).values())


def test_control_characters_in_names_are_refused():
    parsed = parse_roster(csv_text("R1,山田\x00太郎,a@example.jp,100,本局,,1").encode())
    assert not parsed.ok and parsed.errors[0].line == 2


PNG_HEADER = b"\x89PNG\r\n\x1a\n"
NOT_CSV_TEXT = "This is not a CSV text file"


@pytest.mark.parametrize("encoding", [None, "utf-8", "cp932"])
@pytest.mark.parametrize(
    "data",
    [
        PNG_HEADER,  # decodes as CP932, and was reported as a bad header
        PNG_HEADER + b"\x00\x00\x00\rIHDR\x00\x00\x00\x01",
        b"PK\x03\x04\x14\x00\x06\x00\x08\x00",  # an .xlsx workbook
        b"\x7fELF\x02\x01\x01\x00\n" + csv_text(*GOOD_LINES).encode(),
    ],
)
def test_a_file_that_is_not_text_is_named_as_such(data, encoding):
    parsed = parse_roster(data, encoding)
    assert [error.line for error in parsed.errors] == [None] and parsed.rows == ()
    assert messages(parsed)[0].startswith(NOT_CSV_TEXT)
    with translation.override("ja"):
        message = parse_roster(data, encoding).errors[0].message
    assert message.startswith("CSV形式のテキストファイルではありません")


def test_text_with_a_nul_past_the_header_or_in_utf16_keeps_its_own_message():
    """A NUL in a cell is named with its line; UTF-16 text is an encoding to change, not binary."""
    nul_in_a_name = "R4,山田\x00太郎,d@example.jp,100,中部地方整備局,,1"
    parsed = parse_roster(csv_text(*GOOD_LINES, nul_in_a_name).encode())
    assert [error.line for error in parsed.errors] == [5]
    utf16 = parse_roster(csv_text(*GOOD_LINES).encode("utf-16"))
    assert not any(message.startswith(NOT_CSV_TEXT) for message in messages(utf16))
    assert parse_roster(csv_text(*GOOD_LINES).encode("cp932")).ok


def test_the_readme_lists_every_column_the_roster_reads():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    for field in roster.FIELDS:
        assert f"| {field.ja} | `{field.name}` | {'required' if field.required else 'optional'}" in readme
