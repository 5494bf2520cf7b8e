"""The simulated operator's fixed world: regions, outlets, staff, rosters, sessions, subscribers, catalogue.

Everything here is small enough to build in Python (outlets and staff grow
with the operator but stay in the thousands); the subscribers are numpy
arrays. The world is legitimate by construction:

- each service centre is open Mon-Sat within its hours (closed on public
  holidays), has its own /24 network and one terminal per member of staff;
- staff work regular shifts inside opening hours, some evenings an on-call
  shift until 22:00, take leave, transfer between outlets of a region, leave
  the company (their ID's validity ends) or join it;
- every shift has one log-in session on the agent's own terminal, as real
  staff work: some log in a few minutes before the shift starts and log out a
  few minutes after it ends (finishing the last customer), and about one in ten
  habitually logs in 20-40 minutes early;
- colleagues cover a neighbouring service centre of their region for a day,
  on one of its terminals, with the roster entry made late (the shift recorded
  as starting a few minutes after they began);
- leave is sometimes long (two to six weeks) and runs past the export's end,
  so HR's status, taken at export time, says ``on_leave`` of someone who
  worked normally before;
- a third of the dealers keep no roster: their sessions are on record, their
  shifts are not;
- dealers (role ``dealer``) work 09:00-21:00 at their dealer outlet, the call
  centre around the clock in three shifts, self-service and the system need
  no staff.

Identifiers never collide with the seed case's (``SRG``, ``16009045``,
``EV0000001`` ...): generated outlets are ``SC001`` / ``DL001`` / ``CC001`` /
``APP01`` ..., user IDs ``17RRNNNN`` (region, number) or ``1881NNNN`` (call
centre), subscribers ``62811`` + 8 digits from ``10000000``.

Example::

    >>> import numpy as np
    >>> from datetime import date
    >>> from jejak.simulate.calendar import Calendar
    >>> w = build_world(np.random.default_rng(1), 300, Calendar(date(2016, 7, 1), 14))
    >>> w.outlet("APP01").kind, len(w.subscribers.msisdn)
    ('online', 300)
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

from jejak.simulate.calendar import DAY, TZ_OFFSETS, Calendar, hhmm, local_seconds

#: region, time zone, cities (name, code), share of subscribers
REGIONS: tuple[tuple[str, str, tuple[tuple[str, str], ...], float], ...] = (
    (
        "Jabotabek",
        "Asia/Jakarta",
        (
            ("Jakarta", "JKT"),
            ("Bekasi", "BKS"),
            ("Tangerang", "TNG"),
            ("Depok", "DPK"),
            ("Bogor", "BGR"),
        ),
        0.24,
    ),
    (
        "Jabar",
        "Asia/Jakarta",
        (("Bandung", "BDG"), ("Cirebon", "CRB"), ("Tasikmalaya", "TSM")),
        0.13,
    ),
    (
        "Jateng",
        "Asia/Jakarta",
        (("Semarang", "SMG"), ("Surakarta", "SKT"), ("Purwokerto", "PWT"), ("Tegal", "TGL")),
        0.12,
    ),
    (
        "Jatim",
        "Asia/Jakarta",
        (("Surabaya", "SBY"), ("Malang", "MLG"), ("Kediri", "KDR"), ("Jember", "JBR")),
        0.13,
    ),
    (
        "Sumbagut",
        "Asia/Jakarta",
        (("Medan", "MDN"), ("Banda Aceh", "BNA"), ("Pematangsiantar", "PMS")),
        0.08,
    ),
    (
        "Sumbagsel",
        "Asia/Jakarta",
        (("Palembang", "PLM"), ("Bandar Lampung", "BDL"), ("Jambi", "JMB")),
        0.07,
    ),
    (
        "Kalimantan",
        "Asia/Makassar",
        (("Balikpapan", "BPN"), ("Banjarmasin", "BJM"), ("Samarinda", "SMD")),
        0.07,
    ),
    (
        "Balinusra",
        "Asia/Makassar",
        (("Denpasar", "DPS"), ("Mataram", "MTR"), ("Kupang", "KPG")),
        0.06,
    ),
    ("Sulawesi", "Asia/Makassar", (("Makassar", "MKS"), ("Manado", "MND"), ("Palu", "PLW")), 0.06),
    ("Papua", "Asia/Jayapura", (("Jayapura", "DJJ"), ("Ambon", "AMB"), ("Sorong", "SOQ")), 0.04),
)

#: package_id, name, price, period_days, data_mb, auto_renew, popularity
CATALOGUE: tuple[tuple[str, str, int, int, int, bool, float], ...] = (
    ("HRN1GB", "Paket Harian 1GB", 5_000, 1, 1_024, False, 0.17),
    ("HRN3GB", "Paket Harian 3GB", 10_000, 1, 3_072, False, 0.08),
    ("MGG5GB", "Paket Mingguan 5GB", 25_000, 7, 5_120, True, 0.16),
    ("MGG12GB", "Paket Mingguan 12GB", 45_000, 7, 12_288, True, 0.06),
    ("BLN8GB", "Paket Bulanan 8GB", 75_000, 30, 8_192, True, 0.18),
    ("BLN25GB", "Paket Bulanan 25GB", 150_000, 30, 25_600, True, 0.10),
    ("BLN50GB", "Paket Bulanan 50GB", 250_000, 30, 51_200, True, 0.04),
    ("BLN100GB", "Paket Unlimited 100GB", 400_000, 30, 102_400, True, 0.02),
    ("VID30GB", "Paket Video 30GB", 120_000, 30, 30_720, True, 0.05),
    ("NLP100", "Paket Nelpon 100 Menit", 30_000, 30, 0, True, 0.07),
    ("SMS500", "Paket SMS 500", 15_000, 30, 0, True, 0.05),
    ("ROAM7", "Paket Roaming Asia 7 Hari", 200_000, 7, 3_072, False, 0.02),
)
#: packages a fraudster pushes: the dearest
HIGH_VALUE = ("BLN50GB", "BLN100GB", "ROAM7")

FIRST_NAMES = (
    "Sri",
    "Budi",
    "Dewi",
    "Andi",
    "Rina",
    "Agus",
    "Siti",
    "Joko",
    "Fitri",
    "Hendra",
    "Yuni",
    "Rudi",
    "Nur",
    "Wahyu",
    "Indah",
    "Eko",
    "Ratna",
    "Bayu",
    "Lestari",
    "Dimas",
    "Ayu",
    "Fajar",
    "Putri",
    "Rizky",
    "Maya",
    "Teguh",
    "Wulan",
    "Arif",
    "Novi",
    "Bambang",
    "Sari",
    "Yoga",
)
LAST_NAMES = (
    "Wahyuningsih",
    "Santika",
    "Permata",
    "Saputra",
    "Kurniawati",
    "Hidayat",
    "Rahayu",
    "Setiawan",
    "Anggraini",
    "Gunawan",
    "Pratiwi",
    "Nugroho",
    "Susanti",
    "Wibowo",
    "Handayani",
    "Kusuma",
    "Maharani",
    "Firmansyah",
    "Puspita",
    "Siregar",
    "Hutapea",
    "Lubis",
    "Manurung",
    "Tanjung",
    "Pangaribuan",
    "Daulay",
    "Sembiring",
    "Ginting",
    "Matondang",
    "Nasution",
)

MSISDN_BASE = 6281110000000
#: msisdns the planted scenarios give their subjects: never a background subscriber's
SCENARIO_MSISDN_BASE = 6281199900000
MAX_SUBSCRIBERS = 80_000_000

SYSTEM_OUTLET = "SYS01"
SYSTEM_IP, SYSTEM_DEVICE = "10.1.0.5", "prov-01"
BILLING_AGENT = "SYSBILL01"
ONLINE = {"app": "APP01", "ussd": "USSD01", "web": "WEB01"}


@dataclass
class Outlet:
    outlet_id: str
    name: str
    kind: str  # service_center, dealer, call_center, online, system
    region: str
    city: str | None
    tz: str
    opens: int | None  # seconds of the local day
    closes: int | None
    open_days: str | None
    network: str | None  # one CIDR
    prefix: str | None  # the first three octets of the network, with the dot
    weight: float = 1.0  # how busy it is, relative to its peers
    terminals: int = 0

    @property
    def offset(self) -> int:
        return TZ_OFFSETS[self.tz]

    def terminal(self, k: int) -> tuple[str, str]:
        """Terminal ``k``'s (device_id, address)."""
        return f"{self.outlet_id}-PC-{k:02d}", f"{self.prefix}{10 + k}"

    def new_terminal(self) -> tuple[str, str]:
        self.terminals += 1
        return self.terminal(self.terminals)

    def row(self) -> dict[str, object]:
        return {
            "outlet_id": self.outlet_id,
            "name": self.name,
            "kind": self.kind,
            "region": self.region,
            "city": self.city,
            "timezone": self.tz,
            "opens": hhmm(self.opens) if self.opens is not None else None,
            "closes": hhmm(self.closes) if self.closes is not None else None,
            "open_days": self.open_days,
            "networks": [self.network] if self.network else [],
        }


