"""The background: a legitimate operator's daily life, vectorised with numpy and streamed in batches.

Per simulated day (plus one look-back batch for packages bought before the
export starts, whose renewals and expiries fall inside it):

- **activations**, mostly self-service (app, USSD, web) with a verified
  consent of the subscriber seconds before; some at service centres, dealers
  and the call centre, made in the agent's rostered session on the agent's own
  terminal, for a subscriber of the outlet's region, with a verified consent;
- each activation's **life**: auto-renewals every period (charged at the
  renewal), then an expiry (system) or the customer's own deactivation (app
  or USSD); a few activations start with free promotional periods (price 0
  and ``promo_ends``), billed at list price after;
- **charges** posted with the activation or renewal they bill (so nothing is
  ever billed after a deactivation), monthly usage for postpaid lines;
- **notifications** (activated, expiring, deactivated, bill issued, payment
  due, line barred, complaint updates), **complaints** (about service, the
  network, a bill that is higher than usual: nothing fraudulent, nothing
  disputed), handset **locations** in the subscriber's home region, and
  **barring for genuine non-payment** of lines that dispute nothing.

Every column is built as a numpy array or a dictionary-encoded Arrow array;
no Python code runs per row.

Example::

    >>> bg = Background(world, seed_seq, writer)   # doctest: +SKIP
    >>> bg.run(progress)                           # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from jejak.simulate.calendar import DAY, HOURLY_P, local_seconds
from jejak.simulate.world import (
    BILLING_AGENT,
    CATALOGUE,
    ONLINE,
    REGIONS,
    SYSTEM_DEVICE,
    SYSTEM_IP,
    SYSTEM_OUTLET,
    World,
)
from jejak.simulate.writer import ExportWriter, make_table

#: activations per subscriber per day
ACTIVATION_RATE = 0.06
#: days before the export whose packages still renew or end inside it
LOOKBACK_DAYS = 30
#: subscribers written per batch
SUBSCRIBER_BATCH = 2_000_000
#: share of activations made with staff (service centre, dealer, call centre)
ASSISTED_SHARE = 0.2
SELF_CHANNELS = ("app", "ussd", "web")
SELF_P = np.array([0.58, 0.30, 0.12])
CHANNELS = ("app", "ussd", "web", "outlet", "dealer", "call_center", "system")
CONSENT_METHOD = ("app_pin", "ussd_confirm", "sms_otp", "sms_otp", "sms_otp", "voice_recording")
CONSENT_EVIDENCE = ("app://pin/", "ussd://confirm/", "otp://", "otp://", "otp://", "rec://cc/")
ACTIONS = ("activate", "renew", "modify", "deactivate", "expire")
A_ACT, A_REN, A_DEACT, A_EXP = 0, 1, 3, 4
PROMO_SHARE = 0.08
RENEW_P = 0.45  # chance an auto-renewing package is not renewed again at each period end
DEACTIVATE_SHARE = 0.35
LOCATION_RATE = 0.08  # handset location records per subscriber per day
TRAVEL_PER_MILLE = 15  # subscribers away from home on a given day, per thousand
VISITOR_SHARE = 0.03  # outlet activations for a subscriber visiting from another region
COMPLAINT_RATE = 0.00025  # complaints per subscriber per day
BAR_SHARE = 0.012  # postpaid lines barred for non-payment in a month
NOTIFY_TYPES = (
    "package_activated",
    "package_deactivated",
    "package_expiring",
    "bill_issued",
    "payment_due",
    "line_barred",
    "complaint_update",
)
COMPLAINTS = (
    ("service", "call_center", "Sinyal lemah di rumah sejak minggu lalu"),
    ("service", "app", "Internet lambat pada malam hari"),
    ("service", "social_media", "Tidak bisa menelepon ke nomor luar negeri"),
    ("other", "outlet", "Ingin mengganti kartu SIM yang rusak"),
    ("other", "web", "Pertanyaan tentang cara berhenti berlangganan paket"),
    ("billing", "call_center", "Tagihan bulan ini lebih tinggi dari biasanya, mohon penjelasan"),
    ("billing", "email", "Minta rincian pemakaian bulan lalu"),
)
COMPLAINT_P = np.array([0.25, 0.2, 0.08, 0.12, 0.1, 0.17, 0.08])


def text_ids(prefix: str, start: int, n: int, width: int) -> pa.Array:
    """``prefix`` + zero-padded ``start .. start + n - 1``, built by Arrow's compute kernels.

    >>> text_ids("PV", 7, 2, 4).to_pylist()
    ['PV0007', 'PV0008']
    """
    # 10**width + i is "1" followed by i zero-padded: replace that "1" with the prefix
    nums = pc.cast(pa.array(np.arange(start, start + n, dtype=np.int64) + 10**width), pa.string())
    return pc.binary_replace_slice(nums, start=0, stop=1, replacement=prefix)


def dict_col(codes: np.ndarray, dictionary: pa.Array | list[str]) -> pa.DictionaryArray:
    """A dictionary-encoded column; a negative code is null."""
    if not isinstance(dictionary, pa.Array):
        dictionary = pa.array(dictionary, pa.string())
    codes = codes.astype(np.int32, copy=False)
    mask = codes < 0
    indices = pa.array(codes, type=pa.int32(), mask=mask if mask.any() else None)
    return pa.DictionaryArray.from_arrays(indices, dictionary)


def msisdn_text(values: np.ndarray) -> pa.Array:
    """MSISDNs (13-digit integers) as text."""
    return pc.cast(pa.array(values, pa.int64()), pa.string())


@dataclass
class Counters:
    """The next number of each generated identifier (background ranges start at 1)."""

    event: int = 1
    consent: int = 1
    charge: int = 1
    notification: int = 1
    line_action: int = 1


class Background:
    """Generates and writes the background, day by day."""

    def __init__(self, world: World, seed: np.random.SeedSequence, writer: ExportWriter) -> None:
        self.w = world
        self.seed = seed
        self.out = writer
        self.ids = Counters()
        cal = world.cal
        self.t0, self.t1 = cal.first_second, cal.last_second
        self.n = len(world.subscribers.msisdn)
        pk = CATALOGUE
        self.pk_ids = pa.array([p[0] for p in pk])
        self.pk_names = pa.array([p[1] for p in pk])
        self.pk_price = np.array([p[2] for p in pk], dtype=np.int64)
        self.pk_period = np.array([p[3] for p in pk], dtype=np.int64)
        self.pk_auto = np.array([p[5] for p in pk])
        pop = np.array([p[6] for p in pk])
        self.pk_p = pop / pop.sum()
        self.notify_text = pa.array(
            [f"{p[1]} telah aktif. Terima kasih." for p in pk]
            + [f"{p[1]} Anda telah dinonaktifkan." for p in pk]
            + [f"{p[1]} Anda akan berakhir besok." for p in pk]
        )
        outlets = world.outlets
        self.outlet_ids = pa.array([o.outlet_id for o in outlets])
        self.outlet_index = {o.outlet_id: i for i, o in enumerate(outlets)}
        self.region_of_outlet = {
            o.outlet_id: next((i for i, r in enumerate(REGIONS) if r[0] == o.region), -1)
            for o in outlets
        }
        # the sessions outlet-assisted activations happen in
        sh = [s for s in world.shifts]
        self.s_day = np.array([s.day for s in sh], dtype=np.int32)
        self.s_start = np.array([s.session_start for s in sh], dtype=np.int64)
        self.s_end = np.array([s.session_end for s in sh], dtype=np.int64)
        # customers are served from when the work starts (not at an early log-in) until the
        # session ends, which may be a few minutes past the shift: the last customer
        self.s_busy = np.array([max(s.session_start, s.work_from) for s in sh], dtype=np.int64)
        self.s_outlet = np.array([self.outlet_index[s.outlet_id] for s in sh], dtype=np.int32)
        kinds = {"service_center": 3, "dealer": 4, "call_center": 5}
        self.s_channel = np.array(
            [kinds[world.outlet(s.outlet_id).kind] for s in sh], dtype=np.int8
        )
        self.s_region = np.array(
            [
                -1
                if world.outlet(s.outlet_id).kind == "call_center"
                else self.region_of_outlet[s.outlet_id]
                for s in sh
            ],
            dtype=np.int16,
        )
        self.s_weight = np.array(
            [
                world.outlet(s.outlet_id).weight
                * (s.session_end - s.session_start)
                / 3600
                * (0.3 if s.duty == "on_call" else 1.0)
                for s in sh
            ]
        )
        self.s_agent = pa.array([s.agent_id for s in sh], pa.string())
        self.s_id = pa.array([s.session_id for s in sh], pa.string())
        self.s_ip = pa.array([s.source_ip for s in sh], pa.string())
        self.s_device = pa.array([s.device_id for s in sh], pa.string())
        # cities of each region, flattened
        self.city_names = pa.array([c[0] for r in REGIONS for c in r[2]])
        self.city_codes = [c[1] for r in REGIONS for c in r[2]]
        self.city_first = np.cumsum([0] + [len(r[2]) for r in REGIONS])[:-1]
        self.city_count = np.array([len(r[2]) for r in REGIONS])
        self.region_names = pa.array([r[0] for r in REGIONS])
        flat = [c[0] for r in REGIONS for c in r[2]]
        self.s_city = np.array(
            [
                flat.index(world.outlet(s.outlet_id).city or "")
                if world.outlet(s.outlet_id).kind in ("service_center", "dealer")
                and (world.outlet(s.outlet_id).city or "") in flat
                else -1
                for s in sh
            ],
            dtype=np.int64,
        )
        self.barred: set[int] = set()
        self.unbarred: set[int] = set()

    # ------------------------------------------------------------------ driver

    def run(self, progress: Callable[[str, int, int], None] | None = None) -> None:
        cal = self.w.cal
        rngs = [np.random.default_rng(s) for s in self.seed.spawn(cal.days + LOOKBACK_DAYS)]
        for back in range(LOOKBACK_DAYS):
            self._lookback(rngs[cal.days + back], back + 1)
        for day, d in enumerate(cal.dates):
            rng = rngs[day]
            self._activations(rng, day, d)
            self._locations(rng, day, d)
            self._billing(rng, day, d)
            self._complaints(rng, day, d)
            if progress:
                progress("background", day + 1, cal.days)
        self._subscribers()

    # ------------------------------------------------------------- activations

    def _lookback(self, rng: np.random.Generator, back: int) -> None:
        """Packages bought ``back`` days before the export: their renewals and ends inside it."""
        n = int(rng.poisson(self.n * ACTIVATION_RATE))
        at = self.t0 - back * DAY + rng.integers(0, DAY, size=n)
        sub = rng.integers(0, self.n, size=n)
        chan = rng.choice(3, size=n, p=SELF_P).astype(np.int8)
        self._emit(rng, at, sub, chan, np.full(n, -1, dtype=np.int64))

    def _activations(self, rng: np.random.Generator, day: int, d: date) -> None:
        cal = self.w.cal
        total = self.n * ACTIVATION_RATE * cal.traffic(d)
        # self-service, through the day with an evening peak
        n_self = int(rng.poisson(total * (1 - ASSISTED_SHARE)))
        hour = rng.choice(24, size=n_self, p=HOURLY_P)
        at_self = local_seconds(d, 0, 7) + hour * 3600 + rng.integers(0, 3600, size=n_self)
        sub_self = rng.integers(0, self.n, size=n_self)
        chan_self = rng.choice(3, size=n_self, p=SELF_P).astype(np.int8)
        # assisted: spread over the sessions of the day by outlet busyness and session length
        sess = np.flatnonzero(self.s_day == day)
        at_a = np.empty(0, dtype=np.int64)
        sub_a = np.empty(0, dtype=np.int64)
        ses_a = np.empty(0, dtype=np.int64)
        if len(sess):
            w = self.s_weight[sess]
            counts = rng.poisson(total * ASSISTED_SHARE * w / w.sum())
            ses_a = np.repeat(sess, counts).astype(np.int64)
            lo = self.s_busy[ses_a] + 120
            hi = np.maximum(self.s_end[ses_a] - 60, lo + 1)
            at_a = lo + (rng.random(len(ses_a)) * (hi - lo)).astype(np.int64)
            sub_a = np.full(len(ses_a), -1, dtype=np.int64)
            region = self.s_region[ses_a]
            anywhere = region < 0
            sub_a[anywhere] = rng.integers(0, self.n, size=int(anywhere.sum()))
            for r, members in enumerate(self.w.subscribers.members):
                m = region == r
                k = int(m.sum())
                if k and len(members):
                    sub_a[m] = members[rng.integers(0, len(members), size=k)]
            keep = sub_a >= 0  # a region without subscribers gets no assisted activations
            # nobody walks into an outlet at home on a day she is away
            keep &= ~self.travelling(np.maximum(sub_a, 0), day)
            at_a, sub_a, ses_a = at_a[keep], sub_a[keep], ses_a[keep]
            vis = self._visitors(rng, at_a, sub_a, ses_a)
            # a visitor is away all day: no activation at an outlet back home that day
            home = np.isin(sub_a, sub_a[vis]) & ~vis
            at_a, sub_a, ses_a = at_a[~home], sub_a[~home], ses_a[~home]
        at = np.concatenate([at_self, at_a])
        sub = np.concatenate([sub_self, sub_a])
        chan = np.concatenate([chan_self, self.s_channel[ses_a]]).astype(np.int8)
        ses = np.concatenate([np.full(n_self, -1, dtype=np.int64), ses_a])
        self._emit(rng, at, sub, chan, ses)

    def _emit(
        self,
        rng: np.random.Generator,
        at: np.ndarray,
        sub: np.ndarray,
        chan: np.ndarray,
        ses: np.ndarray,
    ) -> None:
        """Activations and their whole life (renewals, end) inside the window, with consents,
        charges and notifications."""
        n = len(at)
        if n == 0:
            return
        pkg = rng.choice(len(CATALOGUE), size=n, p=self.pk_p)
        period = self.pk_period[pkg] * DAY
        auto = self.pk_auto[pkg]
        price = self.pk_price[pkg]
        renewals = np.where(auto, rng.geometric(RENEW_P, size=n) - 1, 0)
        renewals = np.minimum(renewals, np.maximum((self.t1 - at) // period, 0))
        deact = auto & (rng.random(n) < DEACTIVATE_SHARE)
        promo = np.where(
            auto & (self.pk_period[pkg] == 30) & (rng.random(n) < PROMO_SHARE),
            rng.integers(1, 3, size=n),
            0,
        )
        end_at = np.where(
            deact,
            at + renewals * period + (rng.uniform(0.1, 0.9, size=n) * period).astype(np.int64),
            at + (renewals + 1) * period,
        )
        # expand: activation, renewals, end
        per = renewals + 2
        idx = np.repeat(np.arange(n), per)
        first = np.cumsum(per) - per
        k = np.arange(len(idx)) - first[idx]  # 0 = activation, 1..r = renewal k, r+1 = end
        is_end = k == per[idx] - 1
        e_at = np.where(is_end, end_at[idx], at[idx] + k * period[idx])
        action = np.where(
            k == 0, A_ACT, np.where(is_end, np.where(deact[idx], A_DEACT, A_EXP), A_REN)
        ).astype(np.int8)
        keep = (e_at >= self.t0) & (e_at < self.t1)
        idx, k, e_at, action = idx[keep], k[keep], e_at[keep], action[keep]
        m = len(idx)
        if m == 0:
            return
        in_promo = (k < promo[idx]) & ((action == A_ACT) | (action == A_REN))
        e_price = np.where(
            (action == A_ACT) | (action == A_REN), np.where(in_promo, 0, price[idx]), 0
        )
        promo_end_day = (at[idx] + promo[idx] * period[idx] + 7 * 3600) // DAY
        e_chan = np.where(
            action == A_ACT,
            chan[idx],
            np.where(action == A_DEACT, np.where(sub[idx] % 3 == 0, 1, 0), 6),
        ).astype(np.int8)
        e_ses = np.where(action == A_ACT, ses[idx], -1)
        assisted = e_ses >= 0
        e_sub = sub[idx]
        e_pkg = pkg[idx]
        msisdn = msisdn_text(self.w.subscribers.msisdn[e_sub])
        ev_ids = text_ids("PV", self.ids.event, m, 11)
        self.ids.event += m
        # consents: one per activation, given shortly before it
        act = np.flatnonzero(action == A_ACT)
        na = len(act)
        co_ids = text_ids("CO", self.ids.consent, na, 11)
        self.ids.consent += na
        consent_code = np.full(m, -1, dtype=np.int64)
        consent_code[act] = np.arange(na)
        consent_col = (
            pc.take(co_ids, pa.array(consent_code, mask=consent_code < 0))
            if na
            else pa.nulls(m, pa.string())
        )
        # who did it: the session's agent / terminal, or the online or system outlet
        ses_safe = np.where(assisted, e_ses, 0)
        outlet_code = np.where(
            assisted,
            self.s_outlet[ses_safe],
            np.where(
                e_chan == 6,
                self.outlet_index[SYSTEM_OUTLET],
                np.where(
                    e_chan == 0,
                    self.outlet_index[ONLINE["app"]],
                    np.where(
                        e_chan == 1,
                        self.outlet_index[ONLINE["ussd"]],
                        self.outlet_index[ONLINE["web"]],
                    ),
                ),
            ),
        )
        # the sessions this batch names, as a small dictionary; system events get one extra entry
        used = np.unique(e_ses[assisted])
        local = np.where(
            assisted, np.searchsorted(used, ses_safe), np.where(e_chan == 6, len(used), -1)
        )
        used_arr = pa.array(used, pa.int64())

        def from_session(col: pa.Array, system: str | None) -> pa.DictionaryArray:
            words = pc.take(col, used_arr)
            if system is None:
                return dict_col(np.where(local == len(used), -1, local), words)
            return dict_col(local, pa.concat_arrays([words, pa.array([system], pa.string())]))

        channel_name = np.array([0, 1, 2, 3, 4, 5, 6], dtype=np.int8)
        prov = make_table(
            "provisioning",
            {
                "event_id": ev_ids,
                "at": e_at,
                "msisdn": msisdn,
                "action": dict_col(action.astype(np.int32), list(ACTIONS)),
                "package_id": dict_col(e_pkg, self.pk_ids),
                "channel": dict_col(channel_name[e_chan].astype(np.int32), list(CHANNELS)),
                "agent_id": from_session(self.s_agent, None),
                "session_id": from_session(self.s_id, None),
                "outlet_id": dict_col(outlet_code, self.outlet_ids),
                "source_ip": from_session(self.s_ip, SYSTEM_IP),
                "device_id": from_session(self.s_device, SYSTEM_DEVICE),
                "consent_id": consent_col,
                "price": e_price,
                "promo_ends": np.where(in_promo, promo_end_day, 0).astype(np.int32),
            },
            m,
        )
        prov = prov.set_column(
            13,
            "promo_ends",
            pc.if_else(pa.array(in_promo), prov.column("promo_ends"), pa.scalar(None, pa.date32())),
        )
        self.out.write("provisioning", prov)
        if na:
            c_chan = e_chan[act]
            evidence_prefix = pc.take(pa.array(CONSENT_EVIDENCE), pa.array(c_chan.astype(np.int32)))
            self.out.write(
                "consents",
                make_table(
                    "consents",
                    {
                        "consent_id": co_ids,
                        "msisdn": pc.take(msisdn, pa.array(act)),
                        "at": e_at[act] - rng.integers(15, 600, size=na),
                        "method": dict_col(c_chan.astype(np.int32), list(CONSENT_METHOD)),
                        "verified": np.ones(na, dtype=bool),
                        "evidence": pc.binary_join_element_wise(evidence_prefix, co_ids, ""),
                    },
                    na,
                ),
            )
        # charges: with the activation or renewal they bill
        billed = np.flatnonzero(e_price > 0)
        nb = len(billed)
        if nb:
            ch_ids = text_ids("CH", self.ids.charge, nb, 11)
            self.ids.charge += nb
            local_day = (e_at[billed] + 7 * 3600) // DAY
            self.out.write(
                "charges",
                make_table(
                    "charges",
                    {
                        "charge_id": ch_ids,
                        "msisdn": pc.take(msisdn, pa.array(billed)),
                        "cycle": self._cycles(local_day),
                        "at": e_at[billed],
                        "package_id": dict_col(e_pkg[billed], self.pk_ids),
                        "amount": e_price[billed],
                        "kind": dict_col(np.zeros(nb, dtype=np.int32), ["package"]),
                        "description": dict_col(e_pkg[billed], self.pk_names),
                    },
                    nb,
                ),
            )
        # notifications: activated, deactivated, and the day before a weekly or monthly package expires
        n_act = act
        n_deact = np.flatnonzero(action == A_DEACT)
        n_exp = np.flatnonzero(
            (action == A_EXP) & (self.pk_period[e_pkg] >= 7) & (e_at - DAY >= self.t0)
        )
        rows = np.concatenate([n_act, n_deact, n_exp])
        typ = np.concatenate(
            [np.zeros(len(n_act)), np.ones(len(n_deact)), np.full(len(n_exp), 2)]
        ).astype(np.int32)
        if len(rows):
            nat = e_at[rows] + np.where(typ == 0, 60, np.where(typ == 1, 30, -DAY))
            nn = len(rows)
            nt_ids = text_ids("NT", self.ids.notification, nn, 11)
            self.ids.notification += nn
            self.out.write(
                "notifications",
                make_table(
                    "notifications",
                    {
                        "notification_id": nt_ids,
                        "msisdn": pc.take(msisdn, pa.array(rows)),
                        "at": nat,
                        "channel": dict_col(np.zeros(nn, dtype=np.int32), ["sms"]),
                        "type": dict_col(typ, list(NOTIFY_TYPES)),
                        "package_id": dict_col(e_pkg[rows], self.pk_ids),
                        "text": dict_col(typ * len(CATALOGUE) + e_pkg[rows], self.notify_text),
                    },
                    nn,
                ),
            )

    def _cycles(self, local_day: np.ndarray) -> pa.Array:
        """Bill cycles ``YYYY-MM`` of days since the epoch (local), dictionary-encoded."""
        months = local_day.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
        lo = int(months.min())
        names = [str(np.datetime64(m, "M")) for m in range(lo, int(months.max()) + 1)]
        return dict_col((months - lo).astype(np.int32), names)

    def travelling(self, sub: np.ndarray, day: int) -> np.ndarray:
        """Whether each subscriber is away from home on ``day`` (a fixed hash of both)."""
        h = (sub.astype(np.int64) * 2654435761 + day * 40503) % 1000
        return np.asarray(h < TRAVEL_PER_MILLE)

    def travel_region(self, sub: np.ndarray) -> np.ndarray:
        """Where a travelling subscriber is: one other region, always the same one."""
        home = self.w.subscribers.region[sub].astype(np.int64)
        return (home + 1 + sub.astype(np.int64) % (len(REGIONS) - 1)) % len(REGIONS)

    def _visitors(
        self, rng: np.random.Generator, at: np.ndarray, sub: np.ndarray, ses: np.ndarray
    ) -> np.ndarray:
        """Some outlet customers are visitors from another region: their handsets are seen in
        the outlet's city around the activation (and at home earlier that day). Returns which."""
        city = self.s_city[ses]
        mask = (city >= 0) & (rng.random(len(ses)) < VISITOR_SHARE)
        vis = np.flatnonzero(mask)
        if not len(vis):
            return mask
        region = np.searchsorted(self.city_first, city[vis], side="right") - 1
        subs = self.w.subscribers
        for r in range(len(REGIONS)):
            m = vis[region == r]
            others = np.concatenate([x for i, x in enumerate(subs.members) if i != r])
            if len(m) and len(others):
                sub[m] = others[rng.integers(0, len(others), size=len(m))]
        k = len(vis)
        when = np.concatenate(
            [
                at[vis] - rng.integers(300, 3600, size=k),
                at[vis] + rng.integers(300, 3600, size=k),
                at[vis] - rng.integers(5 * 3600, 8 * 3600, size=k),
            ]
        )
        home = subs.region[sub[vis]].astype(np.int64)
        home_city = self.city_first[home] + (rng.random(k) * self.city_count[home]).astype(np.int64)
        where = np.concatenate([city[vis], city[vis], home_city])
        self._write_locations(rng, np.tile(sub[vis], 3), when, where)
        return mask

    def _write_locations(
        self, rng: np.random.Generator, sub: np.ndarray, at: np.ndarray, city: np.ndarray
    ) -> None:
        k = len(sub)
        region = np.searchsorted(self.city_first, city, side="right") - 1
        cell = rng.integers(1000, 10000, size=k)
        prefixes = pa.array([f"{c}-" for c in self.city_codes])
        cell_id = pc.binary_join_element_wise(
            pc.take(prefixes, pa.array(city)), pc.cast(pa.array(cell), pa.string()), ""
        )
        self.out.write(
            "locations",
            make_table(
                "locations",
                {
                    "msisdn": msisdn_text(self.w.subscribers.msisdn[sub]),
                    "at": at,
                    "region": dict_col(region, self.region_names),
                    "city": dict_col(city, self.city_names),
                    "cell_id": cell_id,
                },
                k,
            ),
        )

    # ------------------------------------------------------------ the rest

    def _locations(self, rng: np.random.Generator, day: int, d: date) -> None:
        subs = self.w.subscribers
        chosen = np.flatnonzero(rng.random(self.n) < LOCATION_RATE)
        k = len(chosen)
        if not k:
            return
        region = subs.region[chosen].astype(np.int64)
        away = self.travelling(chosen, day)  # subscribers who travel are seen where they are
        region[away] = self.travel_region(chosen[away])
        city = self.city_first[region] + (rng.random(k) * self.city_count[region]).astype(np.int64)
        at = local_seconds(d, 0, 7) + rng.integers(0, DAY, size=k)
        cell = rng.integers(1000, 10000, size=k)
        prefixes = pa.array([f"{c}-" for c in self.city_codes])
        cell_id = pc.binary_join_element_wise(
            pc.take(prefixes, pa.array(city)), pc.cast(pa.array(cell), pa.string()), ""
        )
        self.out.write(
            "locations",
            make_table(
                "locations",
                {
                    "msisdn": msisdn_text(subs.msisdn[chosen]),
                    "at": at,
                    "region": dict_col(region, self.region_names),
                    "city": dict_col(city, self.city_names),
                    "cell_id": cell_id,
                },
                k,
            ),
        )

    def _billing(self, rng: np.random.Generator, day: int, d: date) -> None:
        subs = self.w.subscribers
        post = np.flatnonzero(subs.postpaid)
        if not len(post):
            return
        if d.day == 1:  # monthly usage and subscription, for the month that ended
            k = len(post)
            amount = (np.round(rng.lognormal(np.log(120_000), 0.45, size=k) / 1000) * 1000).astype(
                np.int64
            )
            cycle = f"{d.year:04d}-{d.month:02d}"
            ids = text_ids("CH", self.ids.charge, k, 11)
            self.ids.charge += k
            self.out.write(
                "charges",
                make_table(
                    "charges",
                    {
                        "charge_id": ids,
                        "msisdn": msisdn_text(subs.msisdn[post]),
                        "cycle": dict_col(np.zeros(k, dtype=np.int32), [cycle]),
                        "at": np.full(k, local_seconds(d, 3600, 7), dtype=np.int64),
                        "amount": amount,
                        "kind": dict_col(np.zeros(k, dtype=np.int32), ["usage"]),
                        "description": dict_col(
                            np.zeros(k, dtype=np.int32), ["Abonemen dan pemakaian"]
                        ),
                    },
                    k,
                ),
            )
        if d.day in (5, 20):
            who = post if d.day == 5 else post[rng.random(len(post)) < 0.1]
            typ = 3 if d.day == 5 else 4
            text = (
                f"Tagihan {d.year:04d}-{d.month:02d} telah terbit"
                if d.day == 5
                else "Tagihan Anda jatuh tempo dalam 5 hari"
            )
            self._notify(who, local_seconds(d, 9 * 3600, 7), typ, text)
        if d.day == 25:  # genuine non-payment: only lines that dispute nothing
            eligible = post[(post % 10 == 0)]
            bar = eligible[rng.random(len(eligible)) < BAR_SHARE * 10]
            k = len(bar)
            if k:
                at = local_seconds(d, 9 * 3600, 7) + rng.integers(0, 3600, size=k)
                due = (np.round(rng.lognormal(np.log(150_000), 0.5, size=k) / 1000) * 1000).astype(
                    np.int64
                )
                paid = rng.random(k) < 0.6
                unbar_at = at + rng.integers(1, 4, size=k) * DAY + rng.integers(0, 8 * 3600, size=k)
                unbar = paid & (unbar_at < self.t1)
                self._line_actions(bar, at, 1, due)
                self._notify(bar, at + 60, 5, "Layanan Anda diblokir karena tagihan belum dibayar.")
                if unbar.any():
                    self._line_actions(bar[unbar], unbar_at[unbar], 2, None)
                self.barred.update(bar[~unbar].tolist())

    def _line_actions(
        self, subs_idx: np.ndarray, at: np.ndarray, action: int, due: np.ndarray | None
    ) -> None:
        k = len(subs_idx)
        ids = text_ids("LA", self.ids.line_action, k, 9)
        self.ids.line_action += k
        self.out.write(
            "line_actions",
            make_table(
                "line_actions",
                {
                    "action_id": ids,
                    "msisdn": msisdn_text(self.w.subscribers.msisdn[subs_idx]),
                    "at": at,
                    "action": dict_col(
                        np.full(k, 0 if action == 1 else 1, dtype=np.int32),
                        ["bar_outgoing", "unbar"],
                    ),
                    "reason": dict_col(np.zeros(k, dtype=np.int32), ["non_payment"]),
                    "amount_due": due,
                    "agent_id": dict_col(np.zeros(k, dtype=np.int32), [BILLING_AGENT]),
                },
                k,
            ),
        )

    def _notify(self, subs_idx: np.ndarray, at: int | np.ndarray, typ: int, text: str) -> None:
        k = len(subs_idx)
        if not k:
            return
        ids = text_ids("NT", self.ids.notification, k, 11)
        self.ids.notification += k
        self.out.write(
            "notifications",
            make_table(
                "notifications",
                {
                    "notification_id": ids,
                    "msisdn": msisdn_text(self.w.subscribers.msisdn[subs_idx]),
                    "at": np.broadcast_to(np.asarray(at, dtype=np.int64), (k,)).copy(),
                    "channel": dict_col(np.zeros(k, dtype=np.int32), ["sms"]),
                    "type": dict_col(np.full(k, typ, dtype=np.int32), list(NOTIFY_TYPES)),
                    "text": dict_col(np.zeros(k, dtype=np.int32), [text]),
                },
                k,
            ),
        )

    def _complaints(self, rng: np.random.Generator, day: int, d: date) -> None:
        k = int(rng.poisson(self.n * COMPLAINT_RATE))
        if not k:
            return
        who = rng.integers(0, self.n, size=k)
        who = who[who % 10 != 0]  # complainants are never among the lines barred for non-payment
        k = len(who)
        if not k:
            return
        kind = rng.choice(len(COMPLAINTS), size=k, p=COMPLAINT_P / COMPLAINT_P.sum())
        at = local_seconds(d, 8 * 3600, 7) + rng.integers(0, 12 * 3600, size=k)
        stamp = f"TCK-{d:%Y-%m%d}-"
        ids = text_ids(stamp, 1, k, 5)
        self.out.write(
            "complaints",
            make_table(
                "complaints",
                {
                    "complaint_id": ids,
                    "msisdn": msisdn_text(self.w.subscribers.msisdn[who]),
                    "opened_at": at,
                    "channel": dict_col(kind, [c[1] for c in COMPLAINTS]),
                    "category": dict_col(kind, [c[0] for c in COMPLAINTS]),
                    "summary": dict_col(kind, [c[2] for c in COMPLAINTS]),
                    "disputed_charge_ids": pa.array([[]] * k, pa.list_(pa.string())),
                    "disputed_amount": np.zeros(k, dtype=np.int64),
                },
                k,
            ),
        )
        later = at + 2 * DAY
        ok = later < self.t1
        if ok.any():
            ids2 = text_ids("NT", self.ids.notification, int(ok.sum()), 11)
            self.ids.notification += int(ok.sum())
            self.out.write(
                "notifications",
                make_table(
                    "notifications",
                    {
                        "notification_id": ids2,
                        "msisdn": msisdn_text(self.w.subscribers.msisdn[who[ok]]),
                        "at": later[ok],
                        "channel": dict_col(np.zeros(int(ok.sum()), dtype=np.int32), ["sms"]),
                        "type": dict_col(
                            np.full(int(ok.sum()), 6, dtype=np.int32), list(NOTIFY_TYPES)
                        ),
                        "text": pc.binary_join_element_wise(
                            "Keluhan ",
                            pc.take(ids, pa.array(np.flatnonzero(ok))),
                            " sedang kami proses.",
                            "",
                        ),
                    },
                    int(ok.sum()),
                ),
            )

    def _subscribers(self) -> None:
        subs = self.w.subscribers
        status = np.zeros(self.n, dtype=np.int32)
        if self.barred:
            status[np.fromiter(self.barred, dtype=np.int64)] = 1
        for lo in range(0, self.n, SUBSCRIBER_BATCH):
            hi = min(self.n, lo + SUBSCRIBER_BATCH)
            self.out.write(
                "subscribers",
                make_table(
                    "subscribers",
                    {
                        "msisdn": msisdn_text(subs.msisdn[lo:hi]),
                        "plan": dict_col(
                            subs.postpaid[lo:hi].astype(np.int32), ["prepaid", "postpaid"]
                        ),
                        "home_region": dict_col(
                            subs.region[lo:hi].astype(np.int32), self.region_names
                        ),
                        "since": subs.since[lo:hi],
                        "status": dict_col(status[lo:hi], ["active", "barred"]),
                    },
                    hi - lo,
                ),
            )


def packages_rows() -> list[dict[str, object]]:
    return [
        {
            "package_id": p[0],
            "name": p[1],
            "price": p[2],
            "period_days": p[3],
            "data_mb": p[4],
            "auto_renew": p[5],
        }
        for p in CATALOGUE
    ]


__all__ = ["Background", "packages_rows", "text_ids"]
