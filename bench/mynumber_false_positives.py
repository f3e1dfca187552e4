"""How often the My Number detector refuses ordinary text, and how many ways
of typing a number it catches.

Generates Japanese texts of the kind staff write in comments, complaints,
notices and rosters: dates in every common form, times, phone and fax
numbers (03-1234-5678, 090-1234-5678, (052)123-4567), postal codes
(〒460-0001), addresses, staff numbers, extension numbers and amounts
(1,000円), alone and several to a line. None holds a My Number on purpose,
so every text flagged is a false positive. Then counts how many of the 22
variants in tests/test_mynumber.py are caught.

    .venv/bin/python bench/mynumber_false_positives.py --texts 20000 --seed 9
"""

import argparse
import collections
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from consent.mynumber import contains_my_number  # noqa: E402
from tests.test_mynumber import VARIANTS  # noqa: E402


def digits(rng, n):
    return "".join(rng.choice("0123456789") for _ in range(n))


def date(rng):
    y, m, d = rng.randint(2020, 2030), rng.randint(1, 12), rng.randint(1, 28)
    return rng.choice(
        [
            f"{y}年{m}月{d}日",
            f"{y}/{m:02d}/{d:02d}",
            f"{y}-{m:02d}-{d:02d}",
            f"{y}.{m}.{d}",
            f"令和{y - 2018}年{m}月{d}日",
            f"R{y - 2018}.{m}.{d}",
            f"{m}/{d}",
        ]
    )


def time_of_day(rng):
    return f"{rng.randint(8, 18)}:{rng.choice(['00', '15', '30', '45'])}"


def phone(rng):
    return rng.choice(
        [
            f"03-{digits(rng, 4)}-{digits(rng, 4)}",
            f"052-{digits(rng, 3)}-{digits(rng, 4)}",
            f"0{rng.choice('789')}0-{digits(rng, 4)}-{digits(rng, 4)}",
            f"({rng.choice(['052', '06', '011'])}){digits(rng, 3)}-{digits(rng, 4)}",
            f"0120-{digits(rng, 3)}-{digits(rng, 3)}",
            f"0{digits(rng, 9)}",
        ]
    )


def postal(rng):
    return f"〒{digits(rng, 3)}-{digits(rng, 4)}"


def amount(rng):
    return f"{rng.randint(1, 9_999_999):,}"


def staff(rng):
    return rng.choice(
        [digits(rng, 6), digits(rng, 8), f"E{digits(rng, 4)}", f"{digits(rng, 2)}-{digits(rng, 5)}"]
    )


def address(rng):
    return f"名古屋市中区三の丸{rng.randint(1, 4)}-{rng.randint(1, 9)}-{rng.randint(1, 30)}"


TEMPLATES = {
    "meeting": lambda r: (
        f"{date(r)} {time_of_day(r)}〜{time_of_day(r)}、第{r.randint(1, 9)}会議室で説明会があります。"
    ),
    "contact": lambda r: f"問い合わせは人事課（電話 {phone(r)}、内線 {digits(r, 4)}）まで。",
    "letterhead": lambda r: f"{postal(r)} {address(r)}\n電話 {phone(r)}\nFAX {phone(r)}",
    "staff": lambda r: (
        f"職員番号 {staff(r)} の{r.choice(['山田', '鈴木', '佐藤'])}です。{date(r)}に異動しました。"
    ),
    "expenses": lambda r: (
        f"旅費 {amount(r)}円、宿泊費 {amount(r)}円、日当 {amount(r)}円を{date(r)}に精算しました。"
    ),
    "amount list": lambda r: ", ".join(f"{amount(r)}" for _ in range(r.randint(3, 6))) + " 円",
    "one line": lambda r: f"{date(r)} {phone(r)} {postal(r)}",
    "two phones": lambda r: f"{phone(r)} / {phone(r)}",
    "dates": lambda r: "、".join(date(r) for _ in range(r.randint(2, 5))),
    "comment": lambda r: f"{date(r)}の説明を読みました。{r.randint(2, 30)}日までに家族と相談して決めます。",
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=9)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    flagged, tried = collections.Counter(), collections.Counter()
    examples = {}
    for _ in range(args.texts):
        name = rng.choice(list(TEMPLATES))
        text = TEMPLATES[name](rng)
        tried[name] += 1
        if contains_my_number(text):
            flagged[name] += 1
            examples.setdefault(name, text)
    total = sum(flagged.values())
    print(f"ordinary texts: {args.texts}, refused (false positives): {total} ({total / args.texts:.2%})")
    for name in TEMPLATES:
        rate = flagged[name] / tried[name] if tried[name] else 0
        example = f"  e.g. {examples[name]!r}" if name in examples else ""
        print(f"  {name:12} {flagged[name]:5} / {tried[name]:5}  {rate:6.2%}{example}")
    caught = [name for name, text in VARIANTS.items() if contains_my_number(text)]
    missed = [name for name in VARIANTS if name not in caught]
    missed_note = f" (missed: {', '.join(missed)})" if missed else ""
    print(f"variants caught: {len(caught)}/{len(VARIANTS)}{missed_note}")


if __name__ == "__main__":
    main()
