"""The background operator: calendar, rosters, sessions and daily life are legitimate and believable."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import numpy as np

from jejak.simulate.calendar import Calendar
from jejak.simulate.world import build_world

from .conftest import Simulated


def test_indonesian_public_holidays_close_the_service_centres() -> None:
    cal = Calendar(date(2016, 7, 1), 14)
    assert cal.is_holiday(date(2016, 7, 6)) and cal.holiday_name(date(2016, 7, 7)) is not None
    assert not cal.is_working_day(date(2016, 7, 6)) and not cal.is_working_day(
        date(2016, 7, 10)
    )  # Eid, a Sunday
    assert cal.is_working_day(date(2016, 7, 9))  # a Saturday
    world = build_world(np.random.default_rng(1), 1000, cal)
    sc_days = {
        cal.dates[s.day] for s in world.shifts if world.outlet(s.outlet_id).kind == "service_center"
    }
    assert date(2016, 7, 6) not in sc_days and date(2016, 7, 10) not in sc_days
    assert date(2016, 7, 9) in sc_days
    cc_days = {
        cal.dates[s.day] for s in world.shifts if world.outlet(s.outlet_id).kind == "call_center"
    }
    assert cc_days == set(cal.dates), "the call centre works every day"


def test_every_session_is_its_shift_s_give_or_take_the_habits_of_real_staff() -> None:
    """A session starts at most 12 minutes before its shift (or as early as its person's
    habit), ends at most 12 minutes after it, on the agent's own terminal; a covering
    colleague's roster entry lags her start by 3-12 minutes; some dealers keep no roster."""
    cal = Calendar(date(2016, 7, 1), 21)
    world = build_world(np.random.default_rng(2), 3000, cal)
    owner: dict[str, str] = {}
    early = late = 0
    for s in world.shifts:
        habit = world.agent(s.agent_id).early_habit
        slack = max(12, habit + 3) * 60
        assert s.work_from - slack <= s.session_start < s.session_end <= s.ends_at + 12 * 60
        assert 0 <= s.starts_at - s.work_from <= 12 * 60
        early += s.session_start < s.starts_at
        late += s.session_end > s.ends_at
        assert owner.setdefault(s.device_id, s.agent_id) == s.agent_id, (
            "a terminal shared by two agents"
        )
        o = world.outlet(s.outlet_id)
        assert s.source_ip.startswith(o.prefix or "-")
    per_agent: dict[str, list[tuple[int, int]]] = {}
    for s in world.shifts:
        per_agent.setdefault(s.agent_id, []).append((s.session_start, s.session_end))
    for spans in per_agent.values():
        spans.sort()
        assert all(a[1] < b[0] for a, b in itertools.pairwise(spans)), "overlapping sessions"
    assert early > len(world.shifts) // 10 and late > len(world.shifts) // 10
    assert any(world.agent(s.agent_id).early_habit for s in world.shifts)


def test_staff_take_leave_leave_the_company_and_transfer() -> None:
    cal = Calendar(date(2016, 7, 1), 30)
    world = build_world(np.random.default_rng(4), 60_000, cal)
    statuses = {a.status for a in world.agents}
    assert {"active", "on_leave", "terminated"} <= statuses
    assert any(len(a.postings) > 1 for a in world.agents), "no transfer"
    for a in world.agents:
        days = {s.day for s in world.shifts if s.agent_id == a.agent_id}
        assert not days & a.leave
        if a.status == "terminated":
            assert a.valid_to is not None and all(cal.dates[d] <= a.valid_to for d in days)
        if a.valid_from is not None and days:
            assert cal.dates[min(days)] >= a.valid_from
        for d in days:
            mine = [s for s in world.shifts if s.agent_id == a.agent_id and s.day == d]
            here = {s.outlet_id for s in mine}
            covering = [s for s in mine if s.starts_at > s.work_from]  # at a neighbour's
            assert here == {a.outlet_on(d)} or (
                len(covering) == 1
                and world.outlet(covering[0].outlet_id).region
                == world.outlet(a.outlet_on(d)).region
            )
    assert any(s.starts_at > s.work_from for s in world.shifts), "nobody covered a colleague"
    assert any(not s.recorded for s in world.shifts), "every dealer keeps a roster"
    long_leave = [a for a in world.agents if len(a.leave) >= 7 and a.status == "on_leave"]
    assert long_leave, "nobody on long leave at export time"
    assert any(s.agent_id == long_leave[0].agent_id for s in world.shifts), (
        "someone on leave now worked before it"
    )
    roles = {a.role for a in world.agents}
    assert {"cs", "supervisor", "dealer", "backoffice", "system"} <= roles
    assert any(s.duty == "on_call" for s in world.shifts)


def test_the_background_is_mostly_self_service_and_always_consented(
    mid_operator: Simulated,
) -> None:
    store = mid_operator.store
    by_channel = {
        r["channel"]: r["n"]
        for r in store.sql(
            "SELECT channel, count(*) AS n FROM provisioning WHERE action = 'activate' AND event_id LIKE 'PV0%' GROUP BY channel"
        )
    }
    self_service = by_channel["app"] + by_channel["ussd"] + by_channel["web"]
    assisted = by_channel["outlet"] + by_channel["dealer"] + by_channel["call_center"]
    assert self_service > 2 * assisted > 0
    unconsented = store.sql(
        "SELECT count(*) AS n FROM provisioning p LEFT JOIN consents c ON c.consent_id = p.consent_id AND c.msisdn = p.msisdn "
        "AND c.verified WHERE p.action = 'activate' AND p.event_id LIKE 'PV0%' AND c.consent_id IS NULL"
    )[0]["n"]
    assert unconsented == 0
    actions = {r["action"] for r in store.sql("SELECT DISTINCT action FROM provisioning")}
    assert {"activate", "renew", "deactivate", "expire"} <= actions
    kinds = {r["kind"] for r in store.sql("SELECT DISTINCT kind FROM charges")}
    assert {"package", "usage"} <= kinds
    bars = store.sql(
        "SELECT count(*) AS n FROM line_actions WHERE reason = 'non_payment' AND action_id LIKE 'LA0%'"
    )[0]["n"]
    assert bars > 0
    complaints = store.sql(
        "SELECT category, count(*) AS n FROM complaints WHERE disputed_amount = 0 GROUP BY category"
    )
    assert {r["category"] for r in complaints} >= {"service", "billing"}


def test_weekly_rhythm_and_holidays_show_in_outlet_traffic(mid_operator: Simulated) -> None:
    rows = mid_operator.store.sql(
        'SELECT CAST("at" + INTERVAL 7 HOUR AS DATE) AS d, count(*) AS n FROM provisioning '
        "WHERE action = 'activate' AND channel = 'outlet' AND event_id LIKE 'PV0%' GROUP BY 1"
    )
    per_day = {r["d"]: r["n"] for r in rows}
    sundays = [d for d in per_day if d.weekday() == 6]
    # service centres are closed on Sundays and on Eid al-Fitr (2016-07-06/07): no outlet activations then
    assert not sundays and date(2016, 7, 6) not in per_day
    assert date(2016, 7, 1) + timedelta(days=3) in per_day