@dataclass
class Agent:
    agent_id: str
    person: str
    role: str
    outlet_id: str  # home outlet at the end of the export
    status: str = "active"
    valid_from: date | None = None
    valid_to: date | None = None
    #: (first day index, outlet_id): where the agent works from that day on
    postings: list[tuple[int, str]] = field(default_factory=list)
    #: day indices of leave
    leave: set[int] = field(default_factory=set)
    #: the day index from which the agent no longer works (terminated) or None
    gone_from: int | None = None
    #: the first day index the agent works (new hires)
    hired_day: int = 0
    group: int = 0  # call-centre shift group / dealer day off
    terminals: dict[str, tuple[str, str]] = field(default_factory=dict)
    #: minutes this person habitually logs in before her shift (0: no such habit)
    early_habit: int = 0

    def outlet_on(self, day: int) -> str:
        here = self.postings[0][1]
        for first, outlet in self.postings:
            if first <= day:
                here = outlet
        return here

    def works_on(self, day: int) -> bool:
        return (
            day >= self.hired_day
            and day not in self.leave
            and (self.gone_from is None or day < self.gone_from)
        )

    def row(self) -> dict[str, object]:
        return {
            "agent_id": self.agent_id,
            "person": self.person,
            "role": self.role,
            "outlet_id": self.outlet_id,
            "status": self.status,
            "valid_from": self.valid_from,
            "valid_to": self.valid_to,
        }


