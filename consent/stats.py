"""How the figures HR sees are protected: small numbers are hidden, and so is whatever would give them away.

HR may see how many staff gave each answer, office by office, but must never be able to tell who opted out
or has not decided yet. HR already knows how many people work in each office and who opted in (it
processes their cards), so those two numbers count as known, even where the page hides them.

1. Small numbers are hidden. A number about fewer than k people (k = 5 unless set otherwise) is not
   shown, and that includes 0: "nobody here opted out", put next to other figures, can give a person
   away. An office of fewer than k people shows no numbers at all.
2. A hidden number cannot be worked out from the numbers that are shown.
   - In one row: headcount minus opt-ins is known, so "opted out", "not decided yet" and "no answer" add
     up to a known number. If one of the three is hidden, all three are hidden.
   - Between rows: an office's figures include its sub-offices, and the organisation's figures add up
     its top-level offices. The staff who belong directly to an office that has sub-offices never get a
     row of their own, but their numbers could be found by subtraction, so they are protected as if they
     had one. Whenever a hidden number could still be found by adding and subtracting what is shown (or
     because no count can be below zero), more rows are hidden: the smallest office rows that stop the
     calculation, so a neighbouring office before the larger office above, and the office above only when
     nothing else works. This repeats until no hidden number can be found.
3. Offices are listed in their own order; the figures never rank offices.

For developers: `suppress` is the only place this rule lives. Build one `Unit` per office with the counts
of its direct staff (not its sub-offices), call `suppress(units, k)` and show the returned `Figure`s as
they are (``None`` = hidden). The organisation-wide row is under the key `ORGANISATION`.

The check in step 2 is exact. The counts of one answer form a flow from the organisation down the office
tree to each office's direct staff, and each office's direct staff are split over the three answers into
a known number. A figure shown fixes the flow on its arc; a hidden figure, or direct staff, leaves it
free. The reader can change a hidden number, keeping everything they know true, exactly when its arc lies
on a cycle of the residual graph (arcs that can still grow, and reverse arcs where the count can still
shrink). Where no such cycle exists, the cheapest path that would close one is found, counting a shown
row as costing its number of people not opted in, and every shown row on that path is hidden.

Figures are released, not live
------------------------------

HR does not see today's numbers. A command publishes the figures at fixed times (once a day unless set
otherwise); HR cannot ask for a publication. Each publication is one table, protected as above, and the
rule below decides what it may count, so that comparing it with any earlier one gives nobody away.

4. Nothing moves because of a few people. A change is a person's answer or office changing, or the person
   leaving or joining the staff (a roster upload is a change like any other). A change is published only
   together with at least k - 1 others that are exactly the same: same office and answer before, same
   office and answer after. Until then the person is counted as they were last published. A person who
   changes back before that never shows at all.
5. Why that is enough: whatever HR adds or subtracts, within one table or between any two, a difference
   between two publications is made of whole groups of at least k people who did the very same thing, so
   nothing in it tells one of them from the others. And each table on its own is a true count of the
   staff as published, so step 2 protects it.
6. Offices moved in the tree. Moving an office under another parent moves all of its staff out of one
   group's figures and into another's, so the old parent's figures minus the new ones would show the moved
   office's row. An office therefore keeps its published parent until its own row is shown in full (or it
   has nobody in it, or everyone in it opted in, when the hidden zeros are known anyway).

What remains. These are exact counts about groups of at least k people. An insider who already knows the
answers of everyone else in a group learns the last person's answer from any exact count, and if HR moves
k people at once (a roster upload) and they all gave the same answer, the next publication shows that they
all did. Closing this gap needs noise added to every figure (differential privacy), the step after this
one.

For developers: `release` is the only place rules 4 to 6 live. Give it the previous `Release` (or None
before the first), every active person's ``(office key, category)`` and every office's parent; store what
it returns and show its `figures`.
"""

import heapq
import itertools
import math
from collections import defaultdict, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

CATEGORIES = ("opt_in", "opt_out", "undecided", "unanswered")
# Everything but opt_in: HR may never learn these about a person.
PROTECTED = ("opt_out", "undecided", "unanswered")
ORGANISATION = "__all__"
DEFAULT_K = 5


@dataclass(frozen=True)
class Unit:
    """One office's direct staff (not its sub-offices), counted per category."""

    key: str
    parent: str | None
    counts: Mapping[str, int]


@dataclass(frozen=True)
class Figure:
    """What a page may show for one group; ``None`` means hidden."""

    key: str
    total: int | None
    counts: Mapping[str, int | None]

    def rate(self, category: str) -> float | None:
        count = self.counts[category]
        if count is None or not self.total:
            return None
        return count / self.total


