"""The pure assignment strategies: who may take a case, and who gets it."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from helpdesk.routing.strategies import (
    Candidate,
    Strategy,
    choose_agent,
    choose_least_loaded,
    choose_round_robin,
    eligible,
    rotation,
    with_one_more_case,
)


def agent(agent_id: int, load: int = 0, capacity: int = 10, **fields: object) -> Candidate:
    return Candidate(agent_id=agent_id, load=load, capacity=capacity, **fields)  # type: ignore[arg-type]


def ids(candidates: list[Candidate]) -> list[int]:
    return [c.agent_id for c in candidates]


def test_only_available_agents_with_room_are_eligible() -> None:
    pool = [agent(1), agent(2, load=10), agent(3, available=False), agent(4, load=9)]
    assert ids(eligible(pool)) == [1, 4]


def test_a_needed_skill_is_a_hard_requirement() -> None:
    pool = [agent(1, skills=frozenset({"billing"})), agent(2), agent(3, load=5, capacity=5)]
    assert ids(eligible(pool, skill="billing")) == [1]
    assert eligible(pool, skill="legal") == []


def test_the_case_language_is_preferred_and_falls_back_to_anyone() -> None:
    vi = agent(1, languages=frozenset({"vi"}))
    en = agent(2, languages=frozenset({"en"}))
    both = agent(3, languages=frozenset({"vi", "en"}))
    assert ids(eligible([vi, en, both], language="vi")) == [1, 3]
    assert ids(eligible([vi, en, both], language="en")) == [2, 3]
    full_vi = agent(1, load=10, languages=frozenset({"vi"}))
    assert ids(eligible([full_vi, en], language="vi")) == [2]  # no speaker has room


def test_round_robin_goes_in_id_order_after_the_last_agent_and_wraps() -> None:
    pool = [agent(7), agent(2), agent(5)]
    assert ids(rotation(pool, None)) == [2, 5, 7]
    assert ids(rotation(pool, 5)) == [7, 2, 5]
    assert ids(rotation(pool, 9)) == [2, 5, 7]  # the last one left the team
    assert choose_round_robin(pool, 7) == agent(2)
    assert choose_round_robin([], 7) is None


def test_least_loaded_picks_the_fewest_open_cases_and_breaks_ties_in_turn() -> None:
    pool = [agent(1, load=3), agent(2, load=1), agent(3, load=1)]
    assert choose_least_loaded(pool, None) == agent(2, load=1)
    assert choose_least_loaded(pool, 2) == agent(3, load=1)
    assert choose_least_loaded([], None) is None


def test_manual_chooses_nobody_and_a_full_team_chooses_nobody() -> None:
    pool = [agent(1), agent(2)]
    assert choose_agent(Strategy.MANUAL, pool) is None
    full = [agent(1, load=2, capacity=2)]
    assert choose_agent(Strategy.ROUND_ROBIN, full) is None
    assert choose_agent(Strategy.LEAST_LOADED, full) is None


def test_choose_agent_applies_skill_and_language_before_the_strategy() -> None:
    pool = [
        agent(1, languages=frozenset({"en"}), skills=frozenset({"billing"})),
        agent(2, languages=frozenset({"vi"})),
        agent(3, languages=frozenset({"vi"}), skills=frozenset({"billing"})),
    ]
    assert choose_agent(Strategy.ROUND_ROBIN, pool, language="vi") == pool[1]
    assert choose_agent(Strategy.ROUND_ROBIN, pool, skill="billing", language="vi") == pool[2]
    assert choose_agent(Strategy.ROUND_ROBIN, pool, skill="billing", last_agent_id=3) == pool[0]


@given(
    capacities=st.lists(st.integers(min_value=0, max_value=6), min_size=1, max_size=6),
    cases=st.integers(min_value=0, max_value=40),
    strategy=st.sampled_from([Strategy.ROUND_ROBIN, Strategy.LEAST_LOADED]),
)
def test_assigning_in_sequence_never_exceeds_capacity_and_stays_balanced(
    capacities: list[int], cases: int, strategy: Strategy
) -> None:
    pool = [agent(i + 1, capacity=c) for i, c in enumerate(capacities)]
    last = None
    for _ in range(cases):
        pick = choose_agent(strategy, pool, last_agent_id=last)
        if pick is None:
            assert all(c.load >= c.capacity for c in pool)
            continue
        pool = with_one_more_case(pool, pick.agent_id)
        last = pick.agent_id
    assert all(c.load <= c.capacity for c in pool)
    assert sum(c.load for c in pool) == min(cases, sum(capacities))
    # Agents who still have room differ by at most one case.
    open_loads = [c.load for c in pool if c.load < c.capacity]
    if open_loads:
        assert max(c.load for c in pool) - min(open_loads) <= 1
