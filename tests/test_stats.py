"""Small-cell suppression (consent.stats): pure, no database.

The main property attacks the published figures the way HR could: with everything HR knows (each
group's headcount and opt-ins, and every figure shown) it works out every value each hidden figure could
have, and requires at least two for each.
"""

import itertools
from functools import reduce

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consent.stats import CATEGORIES, ORGANISATION, PROTECTED, Figure, Unit, suppress


def counts(opt_in, opt_out, undecided, unanswered):
    return {"opt_in": opt_in, "opt_out": opt_out, "undecided": undecided, "unanswered": unanswered}


def children_of(units):
    children = {ORGANISATION: [], **{unit.key: [] for unit in units}}
    for unit in units:
        children[unit.parent or ORGANISATION].append(unit.key)
    return children


def post_order(children, key=ORGANISATION):
    for child in children[key]:
        yield from post_order(children, child)
    yield key


def rolled_up(units):
    """The true figures of every group, added up independently of consent.stats."""
    direct = {unit.key: unit.counts for unit in units}
    children = children_of(units)
    rolled = {}
    for key in post_order(children):
        parts = [direct[key]] if key in direct else []
        parts += [rolled[child] for child in children[key]]
        rolled[key] = {category: sum(part[category] for part in parts) for category in CATEGORIES}
    return rolled


def not_opted_in(counts):
    return sum(counts[category] for category in PROTECTED)


# --- what HR can work out -------------------------------------------------------------------------
#
# Every group's total and opt-in count are known, so by subtraction so is each office's direct staff
# total and opt-in count, hence the number of its direct staff who did not opt in. An assignment gives
# each office's direct staff a split of that number over PROTECTED; it is consistent when every group's
# added-up split matches each of its figures that is shown.


def splits(people):
    return [(a, b, people - a - b) for a in range(people + 1) for b in range(people + 1 - a)]


def fits(triple, figure):
    return all(
        figure.counts[c] is None or figure.counts[c] == n for c, n in zip(PROTECTED, triple, strict=True)
    )


def plus(a, b):
    return (a[0] + b[0], a[1] + b[1], a[2] + b[2])


def add(left, right):
    return {plus(a, b) for a in left for b in right}


def total_of(parts):
    return reduce(add, parts, {(0, 0, 0)})


def possible_values(units, figures):
    """{("group" | "staff", key, category): every value it takes over all consistent assignments}.

    Exhaustive, but assignments that give a subtree the same added-up split are handled together:
    nothing outside the subtree can tell them apart. Up the tree, each subtree keeps the splits that fit
    its own figures; down the tree, each part keeps the splits that also complete its parent's.
    """
    children = children_of(units)
    people = {unit.key: not_opted_in(unit.counts) for unit in units}
    up = {}
    for key in post_order(children):
        staff = [set(splits(people[key]))] if key in people else []
        parts = staff + [up[child] for child in children[key]]
        up[key] = {triple for triple in total_of(parts) if fits(triple, figures[key])}
    feasible = {("group", ORGANISATION): up[ORGANISATION]}
    for key in reversed(list(post_order(children))):
        parts = {("group", child): up[child] for child in children[key]}
        if key in people:
            parts["staff", key] = set(splits(people[key]))
        whole = feasible["group", key]
        for name, part in parts.items():
            rest = total_of(p for n, p in parts.items() if n != name)
            feasible[name] = {t for t in part if any(plus(t, r) in whole for r in rest)}
    return {
        (scope, key, category): {triple[i] for triple in triples}
        for (scope, key), triples in feasible.items()
        for i, category in enumerate(PROTECTED)
    }


def naive_possible_values(units, figures):
    """The same answer from every assignment, one by one; only usable for tiny offices."""
    values = {}
    choices = [splits(not_opted_in(unit.counts)) for unit in units]
    for assignment in itertools.product(*choices):
        guess = [
            Unit(
                unit.key,
                unit.parent,
                {"opt_in": unit.counts["opt_in"], **dict(zip(PROTECTED, split, strict=True))},
            )
            for unit, split in zip(units, assignment, strict=True)
        ]
        rolled = rolled_up(guess)
        if all(fits(tuple(rolled[key][c] for c in PROTECTED), figures[key]) for key in rolled):
            for key in rolled:
                for c in PROTECTED:
                    values.setdefault(("group", key, c), set()).add(rolled[key][c])
            for unit in guess:
                for c in PROTECTED:
                    values.setdefault(("staff", unit.key, c), set()).add(unit.counts[c])
    return values


@st.composite
def office_trees(draw, max_offices=4, max_count=8):
    """1 to max_offices offices, at most three levels deep (depth 0 to 2)."""
    units, depth = [], {}
    for i in range(draw(st.integers(1, max_offices))):
        parent = draw(st.sampled_from([None] + [u.key for u in units if depth[u.key] < 2]))
        key = f"o{i}"
        depth[key] = 0 if parent is None else depth[parent] + 1
        units.append(Unit(key, parent, {c: draw(st.integers(0, max_count)) for c in CATEGORIES}))
    return units


def protected_values(units, figures, k):
    """The values that must stay unknown: hidden figures, and the direct staff of offices with sub-offices
    wherever a row of their own would have been hidden."""
    rolled = rolled_up(units)
    children = children_of(units)
    for key, figure in figures.items():
        # With nobody left who did not opt in, the hidden zeros are known anyway: nothing to protect.
        if not_opted_in(rolled[key]):
            yield from (("group", key, c) for c in PROTECTED if figure.counts[c] is None)
    for unit in units:
        if children[unit.key] and not_opted_in(unit.counts) and min(unit.counts[c] for c in PROTECTED) < k:
            yield from (("staff", unit.key, c) for c in PROTECTED)


# --- hand examples --------------------------------------------------------------------------------