def suppress(units: Iterable[Unit], k: int = DEFAULT_K) -> dict[str, Figure]:
    """Figures for the organisation (key `ORGANISATION`) and every office, rolled up and protected."""
    if k < 1:
        raise ValueError("k must be at least 1")
    direct, children = _tree(units)
    rolled = _rolled_up(direct, children)
    hidden = _primary(rolled, k)
    _secondary(direct, children, rolled, hidden, k)
    return {key: _figure(key, counts, hidden, k) for key, counts in rolled.items()}


def _tree(units):
    direct, parents = {}, {}
    for unit in units:
        if unit.key == ORGANISATION or unit.key in direct:
            raise ValueError(f"office key {unit.key!r} is reserved or repeated")
        if set(unit.counts) != set(CATEGORIES) or any(
            not isinstance(n, int) or n < 0 for n in unit.counts.values()
        ):
            raise ValueError(f"office {unit.key!r} needs a count >= 0 for each of {CATEGORIES}")
        direct[unit.key] = dict(unit.counts)
        parents[unit.key] = ORGANISATION if unit.parent is None else unit.parent
    children = {ORGANISATION: [], **{key: [] for key in direct}}
    for key in sorted(direct):
        if parents[key] not in children:
            raise ValueError(f"office {key!r} has an unknown parent {parents[key]!r}")
        children[parents[key]].append(key)
    return direct, children


def _rolled_up(direct, children):
    order = [ORGANISATION]
    for key in order:
        order.extend(children[key])
    if len(order) != len(children):
        raise ValueError("the offices' parents form a cycle")
    rolled = {}
    for key in reversed(order):
        counts = dict(direct.get(key, dict.fromkeys(CATEGORIES, 0)))
        for child in children[key]:
            for category in CATEGORIES:
                counts[category] += rolled[child][category]
        rolled[key] = counts
    return rolled


def _primary(rolled, k):
    # A total below k makes every count in the row below k, so the counts alone decide.
    hidden = set()
    for key, counts in rolled.items():
        hidden.update((key, category) for category in CATEGORIES if counts[category] < k)
        if any((key, category) in hidden for category in PROTECTED):
            hidden.update((key, category) for category in PROTECTED)
    return hidden


def _not_opted_in(counts):
    return sum(counts[category] for category in PROTECTED)


def _secondary(direct, children, rolled, hidden, k):
    network = _Network(direct, children, rolled)
    # Hiding a row costs the people in it whose answer becomes unknown; a parent costs at least as much as
    # each of its sub-offices, which is what makes the office above the last resort.
    row_cost = {key: _not_opted_in(counts) for key, counts in rolled.items()}
    # Where everyone opted in, the hidden zeros are public knowledge already: nothing is left to protect.
    pending = deque(
        network.tally_arcs[cell] for cell in sorted(hidden) if cell[1] in PROTECTED and row_cost[cell[0]] > 0
    )
    pending.extend(
        network.staff_arcs[key, category]
        for key in sorted(direct)
        if children[key]
        and _not_opted_in(direct[key]) > 0
        and min(direct[key][category] for category in PROTECTED) < k
        for category in PROTECTED
    )
    while pending:
        for key in network.rows_to_hide(pending.popleft(), hidden, row_cost):
            newly = [(key, category) for category in PROTECTED if (key, category) not in hidden]
            hidden.update(newly)
            pending.extend(network.tally_arcs[cell] for cell in newly)


def _figure(key, counts, hidden, k):
    total = sum(counts.values())
    shown = {category: None if (key, category) in hidden else counts[category] for category in CATEGORIES}
    return Figure(key=key, total=total if total >= k else None, counts=MappingProxyType(shown))


@dataclass(frozen=True, eq=False)
class _Arc:
    tail: tuple
    head: tuple
    flow: int
    cell: tuple[str, str] | None  # the figure this arc carries; None for direct staff, which are never shown


