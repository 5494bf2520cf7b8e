"""The planted cases and their hard negatives: each scenario a function, the catalogue as data.

A scenario places one case in the simulated world: it picks an outlet, a day,
staff from the roster (or hires its own), builds the case's records row by row
and returns a :class:`PlantedScenario`, whose :meth:`PlantedScenario.truth` is one line of
``truth.jsonl``. Each enabled scenario kind is planted ``instances(subscribers)``
times (at least once). Subjects of the cases are subscribers of their own
(msisdns from ``6281199900000``), so the background never touches them.

Planted (the investigator's verdict in brackets; the operator is liable for all):

- ``seed-2016``: the seed case itself (credential_misuse), see :mod:`jejak.simulate.seed`;
- ``colleague_id_out_of_hours``: after closing, a colleague's ID logs in on the on-call
  agent's terminal minutes after that agent logged out, and activates unconsented packages
  for subscribers who were elsewhere (credential_misuse);
- ``owner_no_consent``: the ID's owner, on shift at her outlet and terminal, activates
  without consent (owner_misuse);
- ``external_attacker``: at night, from an address in no outlet's network, on an unknown
  device (external_compromise);
- ``shared_credentials``: the ID is logged in at its owner's outlet and, at the same time,
  at an outlet in another city where it activates packages (credential_misuse);
- ``dealer_mass_activation``: a dealer activates many high-value packages without consent
  during opening hours (owner_misuse);
- ``id_on_leave`` / ``id_after_termination``: an ID used while HR has its owner on leave,
  or after its validity ended (credential_misuse);
- ``billing_after_deactivation``: a package charge days after the package's deactivation
  (billing_error);
- ``billing_after_promo``: a package charged during its free promo, or above the list price
  after the promo ended (billing_error);
- ``bar_over_dispute``: a charge above the agreed price is disputed, and the line is barred
  for non-payment of exactly that amount while the complaint is open (billing_error).

Hard negatives (customer_consented, operator not liable): ``oncall_consented``,
``covering_agent``, ``consented_forgot``, ``busy_outlet``: each carries the verified
consent, the roster entry (on-call, or at the covered outlet) and the session on a
terminal of that outlet that make it legitimate.

Example::

    >>> planted = plant(world, np.random.default_rng(1), ["owner_no_consent"])  # doctest: +SKIP
    >>> planted.cases[0].truth()["verdict"]                                    # doctest: +SKIP
    {'hypothesis': 'owner_misuse', 'operator_liable': True}
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np

from jejak.errors import UsageError
from jejak.simulate.calendar import DAY, local_seconds
from jejak.simulate.seed import seed_rows, seed_truth
from jejak.simulate.world import (
    BILLING_AGENT,
    CATALOGUE,
    HIGH_VALUE,
    ONLINE,
    REGIONS,
    SCENARIO_MSISDN_BASE,
    SYSTEM_OUTLET,
    Agent,
    Outlet,
    Shift,
    World,
    instances,
    person_name,
)

PLANTED = (
    "seed-2016",
    "colleague_id_out_of_hours",
    "owner_no_consent",
    "external_attacker",
    "shared_credentials",
    "dealer_mass_activation",
    "id_on_leave",
    "id_after_termination",
    "billing_after_deactivation",
    "billing_after_promo",
    "bar_over_dispute",
)
HARD_NEGATIVES = (
    "oncall_consented",
    "covering_agent",
    "consented_forgot",
    "busy_outlet",
    "renewal_disputed",
)
SCENARIOS = PLANTED + HARD_NEGATIVES

#: the verdict an investigator should reach, per scenario kind
VERDICTS: dict[str, tuple[str, bool]] = {
    "seed-2016": ("credential_misuse", True),
    "colleague_id_out_of_hours": ("credential_misuse", True),
    "owner_no_consent": ("owner_misuse", True),
    "external_attacker": ("external_compromise", True),
    "shared_credentials": ("credential_misuse", True),
    "dealer_mass_activation": ("owner_misuse", True),
    "id_on_leave": ("credential_misuse", True),
    "id_after_termination": ("credential_misuse", True),
    "billing_after_deactivation": ("billing_error", True),
    "billing_after_promo": ("billing_error", True),
    "bar_over_dispute": ("billing_error", True),
    **{k: ("customer_consented", False) for k in HARD_NEGATIVES},
}
RECORD_KINDS = (
    "provisioning",
    "sessions",
    "charges",
    "line_actions",
    "consents",
    "shifts",
    "complaints",
)
#: addresses of no operator network (RFC 5737 documentation ranges)
OUTSIDE_NETWORKS = ("203.0.113.", "198.51.100.")
PACKAGES = {p[0]: p for p in CATALOGUE}


class NoRoom(Exception):
    """The world offers no outlet, day or staff this scenario can use (a window without working days)."""


@dataclass
class PlantedScenario:
    """One planted scenario: its subscribers, user ID and records (a line of truth.jsonl)."""

    case_id: str
    kind: str
    msisdns: list[str]
    agent_id: str | None
    description: str
    complaint_id: str | None = None
    record_ids: dict[str, list[str]] = field(default_factory=lambda: {k: [] for k in RECORD_KINDS})

    def add(self, kind: str, *ids: str) -> None:
        for i in ids:
            if i not in self.record_ids[kind]:
                self.record_ids[kind].append(i)

    def truth(self) -> dict[str, Any]:
        hypothesis, liable = VERDICTS[self.kind]
        return {
            "case_id": self.case_id,
            "kind": self.kind,
            "hard_negative": self.kind in HARD_NEGATIVES,
            "msisdns": self.msisdns,
            "agent_id": self.agent_id,
            "record_ids": self.record_ids,
            "verdict": {"hypothesis": hypothesis, "operator_liable": liable},
            "complaint_id": self.complaint_id,
            "description": self.description,
        }


@dataclass
class Planted:
    """The planted cases' records, by kind, and their truth."""

    rows: dict[str, list[dict[str, Any]]]
    cases: list[Any]