def test_row_with_every_count_at_least_k_is_shown_in_full():
    figures = suppress([Unit("200", None, counts(5, 6, 7, 8))])
    for key in ("200", ORGANISATION):
        assert figures[key].total == 26
        assert dict(figures[key].counts) == counts(5, 6, 7, 8)
    assert figures["200"].rate("opt_in") == 5 / 26


def test_office_of_three_people_is_fully_suppressed():
    figures = suppress([Unit("small", None, counts(1, 1, 1, 0)), Unit("big", None, counts(9, 9, 9, 9))])
    small = figures["small"]
    assert small.total is None
    assert set(small.counts.values()) == {None}
    assert small.rate("opt_in") is None
    # Otherwise the organisation row minus "big" would give "small" away.
    assert figures["big"].counts["opt_out"] is None or figures[ORGANISATION].counts["opt_out"] is None


def test_one_person_opted_out_hides_the_three_categories_but_not_headcount_or_opt_in():
    figure = suppress([Unit("200", None, counts(10, 1, 6, 7))])["200"]
    assert figure.total == 24
    assert dict(figure.counts) == {"opt_in": 10, "opt_out": None, "undecided": None, "unanswered": None}
    assert figure.rate("opt_in") == 10 / 24
    assert figure.rate("undecided") is None


def test_a_hidden_child_cannot_be_found_by_subtracting_its_sibling_from_the_parent():
    units = [
        Unit("P", None, counts(10, 0, 0, 0)),
        Unit("A", "P", counts(10, 1, 6, 7)),
        Unit("B", "P", counts(10, 8, 9, 7)),
    ]
    figures = suppress(units)
    assert figures["A"].counts["opt_out"] is None
    assert figures["P"].counts["opt_out"] is None or figures["B"].counts["opt_out"] is None
    # The smaller sibling goes before the parent.
    assert figures["B"].counts["opt_out"] is None
    assert figures["P"].counts["opt_out"] == 9
    assert len(possible_values(units, figures)["group", "A", "opt_out"]) >= 2


def test_direct_staff_of_a_parent_office_are_protected_although_never_shown():
    units = [Unit("P", None, counts(6, 1, 6, 6)), Unit("C", "P", counts(6, 9, 9, 9))]
    figures = suppress(units)
    assert figures["C"].counts["opt_out"] is None or figures["P"].counts["opt_out"] is None
    values = possible_values(units, figures)
    assert all(len(values["staff", "P", c]) >= 2 for c in PROTECTED)


def test_organisation_row_adds_up_the_top_level_offices():
    figures = suppress([Unit("A", None, counts(5, 6, 7, 8)), Unit("B", None, counts(10, 11, 12, 13))])
    organisation = figures[ORGANISATION]
    assert organisation.key == ORGANISATION
    assert organisation.total == 72
    assert dict(organisation.counts) == counts(15, 17, 19, 21)


def test_k_is_a_parameter():
    units = [Unit("200", None, counts(12, 7, 11, 14))]
    assert suppress(units)["200"].counts["opt_out"] == 7
    strict = suppress(units, k=10)["200"]
    assert strict.total == 44
    assert dict(strict.counts) == {"opt_in": 12, "opt_out": None, "undecided": None, "unanswered": None}
    assert suppress([Unit("200", None, counts(3, 2, 2, 2))], k=10)["200"].total is None


def test_rate_is_unknown_without_people():
    assert Figure("x", 0, counts(0, 0, 0, 0)).rate("opt_in") is None


@pytest.mark.parametrize(
    "units",
    [
        [Unit("A", "missing", counts(1, 1, 1, 1))],
        [Unit("A", "B", counts(1, 1, 1, 1)), Unit("B", "A", counts(1, 1, 1, 1))],
        [Unit("A", None, counts(1, 1, 1, 1)), Unit("A", None, counts(1, 1, 1, 1))],
        [Unit(ORGANISATION, None, counts(1, 1, 1, 1))],
        [Unit("A", None, {"opt_in": 1, "opt_out": -1, "undecided": 0, "unanswered": 0})],
        [Unit("A", None, {"opt_in": 1})],
    ],
)
def test_malformed_offices_are_refused(units):
    with pytest.raises(ValueError):
        suppress(units)


# --- properties -----------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(units=office_trees(), k=st.integers(2, 6))
def test_nothing_hidden_can_be_worked_out(units, k):
    figures = suppress(units, k)
    values = possible_values(units, figures)
    rolled = rolled_up(units)
    assert all(rolled[key][c] in values["group", key, c] for key in rolled for c in PROTECTED)
    for name in protected_values(units, figures, k):
        assert len(values[name]) >= 2, name


@settings(max_examples=200, deadline=None)
@given(units=office_trees(), k=st.integers(1, 6))
def test_every_shown_figure_is_exact_and_at_least_k(units, k):
    figures = suppress(units, k)
    rolled = rolled_up(units)
    assert figures.keys() == rolled.keys()
    for key, figure in figures.items():
        assert figure.total is None or figure.total == sum(rolled[key].values()) >= k
        for category, shown in figure.counts.items():
            assert shown is None or shown == rolled[key][category] >= k
        hidden = [figure.counts[c] is None for c in PROTECTED]
        assert all(hidden) or not any(hidden)
    assert suppress(reversed(units), k) == figures


@settings(max_examples=60, deadline=None)
@given(units=office_trees(max_offices=3, max_count=2), data=st.data())
def test_the_attack_agrees_with_trying_every_assignment(units, data):
    rolled = rolled_up(units)
    figures = {
        key: Figure(key, None, {c: None if data.draw(st.booleans()) else n for c, n in counts.items()})
        for key, counts in rolled.items()
    }
    assert possible_values(units, figures) == naive_possible_values(units, figures)