class _Network:
    """Per protected category, a tree of tallies from the organisation down to each office's direct staff.

    Nodes: ("source",) feeds the organisation; ("tally", key, category) is a group's count of one
    category; ("staff", key) is an office's direct staff, whose size across the categories is known.
    """

    def __init__(self, direct, children, rolled):
        self.tally_arcs = {}
        self.staff_arcs = {}
        self._exits = defaultdict(list)
        for category in PROTECTED:
            self._add(("source",), ORGANISATION, category, rolled)
            for parent in sorted(children):
                for child in children[parent]:
                    self._add(("tally", parent, category), child, category, rolled)
            for key in sorted(direct):
                arc = _Arc(("tally", key, category), ("staff", key), direct[key][category], None)
                self._link(arc)
                self.staff_arcs[key, category] = arc

    def _add(self, tail, key, category, rolled):
        arc = _Arc(tail, ("tally", key, category), rolled[key][category], (key, category))
        self._link(arc)
        self.tally_arcs[key, category] = arc

    def _link(self, arc):
        self._exits[arc.tail].append((arc, True))
        self._exits[arc.head].append((arc, False))

    def rows_to_hide(self, arc, hidden, row_cost):
        """The shown rows to hide so that the value on `arc` can change; none if it already can."""
        options = [self._cheapest_path(arc.head, arc.tail, arc, hidden, row_cost)]
        if arc.flow:
            options.append(self._cheapest_path(arc.tail, arc.head, arc, hidden, row_cost))
        _cost, path = min(options, key=lambda option: option[0])
        return sorted({step.cell[0] for step in path if step.cell is not None and step.cell not in hidden})

    def _cheapest_path(self, start, goal, skip, hidden, row_cost):
        # An unreachable goal costs infinity and loses to the other direction. One direction always
        # reaches it for the arcs `_secondary` asks about: with every row hidden, the answer of anyone
        # not opted in could be any of the three.
        best = {start: 0}
        came_by = {}
        tie = itertools.count()
        queue = [(0, next(tie), start)]
        while queue:
            spent, _tie, node = heapq.heappop(queue)
            if node == goal:
                break
            if spent > best[node]:
                continue
            for arc, forward in self._exits[node]:
                if arc is skip or not (forward or arc.flow):
                    continue
                step = 0 if arc.cell is None or arc.cell in hidden else row_cost[arc.cell[0]]
                reached = arc.head if forward else arc.tail
                if spent + step < best.get(reached, math.inf):
                    best[reached] = spent + step
                    came_by[reached] = (arc, node)
                    heapq.heappush(queue, (spent + step, next(tie), reached))
        else:
            return math.inf, []
        path = []
        while node != start:
            arc, node = came_by[node]
            path.append(arc)
        return spent, path


Person = object
State = tuple[str, str]  # (office key, category)


@dataclass(frozen=True)
class Release:
    """One publication: the figures shown, and the private state they count (never shown to HR)."""

    people: Mapping[Person, State]  # every person counted, as published
    parents: Mapping[str, str | None]  # every office's parent, as published
    figures: Mapping[str, Figure]


def release(
    previous: Release | None,
    people: Mapping[Person, State],
    parents: Mapping[str, str | None],
    k: int = DEFAULT_K,
) -> Release:
    """The next publication, from the previous one and the staff as they are now (rules 4 to 6)."""
    if previous is None:
        published, tree = dict(people), dict(parents)
        return Release(published, tree, suppress(_units(published, tree), k))
    published = dict(previous.people)
    groups = defaultdict(list)
    for person in previous.people.keys() | people.keys():
        before, after = previous.people.get(person), people.get(person)
        if before != after:
            groups[before, after].append(person)
    for (_before, after), members in groups.items():
        if len(members) >= k:
            for person in members:
                if after is None:
                    del published[person]
                else:
                    published[person] = after
    tree = {**parents, **{key: previous.parents[key] for key in previous.parents.keys() - parents.keys()}}
    moved = {key for key in previous.parents if tree[key] != previous.parents[key]}
    while True:
        units = _units(published, tree)
        try:
            figures = suppress(units, k)
        except ValueError:
            if not moved:
                raise
            # Moves that only make sense together (two offices swapping places) wait until they all can.
            tree.update({key: previous.parents[key] for key in moved})
            moved = set()
            continue
        rolled = _rolled_up(*_tree(units))
        held = {key for key in moved if not _may_move(figures[key], rolled[key])}
        if not held:
            return Release(published, tree, figures)
        tree.update({key: previous.parents[key] for key in held})
        moved -= held


def _units(people, parents):
    direct = {key: dict.fromkeys(CATEGORIES, 0) for key in parents}
    for office, category in people.values():
        direct[office][category] += 1
    return [Unit(key, parent, direct[key]) for key, parent in parents.items()]


def _may_move(figure, counts):
    if not any(counts.values()):
        return True
    if _not_opted_in(counts) == 0:
        return figure.counts["opt_in"] is not None
    return all(figure.counts[category] is not None for category in CATEGORIES)