class Planter:
    """Builds the planted cases' records, with identifiers from the scenario ranges (``...9...``)."""

    def __init__(self, world: World, rng: np.random.Generator) -> None:
        self.w = world
        self.rng = rng
        self.rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self._seq: dict[str, int] = defaultdict(int)
        self._msisdn = SCENARIO_MSISDN_BASE
        self.taken_days: set[tuple[str, int]] = set()
        #: (user ID, day) pairs a case already uses
        self.taken_agents: set[tuple[str, int]] = set()
        self._complaints: dict[date, int] = defaultdict(int)
        self._loc_at: set[tuple[str, int]] = set()
        self._options: dict[Any, Any] = {}

    # ------------------------------------------------------------ identifiers

    def next_id(self, prefix: str, width: int) -> str:
        self._seq[prefix] += 1
        return f"{prefix}9{self._seq[prefix]:0{width - 1}d}"

    # ------------------------------------------------------------- choosing

    @property
    def days(self) -> int:
        return self.w.cal.days

    def day_date(self, day: int) -> date:
        return self.w.cal.start + timedelta(days=day)

    def at(self, o: Outlet, day: int, hh: int, mm: int = 0, ss: int = 0) -> int:
        return local_seconds(self.day_date(day), hh * 3600 + mm * 60 + ss, o.offset)

    def choice(self, items: list[Any]) -> Any:
        if not items:
            raise NoRoom
        return items[int(self.rng.integers(len(items)))]

    def free_outlet_day(self, days: list[int]) -> tuple[Outlet, int]:
        """A service centre and one of ``days`` that no other case uses."""
        free = [
            (o, d)
            for o in self.w.outlets_of("service_center")
            for d in days
            if (o.outlet_id, d) not in self.taken_days
        ]
        o, d = self.choice(free)
        self.taken_days.add((o.outlet_id, d))
        return o, d

    @staticmethod
    def busy_from(s: Shift) -> int:
        """When customers can be served in ``s``'s session: not before the work starts."""
        return max(s.session_start, s.work_from or s.starts_at)

    @staticmethod
    def busy_until(s: Shift) -> int:
        """...and not after the shift ends (sessions may run a few minutes past it)."""
        return min(s.session_end, s.ends_at)

    def working_days(self, lo: int = 0, hi: int | None = None) -> list[int]:
        hi = self.days if hi is None else hi
        return [
            d
            for d in range(max(lo, 0), min(hi, self.days))
            if self.w.cal.is_working_day(self.day_date(d))
        ]

    def staffed(
        self,
        kind: str,
        duty: str = "regular",
        role: tuple[str, ...] = ("cs",),
        lo: int = 0,
        hi: int | None = None,
        also: Callable[[Shift], bool] | None = None,
    ) -> tuple[Outlet, int, Shift]:
        """A (outlet, day, shift) of an outlet of ``kind`` not yet used by another case.

        ``also``, if given, must hold of the shift too (a case that needs more than its own
        outlet-day says so here, before the day is taken).
        """
        hi = self.days if hi is None else hi
        key = (kind, duty, role, lo, hi)
        options = self._options.get(key)
        if options is None:
            options = [
                s
                for s in self.w.shifts
                if s.duty == duty
                and s.recorded
                and lo <= s.day < hi
                and self.w.outlet(s.outlet_id).kind == kind
                and self.w.agent(s.agent_id).role in role
            ]
            self._options[key] = options

        def free(s: Shift) -> bool:
            return (
                (s.outlet_id, s.day) not in self.taken_days
                and (s.agent_id, s.day) not in self.taken_agents
                and (also is None or also(s))
            )

        s = None
        for _ in range(64):  # most of the roster is free: a few random draws find a shift
            if not options:
                break
            c = options[int(self.rng.integers(len(options)))]
            if free(c):
                s = c
                break
        if s is None:
            s = self.choice([c for c in options if free(c)])
        self.taken_days.add((s.outlet_id, s.day))
        self.taken_agents.add((s.agent_id, s.day))
        return self.w.outlet(s.outlet_id), s.day, s

    def region_of(self, o: Outlet) -> int:
        return next(i for i, r in enumerate(REGIONS) if r[0] == o.region)

    def other_region(self, ri: int) -> int:
        return self.choice([i for i in range(len(REGIONS)) if i != ri])

    # -------------------------------------------------------------- records

    def subject(self, region: int, postpaid: bool = False, status: str = "active") -> str:
        """A new subscriber of ``region`` for a case."""
        self._msisdn += 1
        msisdn = str(self._msisdn)
        since = self.w.cal.start - timedelta(days=int(self.rng.integers(200, 3000)))
        self.rows["subscribers"].append(
            {
                "msisdn": msisdn,
                "plan": "postpaid" if postpaid else "prepaid",
                "home_region": REGIONS[region][0],
                "since": since,
                "status": status,
            }
        )
        return msisdn

    def locate(self, msisdn: str, at: int, region: int, city: str | None = None) -> None:
        """A handset location record (never two for one line at one instant)."""
        while (msisdn, at) in self._loc_at:
            at += 1
        self._loc_at.add((msisdn, at))
        cities = REGIONS[region][2]
        name, code = next(
            ((c, k) for c, k in cities if c == city), cities[int(self.rng.integers(len(cities)))]
        )
        self.rows["locations"].append(
            {
                "msisdn": msisdn,
                "at": at,
                "region": REGIONS[region][0],
                "city": name,
                "cell_id": f"{code}-{int(self.rng.integers(1000, 10000))}",
            }
        )

    def consent(self, msisdn: str, at: int, method: str = "sms_otp") -> str:
        cid = self.next_id("CO", 11)
        evidence = {
            "sms_otp": "otp://",
            "ussd_confirm": "ussd://confirm/",
            "app_pin": "app://pin/",
            "signed_form": "form://",
            "voice_recording": "rec://cc/",
        }[method]
        self.rows["consents"].append(
            {
                "consent_id": cid,
                "msisdn": msisdn,
                "at": at,
                "method": method,
                "verified": True,
                "evidence": evidence + cid,
            }
        )
        return cid

    def event(
        self,
        at: int,
        msisdn: str,
        action: str,
        package: str,
        channel: str,
        outlet: str,
        *,
        agent: str | None = None,
        session: str | None = None,
        ip: str | None = None,
        device: str | None = None,
        consent: str | None = None,
        price: int | None = None,
        promo_ends: date | None = None,
    ) -> str:
        eid = self.next_id("PV", 11)
        if price is None:
            price = PACKAGES[package][2] if action in ("activate", "renew") else 0
        self.rows["provisioning"].append(
            {
                "event_id": eid,
                "at": at,
                "msisdn": msisdn,
                "action": action,
                "package_id": package,
                "channel": channel,
                "agent_id": agent,
                "session_id": session,
                "outlet_id": outlet,
                "source_ip": ip,
                "device_id": device,
                "consent_id": consent,
                "price": price,
                "promo_ends": promo_ends,
            }
        )
        if action in ("activate", "deactivate"):
            name = PACKAGES[package][1]
            text = (
                f"{name} telah aktif. Terima kasih."
                if action == "activate"
                else f"{name} Anda telah dinonaktifkan."
            )
            self.notify(msisdn, at + 60, f"package_{action}d", text, package)
        return eid

    def in_session(
        self,
        s: Shift,
        at: int,
        msisdn: str,
        package: str,
        *,
        consent: str | None,
        price: int | None = None,
        promo_ends: date | None = None,
    ) -> str:
        o = self.w.outlet(s.outlet_id)
        channel = {"service_center": "outlet", "dealer": "dealer", "call_center": "call_center"}[
            o.kind
        ]
        return self.event(
            at,
            msisdn,
            "activate",
            package,
            channel,
            o.outlet_id,
            agent=s.agent_id,
            session=s.session_id,
            ip=s.source_ip,
            device=s.device_id,
            consent=consent,
            price=price,
            promo_ends=promo_ends,
        )

    def charge(
        self,
        msisdn: str,
        at: int,
        package: str | None,
        amount: int,
        kind: str = "package",
        description: str | None = None,
    ) -> str:
        cid = self.next_id("CH", 11)
        local = date.fromordinal(date(1970, 1, 1).toordinal() + (at + 7 * 3600) // DAY)
        self.rows["charges"].append(
            {
                "charge_id": cid,
                "msisdn": msisdn,
                "cycle": f"{local:%Y-%m}",
                "at": at,
                "package_id": package,
                "amount": amount,
                "kind": kind,
                "description": description
                or (PACKAGES[package][1] if package else "Abonemen dan pemakaian"),
            }
        )
        return cid

    def notify(
        self, msisdn: str, at: int, type_: str, text: str, package: str | None = None
    ) -> str:
        nid = self.next_id("NT", 11)
        self.rows["notifications"].append(
            {
                "notification_id": nid,
                "msisdn": msisdn,
                "at": at,
                "channel": "sms",
                "type": type_,
                "package_id": package,
                "text": text,
            }
        )
        return nid

    def complaint(
        self,
        msisdn: str,
        at: int,
        channel: str,
        category: str,
        summary: str,
        charges: list[str] | None = None,
        amount: int = 0,
    ) -> str:
        local = date.fromordinal(date(1970, 1, 1).toordinal() + (at + 7 * 3600) // DAY)
        self._complaints[local] += 1
        cid = f"TCK-{local:%Y-%m%d}-9{self._complaints[local]:04d}"
        self.rows["complaints"].append(
            {
                "complaint_id": cid,
                "msisdn": msisdn,
                "opened_at": at,
                "channel": channel,
                "category": category,
                "summary": summary,
                "disputed_charge_ids": charges or [],
                "disputed_amount": amount,
            }
        )
        if at + 2 * DAY < self.w.cal.last_second:
            self.notify(
                msisdn, at + 2 * DAY, "complaint_update", f"Keluhan {cid} sedang kami proses."
            )
        return cid

    def line_action(
        self,
        msisdn: str,
        at: int,
        action: str,
        reason: str,
        amount_due: int | None,
        agent: str | None = BILLING_AGENT,
    ) -> str:
        aid = self.next_id("LA", 9)
        self.rows["line_actions"].append(
            {
                "action_id": aid,
                "msisdn": msisdn,
                "at": at,
                "action": action,
                "reason": reason,
                "amount_due": amount_due,
                "agent_id": agent,
            }
        )
        return aid

    def shift(
        self,
        agent: Agent,
        o: Outlet,
        day: int,
        start: int,
        end: int,
        duty: str,
        session: tuple[int, int, str, str] | None,
        auth: str = "password_otp",
    ) -> Shift:
        """A roster entry (and its session: start, end, device, address) added by a case."""
        s = Shift(self.next_id("SH", 8), agent.agent_id, o.outlet_id, start, end, duty, day)
        self.rows["shifts"].append(s.row())
        if session is not None:
            s.session_start, s.session_end, s.device_id, s.source_ip = session
            s.session_id = self.next_id("SE", 9)
            s.auth = auth
            self.rows["sessions"].append(s.session_row())
        return s

    def session(
        self,
        agent_id: str,
        outlet: Outlet,
        start: int,
        end: int,
        ip: str,
        device: str,
        auth: str = "password_otp",
    ) -> Shift:
        """A log-in session with no roster entry (the misuse), at ``outlet``'s front end."""
        s = Shift("", agent_id, outlet.outlet_id, 0, 0, "regular", -1)
        s.session_id = self.next_id("SE", 9)
        s.session_start, s.session_end, s.source_ip, s.device_id, s.auth = (
            start,
            end,
            ip,
            device,
            auth,
        )
        self.rows["sessions"].append(s.session_row())
        return s

    def hire(self, o: Outlet, status: str = "active", valid_to: date | None = None) -> Agent:
        """A member of staff of outlet ``o`` created by a case (with a terminal of her own)."""
        ri = self.region_of(o)
        a = Agent(
            f"17{ri:02d}9{len(self.rows['agents']) + 1:03d}",
            person_name(self.rng),
            "cs",
            o.outlet_id,
            status=status,
            valid_from=self.w.cal.start - timedelta(days=int(self.rng.integers(400, 3000))),
            valid_to=valid_to,
        )
        a.terminals[o.outlet_id] = o.new_terminal()
        self.rows["agents"].append(a.row())
        return a

    def work(self, a: Agent, o: Outlet, days: list[int]) -> list[Shift]:
        """Regular shifts with sessions for agent ``a`` at ``o`` on the given days."""
        out = []
        assert o.opens is not None and o.closes is not None
        for d in days:
            start, end = self.at(o, d, 0) + o.opens, self.at(o, d, 0) + o.closes
            dev, ip = a.terminals[o.outlet_id]
            out.append(
                self.shift(
                    a,
                    o,
                    d,
                    start,
                    end,
                    "regular",
                    (
                        start + int(self.rng.integers(60, 600)),
                        end - int(self.rng.integers(60, 600)),
                        dev,
                        ip,
                    ),
                )
            )
        return out

    def package(self, high: bool = False) -> str:
        if high:
            return str(self.choice(list(HIGH_VALUE)))
        return str(self.choice(["BLN8GB", "BLN25GB", "MGG5GB", "VID30GB", "NLP100"]))

    def complaint_time(self, after: int) -> int:
        """When a victim complains: a day or two after ``after``, inside the window if possible."""
        at = after + int(self.rng.integers(20, 44)) * 3600
        last = self.w.cal.last_second - 3600
        return min(at, max(last, after + 600))


# ---------------------------------------------------------------- planted cases


def colleague_id_out_of_hours(p: Planter, case_id: str) -> PlantedScenario:
    # a service-centre day with no on-call duty in the roster yet, two cs staff on shift
    days = p._options.get("quiet evenings")
    if days is None:
        days = []
        for o in p.w.outlets_of("service_center"):
            for day in range(p.days - 1):
                shifts = p.w.shifts_at(o.outlet_id, day)
                if shifts and not any(x.duty == "on_call" for x in shifts):
                    days.append((o, day, [x for x in shifts if p.w.agent(x.agent_id).role == "cs"]))
        p._options["quiet evenings"] = days
    options = []
    for o, day, staff in days:
        if (o.outlet_id, day) in p.taken_days:
            continue
        cs = [x for x in staff if (x.agent_id, day) not in p.taken_agents]
        if len(cs) >= 2:
            options.append((o, day, cs))
    o, day, cs = p.choice(options)
    p.taken_days.add((o.outlet_id, day))
    pick = p.rng.permutation(len(cs))
    own_shift, col_shift = cs[int(pick[0])], cs[int(pick[1])]
    owner, colleague = p.w.agent(own_shift.agent_id), p.w.agent(col_shift.agent_id)
    p.taken_agents.update({(owner.agent_id, day), (colleague.agent_id, day)})
    assert o.closes is not None
    close = p.at(o, day, 0) + o.closes
    dev, ip = colleague.terminals[o.outlet_id]
    logout = p.at(o, day, 20, 58)
    on_call = p.shift(
        colleague,
        o,
        day,
        close,
        p.at(o, day, 22),
        "on_call",
        (close + 1800 + int(p.rng.integers(0, 1800)), logout, dev, ip),
    )
    misuse = p.session(owner.agent_id, o, p.at(o, day, 21, 5), p.at(o, day, 21, 48), ip, dev)
    home = p.region_of(o)
    victims, events = [], []
    package = p.package(high=True)
    promo_end = p.day_date(day) + timedelta(days=180)
    for k in range(int(p.rng.integers(2, 6))):
        region = p.other_region(home)
        m = p.subject(region, postpaid=bool(p.rng.random() < 0.5))
        at = p.at(o, day, 21, 9 + 7 * k, int(p.rng.integers(0, 60)))
        p.locate(m, at - 2400, region)
        p.locate(m, at + 1200, region)
        events.append(
            p.in_session(misuse, at, m, package, consent=None, price=0, promo_ends=promo_end)
        )
        victims.append(m)
    cid = p.complaint(
        victims[0],
        p.complaint_time(p.at(o, day, 21, 40)),
        "call_center",
        "unauthorized_activation",
        f"Paket {package} diaktifkan di {o.name} yang tidak pernah saya datangi",
    )
    case = PlantedScenario(
        case_id,
        "colleague_id_out_of_hours",
        victims,
        owner.agent_id,
        f"After {o.name} closed on {p.day_date(day)}, user ID {owner.agent_id} logged in on terminal {dev} minutes after "
        f"{colleague.agent_id}, the colleague on call, logged out of it, and activated {len(events)} packages without consent.",
        complaint_id=cid,
    )
    case.add("provisioning", *events)
    case.add("sessions", misuse.session_id, on_call.session_id)
    case.add("shifts", own_shift.shift_id, on_call.shift_id)
    case.add("complaints", cid)
    return case


def owner_no_consent(p: Planter, case_id: str) -> PlantedScenario:
    o, day, s = p.staffed("service_center", lo=0, hi=p.days - 1)
    home = p.region_of(o)
    victims, events, charges = [], [], []
    for _ in range(int(p.rng.integers(1, 4))):
        m = p.subject(home)
        at = int(p.rng.integers(p.busy_from(s) + 900, p.busy_until(s) - 900))
        pkg = p.package()
        events.append(p.in_session(s, at, m, pkg, consent=None))
        charges.append(p.charge(m, at, pkg, PACKAGES[pkg][2]))
        victims.append(m)
    price = p.rows["charges"][-len(charges)]["amount"]
    cid = p.complaint(
        victims[0],
        p.complaint_time(s.session_end),
        "outlet",
        "unauthorized_activation",
        "Ada paket yang tidak saya minta saat saya ke GraPARI",
        [charges[0]],
        price,
    )
    case = PlantedScenario(
        case_id,
        "owner_no_consent",
        victims,
        s.agent_id,
        f"User ID {s.agent_id}'s owner, on shift at {o.name} on {p.day_date(day)} and logged in on her own terminal, "
        f"activated {len(events)} package(s) with no consent of the subscriber.",
        complaint_id=cid,
    )
    case.add("provisioning", *events)
    case.add("sessions", s.session_id)
    case.add("shifts", s.shift_id)
    case.add("charges", *charges)
    case.add("complaints", cid)
    return case


def external_attacker(p: Planter, case_id: str) -> PlantedScenario:
    o, day, s = p.staffed("service_center", lo=1, hi=p.days - 1)
    ip = f"{p.choice(list(OUTSIDE_NETWORKS))}{int(p.rng.integers(2, 250))}"
    device = f"unknown-{int(p.rng.integers(16**6, 16**7)):x}"
    start = p.at(o, day, 1, int(p.rng.integers(0, 50)))
    sess = p.session(s.agent_id, o, start, start + 3600, ip, device, auth="password")
    victims, events, charges = [], [], []
    for k in range(int(p.rng.integers(2, 5))):
        region = int(p.rng.integers(len(REGIONS)))
        m = p.subject(region)
        at = start + 300 + 600 * k
        pkg = p.package(high=True)
        events.append(
            p.event(
                at,
                m,
                "activate",
                pkg,
                "outlet",
                o.outlet_id,
                agent=s.agent_id,
                session=sess.session_id,
                ip=ip,
                device=device,
            )
        )
        charges.append(p.charge(m, at, pkg, PACKAGES[pkg][2]))
        victims.append(m)
    cid = p.complaint(
        victims[0],
        p.complaint_time(start),
        "call_center",
        "unauthorized_activation",
        "Paket mahal aktif tengah malam tanpa persetujuan saya",
        [charges[0]],
        p.rows["charges"][-len(charges)]["amount"],
    )
    case = PlantedScenario(
        case_id,
        "external_attacker",
        victims,
        s.agent_id,
        f"At night on {p.day_date(day)} user ID {s.agent_id} of {o.name} logged in from {ip}, an address in no outlet's network, "
        f"on an unknown device, and activated {len(events)} high-value packages without consent.",
        complaint_id=cid,
    )
    case.add("provisioning", *events)
    case.add("sessions", sess.session_id)
    case.add("charges", *charges)
    case.add("complaints", cid)
    return case


def shared_credentials(p: Planter, case_id: str) -> PlantedScenario:
    centres = p.w.outlets_of("service_center")

    def others_on(x: Outlet, day: int) -> list[Outlet]:
        """Service centres in another city than ``x`` that no case uses on ``day``."""
        return [y for y in centres if y.city != x.city and (y.outlet_id, day) not in p.taken_days]

    x, day, s = p.staffed(
        "service_center",
        lo=0,
        hi=p.days - 1,
        also=lambda c: any(
            y.city != p.w.outlet(c.outlet_id).city and (y.outlet_id, c.day) not in p.taken_days
            for y in centres
        ),
    )
    y = p.choice(others_on(x, day))
    p.taken_days.add((y.outlet_id, day))
    dev, ip = y.new_terminal()
    start = p.at(x, day, 10, 30)
    sess = p.session(s.agent_id, y, start, start + 5400, ip, dev)
    # the owner's own, consented activation at her outlet shortly before
    home = p.region_of(x)
    own_m = p.subject(home)
    own_at = start - int(p.rng.integers(20, 50)) * 60
    own_pkg = p.package()
    own_consent = p.consent(own_m, own_at - 120)
    own_event = p.in_session(s, own_at, own_m, own_pkg, consent=own_consent)
    p.charge(own_m, own_at, own_pkg, PACKAGES[own_pkg][2])
    region = p.region_of(y)
    victims, events = [], []
    for k in range(int(p.rng.integers(2, 4))):
        m = p.subject(region)
        at = start + 600 + 900 * k
        events.append(
            p.event(
                at,
                m,
                "activate",
                p.package(),
                "outlet",
                y.outlet_id,
                agent=s.agent_id,
                session=sess.session_id,
                ip=ip,
                device=dev,
            )
        )
        victims.append(m)
    cid = p.complaint(
        victims[0],
        p.complaint_time(start),
        "outlet",
        "unauthorized_activation",
        f"Paket aktif di {y.name} tanpa persetujuan saya",
    )
    case = PlantedScenario(
        case_id,
        "shared_credentials",
        victims,
        s.agent_id,
        f"On {p.day_date(day)} user ID {s.agent_id} was logged in at {x.name} ({x.city}) and at the same time at {y.name} ({y.city}), "
        f"where it activated {len(events)} packages without consent.",
        complaint_id=cid,
    )
    case.add("provisioning", own_event, *events)
    case.add("sessions", s.session_id, sess.session_id)
    case.add("shifts", s.shift_id)
    case.add("complaints", cid)
    return case


def dealer_mass_activation(p: Planter, case_id: str) -> PlantedScenario:
    o, day, s = p.staffed("dealer", role=("dealer",), lo=0, hi=p.days - 1)
    home = p.region_of(o)
    victims, events, charges = [], [], []
    n = int(p.rng.integers(8, 16))
    times = np.sort(p.rng.integers(p.busy_from(s) + 600, p.busy_until(s) - 600, size=n))
    for at in times:
        m = p.subject(home)
        pkg = p.package(high=True)
        events.append(p.in_session(s, int(at), m, pkg, consent=None))
        charges.append(p.charge(m, int(at), pkg, PACKAGES[pkg][2]))
        victims.append(m)
    first_amount = p.rows["charges"][-n]["amount"]
    cid = p.complaint(
        victims[0],
        p.complaint_time(s.session_end),
        "call_center",
        "unauthorized_activation",
        f"Paket mahal aktif lewat {o.name} tanpa persetujuan saya",
        [charges[0]],
        first_amount,
    )
    case = PlantedScenario(
        case_id,
        "dealer_mass_activation",
        victims,
        s.agent_id,
        f"Dealer {s.agent_id} at {o.name} activated {n} high-value packages on {p.day_date(day)}, during opening hours and "
        f"with no consent of any subscriber.",
        complaint_id=cid,
    )
    case.add("provisioning", *events)
    case.add("sessions", s.session_id)
    case.add("shifts", s.shift_id)
    case.add("charges", *charges)
    case.add("complaints", cid)
    return case


def _misuse_during_hours(
    p: Planter, a: Agent, o: Outlet, day: int
) -> tuple[Shift, list[str], list[str], list[str]]:
    dev, ip = a.terminals[o.outlet_id]
    start = p.at(o, day, 13, int(p.rng.integers(0, 50)))
    sess = p.session(a.agent_id, o, start, start + 2700, ip, dev)
    home = p.region_of(o)
    victims, events, charges = [], [], []
    for k in range(int(p.rng.integers(2, 4))):
        m = p.subject(home)
        at = start + 300 + 600 * k
        pkg = p.package()
        events.append(p.in_session(sess, at, m, pkg, consent=None))
        charges.append(p.charge(m, at, pkg, PACKAGES[pkg][2]))
        victims.append(m)
    return sess, victims, events, charges


def id_on_leave(p: Planter, case_id: str) -> PlantedScenario:
    o, day = p.free_outlet_day(p.working_days(p.days // 2, p.days))
    leave_from = p.choice([d for d in range(max(1, p.days // 2 - 3), day + 1)])
    a = p.hire(o, status="on_leave")
    p.work(a, o, p.working_days(0, leave_from))
    sess, victims, events, charges = _misuse_during_hours(p, a, o, day)
    cid = p.complaint(
        victims[0],
        p.complaint_time(sess.session_end),
        "call_center",
        "unauthorized_activation",
        "Paket aktif tanpa persetujuan saya",
    )
    case = PlantedScenario(
        case_id,
        "id_on_leave",
        victims,
        a.agent_id,
        f"User ID {a.agent_id} was used at {o.name} on {p.day_date(day)} while its owner {a.person} was on leave since "
        f"{p.day_date(leave_from)}, to activate {len(events)} packages without consent.",
        complaint_id=cid,
    )
    case.add("provisioning", *events)
    case.add("sessions", sess.session_id)
    case.add("charges", *charges)
    case.add("complaints", cid)
    return case


def id_after_termination(p: Planter, case_id: str) -> PlantedScenario:
    o, day = p.free_outlet_day(p.working_days(p.days // 2, p.days))
    gone = p.choice(list(range(max(1, p.days // 2 - 3), day + 1)))
    a = p.hire(o, status="terminated", valid_to=p.day_date(gone - 1))
    p.work(a, o, p.working_days(0, gone))
    sess, victims, events, charges = _misuse_during_hours(p, a, o, day)
    cid = p.complaint(
        victims[0],
        p.complaint_time(sess.session_end),
        "call_center",
        "unauthorized_activation",
        "Paket aktif tanpa persetujuan saya",
    )
    case = PlantedScenario(
        case_id,
        "id_after_termination",
        victims,
        a.agent_id,
        f"User ID {a.agent_id} of {a.person}, whose employment ended on {p.day_date(gone - 1)}, was used at {o.name} on "
        f"{p.day_date(day)} to activate {len(events)} packages without consent.",
        complaint_id=cid,
    )
    case.add("provisioning", *events)
    case.add("sessions", sess.session_id)
    case.add("charges", *charges)
    case.add("complaints", cid)
    return case


def _self_service_activation(
    p: Planter,
    m: str,
    at: int,
    pkg: str,
    *,
    price: int | None = None,
    promo_ends: date | None = None,
) -> tuple[str, str]:
    channel = str(p.choice(["app", "ussd"]))
    method = {"app": "app_pin", "ussd": "ussd_confirm"}[channel]
    consent = p.consent(m, at - int(p.rng.integers(20, 300)), method)
    return p.event(
        at,
        m,
        "activate",
        pkg,
        channel,
        ONLINE[channel],
        consent=consent,
        price=price,
        promo_ends=promo_ends,
    ), consent


def billing_after_deactivation(p: Planter, case_id: str) -> PlantedScenario:
    m = p.subject(int(p.rng.integers(len(REGIONS))), postpaid=True)
    pkg = str(p.choice(["MGG5GB", "MGG12GB", "BLN8GB", "BLN25GB"]))
    price = PACKAGES[pkg][2]
    t0 = p.w.cal.first_second
    act_at = t0 + int(p.rng.integers(2, 20)) * 3600
    _self_service_activation(p, m, act_at, pkg)
    p.charge(m, act_at, pkg, price)
    deact_at = act_at + int(p.rng.integers(1, 3)) * DAY + int(p.rng.integers(0, 6 * 3600))
    deact = p.event(deact_at, m, "deactivate", pkg, "app", ONLINE["app"])
    bad_at = deact_at + int(p.rng.integers(2, 4)) * DAY
    bad = p.charge(m, bad_at, pkg, price)
    cid = p.complaint(
        m,
        p.complaint_time(bad_at),
        "call_center",
        "billing",
        f"Ditagih {price} untuk {PACKAGES[pkg][1]} padahal paket sudah dinonaktifkan",
        [bad],
        price,
    )
    case = PlantedScenario(
        case_id,
        "billing_after_deactivation",
        [m],
        None,
        f"{m} was billed {price} IDR for {pkg} {(bad_at - deact_at) // DAY} days after the package was deactivated "
        f"and the subscriber told so.",
        complaint_id=cid,
    )
    case.add("provisioning", deact)
    case.add("charges", bad)
    case.add("complaints", cid)
    return case


def billing_after_promo(p: Planter, case_id: str, variant: int = 0) -> PlantedScenario:
    m = p.subject(int(p.rng.integers(len(REGIONS))))
    t0 = p.w.cal.first_second
    act_at = t0 + int(p.rng.integers(2, 20)) * 3600
    act_day = date.fromordinal(date(1970, 1, 1).toordinal() + (act_at + 7 * 3600) // DAY)
    if variant % 2 == 0:  # billed while the free promo still runs
        pkg = str(p.choice(["BLN8GB", "BLN25GB", "VID30GB"]))
        promo_ends = act_day + timedelta(days=60)
        act, _ = _self_service_activation(p, m, act_at, pkg, price=0, promo_ends=promo_ends)
        bad_at = act_at + int(p.rng.integers(2, 4)) * DAY
        amount = PACKAGES[pkg][2]
        what = f"during its free promo, which runs until {promo_ends}"
    else:  # billed above the list price once a short promo ended
        pkg = "MGG5GB"
        promo_ends = act_day + timedelta(days=3)
        act, _ = _self_service_activation(p, m, act_at, pkg, price=0, promo_ends=promo_ends)
        bad_at = p.w.cal.first_second + 5 * DAY + int(p.rng.integers(0, DAY))
        amount = PACKAGES["MGG12GB"][2]
        what = f"at {amount} IDR, above its list price of {PACKAGES[pkg][2]} IDR, after the promo ended on {promo_ends}"
    bad = p.charge(m, bad_at, pkg, amount)
    cid = p.complaint(
        m,
        p.complaint_time(bad_at),
        "app",
        "billing",
        f"Paket promo {PACKAGES[pkg][1]} ditagih tidak sesuai janji",
        [bad],
        amount,
    )
    case = PlantedScenario(
        case_id,
        "billing_after_promo",
        [m],
        None,
        f"{m} was billed for {pkg} {what}.",
        complaint_id=cid,
    )
    case.add("provisioning", act)
    case.add("charges", bad)
    case.add("complaints", cid)
    return case


def bar_over_dispute(p: Planter, case_id: str) -> PlantedScenario:
    m = p.subject(int(p.rng.integers(len(REGIONS))), postpaid=True, status="barred")
    pkg = str(p.choice(["BLN25GB", "BLN50GB", "VID30GB"]))
    price = PACKAGES[pkg][2]
    t0 = p.w.cal.first_second
    act_at = t0 + int(p.rng.integers(2, 20)) * 3600
    act, _ = _self_service_activation(p, m, act_at, pkg)
    p.charge(m, act_at, pkg, price)
    bad_at = act_at + DAY + int(p.rng.integers(0, 6 * 3600))
    bad = p.charge(m, bad_at, pkg, 2 * price, description=f"{PACKAGES[pkg][1]} (tagihan ulang)")
    c_at = bad_at + DAY + int(p.rng.integers(0, 6 * 3600))
    cid = p.complaint(
        m,
        c_at,
        "call_center",
        "billing",
        f"Paket {PACKAGES[pkg][1]} ditagih dua kali lipat",
        [bad],
        2 * price,
    )
    bar_at = c_at + int(p.rng.integers(2, 4)) * DAY
    bar = p.line_action(m, bar_at, "bar_all", "non_payment", 2 * price)
    p.notify(m, bar_at + 60, "line_barred", "Layanan Anda diblokir karena tagihan belum dibayar.")
    case = PlantedScenario(
        case_id,
        "bar_over_dispute",
        [m],
        None,
        f"{m} disputed a charge of {2 * price} IDR, twice the agreed price of {pkg}, and the line was barred for "
        f"non-payment of exactly that amount while the complaint was open.",
        complaint_id=cid,
    )
    case.add("provisioning", act)
    case.add("charges", bad)
    case.add("complaints", cid)
    case.add("line_actions", bar)
    return case


# ---------------------------------------------------------------- hard negatives


def oncall_consented(p: Planter, case_id: str) -> PlantedScenario:
    try:
        o, day, s = p.staffed("service_center", duty="on_call", lo=0, hi=p.days)
    except NoRoom:  # no on-call duty in the roster: put one in
        o, day, reg = p.staffed("service_center", lo=0, hi=p.days)
        a = p.w.agent(reg.agent_id)
        assert o.closes is not None
        close = p.at(o, day, 0) + o.closes
        dev, ip = a.terminals[o.outlet_id]
        s = p.shift(
            a,
            o,
            day,
            close,
            p.at(o, day, 22),
            "on_call",
            (close + 1800, p.at(o, day, 21, 30), dev, ip),
        )
    home = p.region_of(o)
    victims, events, consents = [], [], []
    for _ in range(int(p.rng.integers(1, 3))):
        m = p.subject(home)
        at = int(p.rng.integers(p.busy_from(s) + 300, p.busy_until(s) - 300))
        p.locate(m, at - 900, home, o.city)
        c = p.consent(m, at - int(p.rng.integers(60, 300)))
        pkg = p.package()
        events.append(p.in_session(s, at, m, pkg, consent=c))
        p.charge(m, at, pkg, PACKAGES[pkg][2])
        consents.append(c)
        victims.append(m)
    case = PlantedScenario(
        case_id,
        "oncall_consented",
        victims,
        s.agent_id,
        f"User ID {s.agent_id} activated {len(events)} package(s) at {o.name} after closing on {p.day_date(day)}, on its own "
        f"terminal during its rostered on-call duty, each with the subscriber's verified consent.",
    )
    case.add("provisioning", *events)
    case.add("consents", *consents)
    case.add("sessions", s.session_id)
    case.add("shifts", s.shift_id)
    return case


def covering_agent(p: Planter, case_id: str) -> PlantedScenario:
    days = p.working_days(0, p.days)
    b, day = p.free_outlet_day(days)
    home_o = p.choice([o for o in p.w.outlets_of("service_center") if o.outlet_id != b.outlet_id])
    a = p.hire(home_o)
    p.work(a, home_o, [d for d in days if d != day])
    dev, ip = b.new_terminal()
    assert b.opens is not None and b.closes is not None
    start, end = p.at(b, day, 0) + b.opens, p.at(b, day, 0) + b.closes
    # the roster entry for the day was made late: it says she began a few minutes after she did
    late = int(p.rng.integers(3, 13)) * 60
    s = p.shift(a, b, day, start + late, end, "regular", (start - 120, end - 300, dev, ip))
    region = p.region_of(b)
    victims, events, consents = [], [], []
    for k in range(int(p.rng.integers(2, 4))):
        m = p.subject(region)
        at = int(p.rng.integers(start + 60, start + late - 30))  # the first customer: early
        if k:
            at = int(p.rng.integers(p.busy_from(s) + 600, p.busy_until(s) - 600))
        c = p.consent(
            m, at - int(p.rng.integers(60, 300)), str(p.choice(["sms_otp", "signed_form"]))
        )
        pkg = p.package()
        events.append(p.in_session(s, at, m, pkg, consent=c))
        p.charge(m, at, pkg, PACKAGES[pkg][2])
        consents.append(c)
        victims.append(m)
    case = PlantedScenario(
        case_id,
        "covering_agent",
        victims,
        a.agent_id,
        f"{a.person} ({a.agent_id}) of {home_o.name} covered {b.name} on {p.day_date(day)}, rostered there (the entry "
        f"made late, {late // 60} minutes after she began) and logged in on one of its terminals, and activated "
        f"{len(events)} packages with verified consent, the first before the roster says she began.",
    )
    case.add("provisioning", *events)
    case.add("consents", *consents)
    case.add("sessions", s.session_id)
    case.add("shifts", s.shift_id)
    return case


def consented_forgot(p: Planter, case_id: str) -> PlantedScenario:
    o, day, s = p.staffed("service_center", lo=0, hi=p.days - 1)
    home = p.region_of(o)
    m = p.subject(home)
    at = int(p.rng.integers(p.busy_from(s) + 900, p.busy_until(s) - 900))
    p.locate(m, at - 600, home, o.city)
    c = p.consent(m, at - int(p.rng.integers(60, 300)), str(p.choice(["sms_otp", "signed_form"])))
    pkg = p.package()
    ev = p.in_session(s, at, m, pkg, consent=c)
    ch = p.charge(m, at, pkg, PACKAGES[pkg][2])
    cid = p.complaint(
        m,
        p.complaint_time(at),
        "call_center",
        "unauthorized_activation",
        f"Saya tidak pernah mendaftar {PACKAGES[pkg][1]}",
        [ch],
        PACKAGES[pkg][2],
    )
    case = PlantedScenario(
        case_id,
        "consented_forgot",
        [m],
        s.agent_id,
        f"{m} had {pkg} activated at {o.name} on {p.day_date(day)} with a verified consent, then complained that it was "
        f"never asked for.",
        complaint_id=cid,
    )
    case.add("provisioning", ev)
    case.add("consents", c)
    case.add("sessions", s.session_id)
    case.add("shifts", s.shift_id)
    case.add("charges", ch)
    case.add("complaints", cid)
    return case


def renewal_disputed(p: Planter, case_id: str) -> PlantedScenario:
    """A weekly package bought in the app with a verified consent three weeks before the window
    renews itself every week; the subscriber disputes the charge of its third renewal, inside
    the window. The renewal carries the activation's consent: the charge stands."""
    m = p.subject(int(p.rng.integers(len(REGIONS))))
    pkg = str(p.choice(["MGG5GB", "MGG12GB"]))
    price = PACKAGES[pkg][2]
    at = p.w.cal.first_second - 21 * DAY + int(p.rng.integers(2, 20)) * 3600
    ev, consent = _self_service_activation(p, m, at, pkg)
    p.charge(m, at, pkg, price)
    renewals, charges = [], []
    for k in (1, 2, 3):
        renewals.append(p.event(at + k * 7 * DAY, m, "renew", pkg, "system", SYSTEM_OUTLET))
        charges.append(p.charge(m, at + k * 7 * DAY, pkg, price))
    cid = p.complaint(
        m,
        p.complaint_time(at + 3 * 7 * DAY),
        "call_center",
        "billing",
        f"{PACKAGES[pkg][1]} terus diperpanjang, saya tidak pernah minta",
        [charges[-1]],
        price,
    )
    case = PlantedScenario(
        case_id,
        "renewal_disputed",
        [m],
        None,
        f"{m} bought {pkg} in the app with a verified consent three weeks before the window; it "
        f"renewed itself every week, and the subscriber disputed the third renewal's charge.",
        complaint_id=cid,
    )
    case.add("provisioning", ev, *renewals)
    case.add("consents", consent)
    case.add("charges", charges[-1])
    case.add("complaints", cid)
    return case


def busy_outlet(p: Planter, case_id: str) -> PlantedScenario:
    o, day, _ = p.staffed("service_center", lo=0, hi=p.days)
    staff = [s for s in p.w.shifts_at(o.outlet_id, day) if s.duty == "regular"]
    home = p.region_of(o)
    victims, events, consents, sessions, shifts = [], [], [], set(), set()
    for k in range(int(p.rng.integers(30, 61))):
        s = staff[k % len(staff)]
        m = p.subject(home)
        at = int(p.rng.integers(p.busy_from(s) + 300, p.busy_until(s) - 300))
        c = p.consent(m, at - int(p.rng.integers(30, 240)))
        pkg = p.package()
        events.append(p.in_session(s, at, m, pkg, consent=c))
        p.charge(m, at, pkg, PACKAGES[pkg][2])
        consents.append(c)
        victims.append(m)
        sessions.add(s.session_id)
        shifts.add(s.shift_id)
    case = PlantedScenario(
        case_id,
        "busy_outlet",
        victims,
        None,
        f"{o.name} made {len(events)} activations on {p.day_date(day)}, far above its peers, every one by rostered staff "
        f"on their own terminals with the subscriber's verified consent.",
    )
    case.add("provisioning", *events)
    case.add("consents", *consents)
    case.add("sessions", *sorted(sessions))
    case.add("shifts", *sorted(shifts))
    return case


BUILDERS: dict[str, Callable[..., PlantedScenario]] = {
    "colleague_id_out_of_hours": colleague_id_out_of_hours,
    "owner_no_consent": owner_no_consent,
    "external_attacker": external_attacker,
    "shared_credentials": shared_credentials,
    "dealer_mass_activation": dealer_mass_activation,
    "id_on_leave": id_on_leave,
    "id_after_termination": id_after_termination,
    "billing_after_deactivation": billing_after_deactivation,
    "billing_after_promo": billing_after_promo,
    "bar_over_dispute": bar_over_dispute,
    "oncall_consented": oncall_consented,
    "covering_agent": covering_agent,
    "consented_forgot": consented_forgot,
    "busy_outlet": busy_outlet,
    "renewal_disputed": renewal_disputed,
}


@dataclass
class _SeedCase:
    """The seed case's truth (its records come verbatim from the seed files)."""

    line: dict[str, Any]

    def truth(self) -> dict[str, Any]:
        return self.line


def plant(world: World, rng: np.random.Generator, kinds: list[str]) -> Planted:
    """Plant ``instances()`` cases of each scenario kind in ``kinds``; return their rows and truth."""
    p = Planter(world, rng)
    cases: list[Any] = []
    n = instances(len(world.subscribers.msisdn))
    for kind in kinds:
        if kind == "seed-2016":
            for k, rows in seed_rows().items():
                p.rows[k].extend(rows)
            cases.append(_SeedCase(seed_truth()))
            continue
        for i in range(n):
            case_id = f"{kind}-{i + 1:03d}"
            try:
                if kind == "billing_after_promo":
                    cases.append(billing_after_promo(p, case_id, i))
                else:
                    cases.append(BUILDERS[kind](p, case_id))
            except NoRoom:
                # the world is built with room for every case (world.room_for_cases): only a
                # window with (almost) no working day of the service centres ends here
                raise UsageError(
                    f"scenario {kind!r} found no room for case {i + 1} of {n} in this window: "
                    "give more days, or a window with more working days"
                ) from None
    return Planted(dict(p.rows), cases)