@dataclass
class Shift:
    shift_id: str
    agent_id: str
    outlet_id: str
    starts_at: int
    ends_at: int
    duty: str
    day: int
    session_id: str = ""
    session_start: int = 0
    session_end: int = 0
    device_id: str = ""
    source_ip: str = ""
    auth: str = "password"
    #: when work under the shift really began (a covering colleague's entry is made late)
    work_from: int = 0
    #: False for the shifts of dealers who keep no roster: the session exists, the shift not
    recorded: bool = True

    def row(self) -> dict[str, object]:
        return {
            "shift_id": self.shift_id,
            "agent_id": self.agent_id,
            "outlet_id": self.outlet_id,
            "starts_at": self.starts_at,
            "ends_at": self.ends_at,
            "duty": self.duty,
        }

    def session_row(self) -> dict[str, object]:
        return {
            "session_id": self.session_id,
            "agent_id": self.agent_id,
            "started_at": self.session_start,
            "ended_at": self.session_end,
            "source_ip": self.source_ip,
            "device_id": self.device_id,
            "auth": self.auth,
        }


@dataclass
class Subscribers:
    """The background subscribers as columns (index i is subscriber i)."""

    msisdn: np.ndarray  # int64
    postpaid: np.ndarray  # bool
    region: np.ndarray  # int16 index into REGIONS
    since: np.ndarray  # int32 days since the epoch
    #: per region, the indices of its subscribers
    members: list[np.ndarray]


@dataclass
class World:
    cal: Calendar
    outlets: list[Outlet]
    agents: list[Agent]
    shifts: list[Shift]
    subscribers: Subscribers
    _outlets: dict[str, Outlet] = field(default_factory=dict)
    _agents: dict[str, Agent] = field(default_factory=dict)
    _by_outlet_day: dict[tuple[str, int], list[Shift]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._outlets = {o.outlet_id: o for o in self.outlets}
        self._agents = {a.agent_id: a for a in self.agents}
        index: dict[tuple[str, int], list[Shift]] = defaultdict(list)
        for s in self.shifts:
            index[(s.outlet_id, s.day)].append(s)
        self._by_outlet_day = dict(index)

    def outlet(self, outlet_id: str) -> Outlet:
        return self._outlets[outlet_id]

    def agent(self, agent_id: str) -> Agent:
        return self._agents[agent_id]

    def shifts_at(self, outlet_id: str, day: int) -> list[Shift]:
        return self._by_outlet_day.get((outlet_id, day), [])

    def outlets_of(self, kind: str) -> list[Outlet]:
        return [o for o in self.outlets if o.kind == kind]


def person_name(rng: np.random.Generator) -> str:
    return (
        f"{FIRST_NAMES[rng.integers(len(FIRST_NAMES))]} {LAST_NAMES[rng.integers(len(LAST_NAMES))]}"
    )


def instances(subscribers: int) -> int:
    """How many cases of each scenario kind an operator of this size gets."""
    return int(np.clip(subscribers // 1000, 1, 25))


#: service-centre days one case of every scenario kind takes between them (each case an
#: outlet-day of its own; ``shared_credentials`` two, ``dealer_mass_activation`` a dealer's)
CASE_OUTLET_DAYS = 11
#: of them, the days of kinds that come before ``id_on_leave`` and ``id_after_termination`` in
#: the catalogue and may land in the second half of the window, plus those two kinds' own
LATE_OUTLET_DAYS = 7


def room_for_cases(subscribers: int, cal: Calendar) -> tuple[int, int]:
    """The fewest service centres and dealers that give every planted case an outlet-day of its own.

    The cases of a big operator in a short window need more outlet-days than the
    outlets its size alone would give (``subscribers // 1000`` cases of each kind,
    but a service centre per 2,500 subscribers, open only on working days): the
    world then gets more of them. The bounds hold whatever days the cases before
    take: every case but a few avoids the window's last day, and the cases of staff
    on leave or gone, planted after five of the others, need the second half.
    """
    n = instances(subscribers)
    working = [i for i, d in enumerate(cal.dates) if cal.is_working_day(d)]
    early = max(1, sum(1 for i in working if i < cal.days - 1))  # most cases avoid the last day
    late = max(1, sum(1 for i in working if i >= cal.days // 2))  # leave and termination cases
    sc = max(-(-CASE_OUTLET_DAYS * n // early), -(-LATE_OUTLET_DAYS * n // late))
    dl = -(-2 * n // max(1, cal.days - 1))  # dealers open every day but keep a day off
    return sc, dl


def _outlets(rng: np.random.Generator, subscribers: int, cal: Calendar) -> list[Outlet]:
    room_sc, room_dl = room_for_cases(subscribers, cal)
    n_sc = max(int(np.clip(subscribers // 2_500, 4, 300)), room_sc)
    n_dl = max(int(np.clip(subscribers // 6_000, 2, 200)), room_dl)
    shares = np.array([r[3] for r in REGIONS])
    # every region gets a service centre once there are enough; the rest by size
    sc_region = list(range(min(n_sc, len(REGIONS)))) + list(
        rng.choice(len(REGIONS), size=max(0, n_sc - len(REGIONS)), p=shares / shares.sum())
    )
    out: list[Outlet] = []
    per_region: dict[int, int] = defaultdict(int)
    for i, ri in enumerate(sorted(sc_region)):
        region, tz, cities, _ = REGIONS[ri]
        k = per_region[ri]
        per_region[ri] += 1
        city, _code = cities[k % len(cities)]
        closes = 16 * 3600 if rng.random() < 0.5 else 17 * 3600
        net = f"10.{100 + ri}.{k}."
        branch = "" if k < len(cities) else f" {k // len(cities) + 1}"
        out.append(
            Outlet(
                f"SC{i + 1:03d}",
                f"GraPARI {city}{branch}",
                "service_center",
                region,
                city,
                tz,
                8 * 3600,
                closes,
                "Mon-Sat",
                f"{net}0/24",
                net,
                weight=float(rng.lognormal(0.0, 0.45)),
            )
        )
    dl_region = sorted(rng.choice(len(REGIONS), size=n_dl, p=shares / shares.sum()))
    for i, ri in enumerate(dl_region):
        region, tz, cities, _ = REGIONS[ri]
        city, _code = cities[int(rng.integers(len(cities)))]
        net = f"172.{16 + i // 250}.{i % 250}."
        out.append(
            Outlet(
                f"DL{i + 1:03d}",
                f"Mitra {FIRST_NAMES[i % len(FIRST_NAMES)]} Cell {city}",
                "dealer",
                region,
                city,
                tz,
                9 * 3600,
                21 * 3600,
                None,
                f"{net}0/24",
                net,
                weight=float(rng.lognormal(0.0, 0.6)),
            )
        )
    out.append(
        Outlet(
            "CC001",
            "Call Center 188",
            "call_center",
            "National",
            "Jakarta",
            "Asia/Jakarta",
            None,
            None,
            None,
            "10.98.0.0/16",
            "10.98.0.",
        )
    )
    online_names = {"app": "MyOperator app", "ussd": "USSD *363#", "web": "Self-service web"}
    for channel, outlet_id in ONLINE.items():
        out.append(
            Outlet(
                outlet_id,
                online_names[channel],
                "online",
                "National",
                None,
                "Asia/Jakarta",
                None,
                None,
                None,
                None,
                None,
            )
        )
    out.append(
        Outlet(
            SYSTEM_OUTLET,
            "Provisioning and billing",
            "system",
            "National",
            "Jakarta",
            "Asia/Jakarta",
            None,
            None,
            None,
            "10.1.0.0/24",
            "10.1.0.",
        )
    )
    return out


def _staff(
    rng: np.random.Generator, outlets: list[Outlet], cal: Calendar, subscribers: int
) -> list[Agent]:
    agents: list[Agent] = []
    seq: dict[str, int] = defaultdict(int)
    start = cal.start

    def hired() -> date:
        return start - timedelta(days=int(rng.integers(200, 12 * 365)))

    region_index = {r[0]: i for i, r in enumerate(REGIONS)}
    by_region: dict[str, list[Outlet]] = defaultdict(list)
    for o in outlets:
        if o.kind == "service_center":
            by_region[o.region].append(o)
    for o in outlets:
        if o.kind in ("service_center", "dealer"):
            ri = region_index[o.region]
            roles = ["supervisor"] + ["cs"] * int(np.clip(round(3 + 2 * o.weight), 3, 7))
            if o.kind == "dealer":
                roles = ["dealer"] * (1 + int(o.weight > 1.0))
            for role in roles:
                seq[o.region] += 1
                a = Agent(
                    f"17{ri:02d}{seq[o.region]:04d}",
                    person_name(rng),
                    role,
                    o.outlet_id,
                    valid_from=hired(),
                )
                a.postings = [(0, o.outlet_id)]
                a.group = len(agents) % 7
                a.terminals[o.outlet_id] = o.new_terminal()
                agents.append(a)
    cc = next(o for o in outlets if o.kind == "call_center")
    for k in range(int(np.clip(subscribers // 15_000, 9, 90))):
        a = Agent(f"1881{k + 1:04d}", person_name(rng), "cs", cc.outlet_id, valid_from=hired())
        a.postings = [(0, cc.outlet_id)]
        a.group = k % 3
        a.terminals[cc.outlet_id] = cc.new_terminal()
        agents.append(a)
    sysout = SYSTEM_OUTLET
    for k in range(2):
        a = Agent(f"1990{k + 1:04d}", person_name(rng), "backoffice", sysout, valid_from=hired())
        a.postings = [(0, sysout)]
        agents.append(a)
    bill = Agent(BILLING_AGENT, "billing system", "system", sysout, valid_from=date(2010, 1, 1))
    bill.postings = [(0, sysout)]
    agents.append(bill)

    # HR life: leave, terminations, transfers, new hires (service-centre cs staff only)
    days = cal.days
    for a in agents:
        if a.role != "cs" or not a.outlet_id.startswith("SC") or days < 7:
            continue
        u = rng.random()
        if u < 0.05:  # a week or so of leave, perhaps running past the export's end
            first = int(rng.integers(1, days - 2))
            a.leave = set(range(first, min(days, first + int(rng.integers(3, 9)))))
            if days - 1 in a.leave:
                a.status = "on_leave"
        elif u < 0.065:  # long leave (parental, sick): two to six weeks, HR says on_leave now
            first = int(rng.integers(max(2, days // 3), days - 1))
            a.leave = set(range(first, min(days, first + int(rng.integers(14, 43)))))
            if days - 1 in a.leave:
                a.status = "on_leave"
        elif u < 0.08:  # left the company: the ID's validity ends
            a.gone_from = int(rng.integers(2, days - 1))
            a.valid_to = start + timedelta(days=a.gone_from - 1)
            a.status = "terminated"
        elif u < 0.11:  # transferred to another service centre of the region
            home = a.outlet_id
            others = [o for o in by_region[outlets_region(outlets, home)] if o.outlet_id != home]
            if others:
                new = others[int(rng.integers(len(others)))]
                first = int(rng.integers(1, days - 1))
                a.postings.append((first, new.outlet_id))
                a.outlet_id = new.outlet_id
                a.terminals[new.outlet_id] = new.new_terminal()
        elif u < 0.13:  # joined during the export
            a.hired_day = int(rng.integers(1, days - 1))
            a.valid_from = start + timedelta(days=a.hired_day)
    for a in agents:  # about one in ten logs in well before her shift, every day
        if a.role in ("cs", "supervisor", "dealer") and rng.random() < 0.1:
            a.early_habit = int(rng.integers(20, 41))
    return agents


def outlets_region(outlets: list[Outlet], outlet_id: str) -> str:
    return next(o.region for o in outlets if o.outlet_id == outlet_id)


def _roster(
    rng: np.random.Generator, outlets: list[Outlet], agents: list[Agent], cal: Calendar
) -> list[Shift]:
    """Shifts and their sessions, day by day, outlet by outlet."""
    shifts: list[Shift] = []
    staff: dict[str, list[Agent]] = defaultdict(list)
    for a in agents:
        for _, oid in a.postings:
            if a not in staff[oid]:
                staff[oid].append(a)

    unrostered = {
        o.outlet_id for o in outlets if o.kind == "dealer" and int(o.outlet_id[2:]) % 3 == 0
    }
    by_region: dict[str, list[Outlet]] = defaultdict(list)
    for o in outlets:
        if o.kind == "service_center":
            by_region[o.region].append(o)

    def add(
        a: Agent, o: Outlet, day: int, start: int, end: int, duty: str, auth: str, late: int = 0
    ) -> None:
        """A shift from ``start`` to ``end``; ``late``: seconds by which its entry lags the work."""
        s = Shift(f"SH{len(shifts) + 1:08d}", a.agent_id, o.outlet_id, start + late, end, duty, day)
        s.work_from = start
        if duty == "on_call":  # logged in for part of the evening
            s.session_start = start + int(rng.integers(20, 90)) * 60
            s.session_end = end - int(rng.integers(10, 50)) * 60
        else:
            u = rng.random()
            if a.early_habit:
                s.session_start = start - (a.early_habit + int(rng.integers(-3, 4))) * 60
            elif u < 0.35:  # a few minutes early
                s.session_start = start - int(rng.integers(60, 720))
            else:
                s.session_start = start + int(rng.integers(60, 600))
            if rng.random() < 0.3:  # the last customer, after the end
                s.session_end = end + int(rng.integers(60, 720))
            else:
                s.session_end = end - int(rng.integers(60, 600))
        s.device_id, s.source_ip = a.terminals[o.outlet_id]
        s.auth = auth
        s.recorded = o.outlet_id not in unrostered
        shifts.append(s)

    for day, d in enumerate(cal.dates):
        for o in outlets:
            if o.kind not in ("service_center", "dealer", "call_center"):
                continue
            here = [
                a for a in staff[o.outlet_id] if a.outlet_on(day) == o.outlet_id and a.works_on(day)
            ]
            if o.kind == "service_center":
                if not cal.is_working_day(d) or o.opens is None or o.closes is None:
                    continue
                start = local_seconds(d, o.opens, o.offset)
                end = local_seconds(d, o.closes, o.offset)
                for a in here:
                    add(a, o, day, start, end, "regular", "password_otp")
                cs = [a for a in here if a.role == "cs"]
                others = [b for b in by_region[o.region] if b.outlet_id != o.outlet_id and b.opens]
                if len(cs) >= 2 and others and rng.random() < 0.04:
                    # one of them covers a neighbouring centre today; the roster entry is late
                    a = cs[int(rng.integers(len(cs)))]
                    b = others[int(rng.integers(len(others)))]
                    mine = (
                        i
                        for i, x in enumerate(shifts)
                        if x.agent_id == a.agent_id and x.day == day and x.duty == "regular"
                    )
                    shifts.pop(next(mine))
                    if b.outlet_id not in a.terminals:
                        a.terminals[b.outlet_id] = b.new_terminal()
                    assert b.opens is not None and b.closes is not None
                    add(
                        a,
                        b,
                        day,
                        local_seconds(d, b.opens, b.offset),
                        local_seconds(d, b.closes, b.offset),
                        "regular",
                        "password_otp",
                        late=int(rng.integers(3, 13)) * 60,
                    )
                    cs = [c for c in cs if c is not a]
                if cs and rng.random() < 0.5:
                    a = cs[(day + int(o.outlet_id[2:])) % len(cs)]
                    add(
                        a,
                        o,
                        day,
                        end,
                        local_seconds(d, 22 * 3600, o.offset),
                        "on_call",
                        "password_otp",
                    )
            elif o.kind == "dealer":
                assert o.opens is not None and o.closes is not None
                start = local_seconds(d, o.opens, o.offset)
                end = local_seconds(d, o.closes, o.offset)
                for a in here:
                    if len(here) > 1 and d.weekday() == a.group:
                        continue  # a dealer's day off
                    add(a, o, day, start, end, "regular", "password")
            else:  # call centre: three shifts round the clock, one day off a week
                for a in here:
                    if d.weekday() == (int(a.agent_id[-4:]) % 7):
                        continue
                    h0 = (7, 15, 23)[a.group]
                    start = local_seconds(d, h0 * 3600, o.offset)
                    add(a, o, day, start, start + 8 * 3600, "regular", "sso")
    for i, s in enumerate(shifts):
        s.shift_id = f"SH{i + 1:08d}"
        s.session_id = f"SE{i + 1:09d}"
    return shifts


def _subscribers(rng: np.random.Generator, n: int, cal: Calendar) -> Subscribers:
    shares = np.array([r[3] for r in REGIONS])
    region = rng.choice(len(REGIONS), size=n, p=shares / shares.sum()).astype(np.int16)
    start_day = (cal.start - date(1970, 1, 1)).days
    since = (start_day - rng.integers(30, 10 * 365, size=n)).astype(np.int32)
    return Subscribers(
        msisdn=MSISDN_BASE + np.arange(n, dtype=np.int64),
        postpaid=rng.random(n) < 0.15,
        region=region,
        since=since,
        members=[np.flatnonzero(region == r) for r in range(len(REGIONS))],
    )


def build_world(rng: np.random.Generator, subscribers: int, cal: Calendar) -> World:
    outlets = _outlets(rng, subscribers, cal)
    agents = _staff(rng, outlets, cal, subscribers)
    shifts = _roster(rng, outlets, agents, cal)
    return World(cal, outlets, agents, shifts, _subscribers(rng, subscribers, cal))


__all__ = [
    "CATALOGUE",
    "DAY",
    "HIGH_VALUE",
    "REGIONS",
    "Agent",
    "Outlet",
    "Shift",
    "World",
    "build_world",
]
