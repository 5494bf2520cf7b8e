"""Every sentence an evidence report says, in English and Indonesian.

The report keeps what it found as codes with parameters (an evidence item is
``{code, params, record_ids, text}``); the words come from here, so the JSON,
the terminal text and the HTML page (``--lang id|en``) say the same thing.
``MESSAGES`` holds the evidence and verdict sentences (each code is explained
in ``docs/verdicts.md``, and a test fails when one is missing there);
``LABELS`` the headings and table words of the rendered pages.

Example::

    >>> msg("OUTLET_CLOSED", "en", outlet="GraPARI Sragen", when="2016-07-18 21:14 WIB", hours="08:00-16:00 Mon-Sat")
    'GraPARI Sragen was closed at 2016-07-18 21:14 WIB (open 08:00-16:00 Mon-Sat).'
    >>> msg("OUTLET_CLOSED", "id", outlet="GraPARI Sragen", when="2016-07-18 21:14 WIB", hours="08:00-16:00 Mon-Sat")
    'GraPARI Sragen sedang tutup pada 2016-07-18 21:14 WIB (buka 08:00-16:00 Mon-Sat).'
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from jejak.errors import UsageError

LANGS = ("en", "id")

#: evidence and verdict sentences: code -> {lang: template}
MESSAGES: dict[str, dict[str, str]] = {
    # ---- consent
    "NO_CONSENT": {
        "en": "No consent of the subscriber is on record for {event} ({package} at {when}).",
        "id": "Tidak ada persetujuan pelanggan yang tercatat untuk {event} ({package} pada {when}).",
    },
    "CONSENT_UNVERIFIED": {
        "en": "Consent {consent} named by {event} was never verified by the operator's system.",
        "id": "Persetujuan {consent} yang dirujuk {event} tidak pernah diverifikasi sistem operator.",
    },
    "CONSENT_MISMATCH": {
        "en": "Consent {consent} named by {event} does not cover it: {detail}.",
        "id": "Persetujuan {consent} yang dirujuk {event} tidak mencakupnya: {detail}.",
    },
    "CONSENT_VERIFIED": {
        "en": "Verified consent {consent} ({method}, {consent_at}) covers {event}.",
        "id": "Persetujuan terverifikasi {consent} ({method}, {consent_at}) mencakup {event}.",
    },
    # ---- address and session
    "ADDRESS_OUTSIDE_OPERATOR": {
        "en": "{event} came from {ip}, an address in no network of any of the operator's outlets.",
        "id": "{event} berasal dari {ip}, alamat di luar jaringan semua gerai operator.",
    },
    "ADDRESS_OTHER_OUTLET": {
        "en": "{event} came from {ip}, a network of {other} and not of {outlet}, where it was booked.",
        "id": "{event} berasal dari {ip}, jaringan {other} dan bukan {outlet} tempat transaksi dicatat.",
    },
    "ADDRESS_IN_OUTLET": {
        "en": "{event} came from {ip}, inside the network of {outlet}.",
        "id": "{event} berasal dari {ip}, di dalam jaringan {outlet}.",
    },
    "SESSION_MISSING": {
        "en": "{event} was made under user ID {agent} with no session the front end has a record of ({session}).",
        "id": "{event} dilakukan dengan user ID {agent} tanpa sesi yang tercatat di sistem ({session}).",
    },
    "SESSION_MISMATCH": {
        "en": "Session {session} does not match {event}: {detail}.",
        "id": "Sesi {session} tidak cocok dengan {event}: {detail}.",
    },
    "SESSION_MATCHES": {
        "en": "{event} was made in session {session} of user ID {agent} on terminal {device} ({started} to {ended}).",
        "id": "{event} dilakukan dalam sesi {session} user ID {agent} di terminal {device} ({started} s.d. {ended}).",
    },
    # ---- outlet, roster, terminal
    "OUTLET_CLOSED": {
        "en": "{outlet} was closed at {when} (open {hours}).",
        "id": "{outlet} sedang tutup pada {when} (buka {hours}).",
    },
    "OWNER_NOT_ON_SHIFT": {
        "en": "{person}, to whom user ID {agent} is issued, had no shift at {when}{shifts}.",
        "id": "{person}, pemilik user ID {agent}, tidak sedang bertugas pada {when}{shifts}.",
    },
    "OWNER_ELSEWHERE": {
        "en": "{person}, to whom user ID {agent} is issued, was rostered at {other} (shift {shift}), not at {outlet}.",
        "id": "{person}, pemilik user ID {agent}, dijadwalkan di {other} (shift {shift}), bukan di {outlet}.",
    },
    "OWNER_ON_SHIFT": {
        "en": "{person}, to whom user ID {agent} is issued, was rostered at {outlet} then (shift {shift}).",
        "id": "{person}, pemilik user ID {agent}, sedang bertugas di {outlet} saat itu (shift {shift}).",
    },
    "OWNER_NOT_ROSTERED_STAFF": {
        "en": "User ID {agent} ({person}, {role}) has no shift in the roster at all: the ID's owner is taken to act in person.",
        "id": "User ID {agent} ({person}, {role}) tidak pernah ada di jadwal tugas: pemilik ID dianggap bertindak sendiri.",
    },
    "OWNER_LOGGED_OUT": {
        "en": "{person}'s own session {session} on terminal {device} had ended at {ended}, before {event}.",
        "id": "Sesi {person} sendiri, {session} di terminal {device}, sudah berakhir pada {ended}, sebelum {event}.",
    },
    "OTHER_ON_DUTY": {
        "en": "{person} (user ID {agent}) was rostered at {outlet} at {when} ({duty} shift {shift}).",
        "id": "{person} (user ID {agent}) bertugas di {outlet} pada {when} (shift {duty} {shift}).",
    },
    "TERMINAL_HANDOVER": {
        "en": "Terminal {device} was used by {person} (user ID {other_agent}, session {other_session}) until {ended}, {minutes} min before user ID {agent} logged in on it.",
        "id": "Terminal {device} dipakai oleh {person} (user ID {other_agent}, sesi {other_session}) sampai {ended}, {minutes} menit sebelum user ID {agent} login di sana.",
    },
    "ID_IN_TWO_PLACES": {
        "en": "User ID {agent} had another session, {other_session}, open at the same time on terminal {device} from {ip}.",
        "id": "User ID {agent} punya sesi lain, {other_session}, yang terbuka bersamaan di terminal {device} dari {ip}.",
    },
    "ID_STATUS": {
        "en": "User ID {agent} ({person}) could not be used by its owner at {when}: {detail}.",
        "id": "User ID {agent} ({person}) tidak dapat dipakai pemiliknya pada {when}: {detail}.",
    },
    "UNKNOWN_AGENT": {
        "en": "User ID {agent} is in no HR or roster export: no person is known to hold it.",
        "id": "User ID {agent} tidak ada di data SDM maupun jadwal: tidak diketahui siapa pemiliknya.",
    },
    # ---- the subscriber's handset
    "HANDSET_ELSEWHERE": {
        "en": "The subscriber's handset was in {city} at {loc_at}, not in {outlet_city} where {event} was booked.",
        "id": "Ponsel pelanggan berada di {city} pada {loc_at}, bukan di {outlet_city} tempat {event} dicatat.",
    },
    "HANDSET_AT_OUTLET": {
        "en": "The subscriber's handset was in {city} at {loc_at}, where {event} was booked.",
        "id": "Ponsel pelanggan berada di {city} pada {loc_at}, kota tempat {event} dicatat.",
    },
    # ---- charges
    "CHARGE_AFTER_END": {
        "en": "Charge {charge} ({amount}) for {package} was billed after {end_event} had ended the package on {end_at}, with no new activation since.",
        "id": "Tagihan {charge} ({amount}) untuk {package} dibebankan setelah {end_event} mengakhiri paket pada {end_at}, tanpa aktivasi baru sesudahnya.",
    },
    "CHARGE_DURING_PROMO": {
        "en": "Charge {charge} ({amount}) for {package} was billed during the promo of {event}, which runs until {promo_ends} at {price}.",
        "id": "Tagihan {charge} ({amount}) untuk {package} dibebankan selama promo {event}, yang berlaku sampai {promo_ends} dengan harga {price}.",
    },
    "CHARGE_ABOVE_PRICE": {
        "en": "Charge {charge} ({amount}) for {package} is above the price agreed in {event} ({price}).",
        "id": "Tagihan {charge} ({amount}) untuk {package} melebihi harga yang disepakati di {event} ({price}).",
    },
    "CHARGE_NO_PROVISIONING": {
        "en": "Charge {charge} ({amount}) for {package} follows no activation of that package on this line.",
        "id": "Tagihan {charge} ({amount}) untuk {package} tidak didahului aktivasi paket itu di nomor ini.",
    },
    "CHARGE_FOLLOWS_PROVISIONING": {
        "en": "Charge {charge} ({amount}) for {package} follows {event} at its agreed price.",
        "id": "Tagihan {charge} ({amount}) untuk {package} sesuai dengan {event} dan harga yang disepakati.",
    },
    "CHARGE_FROM_UNCONSENTED": {
        "en": "Charge {charge} ({amount}) is for {package}, put on the line by {event} without verified consent.",
        "id": "Tagihan {charge} ({amount}) adalah untuk {package}, yang dipasang oleh {event} tanpa persetujuan terverifikasi.",
    },
    # ---- alerts
    "ALERT": {
        "en": "Alert {alert} ({rule}, {severity}): {explanation}",
        "id": "Peringatan {alert} ({rule}, {severity}): {explanation}",
    },
    # ---- verdicts (reasons)
    "VERDICT_EXTERNAL": {
        "en": "Someone outside the operator reached its provisioning front end: {why}. No verified consent covers {events}. The operator bears the loss: its systems were used against the subscriber.",
        "id": "Pihak luar berhasil masuk ke sistem aktivasi operator: {why}. Tidak ada persetujuan terverifikasi untuk {events}. Operator menanggung kerugian: sistemnya dipakai untuk merugikan pelanggan.",
    },
    "VERDICT_CREDENTIAL": {
        "en": "User ID {agent}, issued to {owner}, was used by someone else: {why}. {suspects} No verified consent covers {events}. The operator bears the loss: its staff and its access control failed, not the subscriber.",
        "id": "User ID {agent} milik {owner} dipakai orang lain: {why}. {suspects} Tidak ada persetujuan terverifikasi untuk {events}. Operator menanggung kerugian: yang gagal adalah staf dan kendali aksesnya, bukan pelanggan.",
    },
    "VERDICT_OWNER": {
        "en": "User ID {agent}'s owner, {owner}, acted on the line in person ({why}) without the subscriber's verified consent for {events}. The operator bears the loss: it answers for its staff and dealers.",
        "id": "Pemilik user ID {agent}, {owner}, melakukan transaksi sendiri ({why}) tanpa persetujuan terverifikasi pelanggan untuk {events}. Operator menanggung kerugian: operator bertanggung jawab atas staf dan dealernya.",
    },
    "VERDICT_CONSENTED": {
        "en": "Verified consent covers every disputed action ({events}), and every disputed charge follows from it at the agreed price. The charges stand; the operator is not liable.",
        "id": "Persetujuan terverifikasi mencakup semua transaksi yang disanggah ({events}), dan semua tagihan yang disanggah sesuai dengan harga yang disepakati. Tagihan tetap berlaku; operator tidak bertanggung jawab.",
    },
    "VERDICT_BILLING": {
        "en": "The disputed charges do not follow from any valid provisioning: {why}. The operator bears the loss: its billing charged what was not owed.",
        "id": "Tagihan yang disanggah tidak berasal dari aktivasi yang sah: {why}. Operator menanggung kerugian: sistem tagihannya membebankan yang tidak terutang.",
    },
    "VERDICT_INSUFFICIENT_UNCONSENTED": {
        "en": "The records do not tell who made {events}: {why}. No verified consent covers them, and proving consent is the operator's burden, so the operator bears the loss while the case stays open for the missing records.",
        "id": "Catatan tidak menunjukkan siapa yang melakukan {events}: {why}. Tidak ada persetujuan terverifikasi, dan membuktikan persetujuan adalah kewajiban operator, sehingga operator menanggung kerugian sementara kasus tetap terbuka.",
    },
    "VERDICT_INSUFFICIENT_EMPTY": {
        "en": "The records hold no disputed or unconsented action and no billing error on this line: there is nothing to weigh. The operator is not held liable on this evidence.",
        "id": "Catatan tidak memuat transaksi yang disanggah atau tanpa persetujuan, maupun kesalahan tagihan di nomor ini: tidak ada yang dapat ditimbang. Operator tidak dinyatakan bertanggung jawab atas bukti ini.",
    },
    "SUSPECT_ON_DUTY": {
        "en": "{person} (user ID {agent}), rostered there ({duty} shift {shift}), was most likely the person at the terminal.",
        "id": "{person} (user ID {agent}), yang bertugas di sana (shift {duty} {shift}), kemungkinan besar adalah orang di terminal itu.",
    },
    "SUSPECT": {
        "en": "{person} (user ID {agent}) was most likely the person at the terminal.",
        "id": "{person} (user ID {agent}) kemungkinan besar adalah orang di terminal itu.",
    },
    # ---- remedy
    "REMEDY_REFUND": {
        "en": "Refund {refund} for {charges}, which the evidence does not support.",
        "id": "Kembalikan {refund} untuk {charges}, yang tidak didukung bukti.",
    },
    "REMEDY_NO_REFUND": {
        "en": "No charge is refunded: the evidence supports every charge.",
        "id": "Tidak ada tagihan yang dikembalikan: bukti mendukung semua tagihan.",
    },
    "REMEDY_UNBAR": {
        "en": "Lift the bar {action} placed on {when} over the disputed amount, and compensate {days} day(s) barred at {rate} a day: {compensation}.",
        "id": "Cabut blokir {action} sejak {when} atas jumlah yang disanggah, dan beri kompensasi {days} hari terblokir dengan {rate} per hari: {compensation}.",
    },
    "REMEDY_UNBAR_DISPUTE": {
        "en": "Lift the bar {action} placed on {when} while complaint {complaint}, disputing that amount, was open: a line may not be barred over a disputed amount until the complaint is decided and the subscriber has had notice. Compensate {days} day(s) barred at {rate} a day: {compensation}.",
        "id": "Cabut blokir {action} sejak {when} yang dipasang saat keluhan {complaint}, yang menyanggah jumlah itu, masih terbuka: nomor tidak boleh diblokir atas jumlah yang disanggah sebelum keluhan diputus dan pelanggan diberi tahu. Beri kompensasi {days} hari terblokir dengan {rate} per hari: {compensation}.",
    },
    "REMEDY_DISPUTE_BAR": {
        "en": "The bar {action} placed on {when} while complaint {complaint}, disputing that amount, was open wronged the subscriber until the complaint was decided on {decided}: compensate {days} day(s) barred at {rate} a day: {compensation}.",
        "id": "Blokir {action} sejak {when} yang dipasang saat keluhan {complaint}, yang menyanggah jumlah itu, masih terbuka merugikan pelanggan sampai keluhan diputus pada {decided}: beri kompensasi {days} hari terblokir dengan {rate} per hari: {compensation}.",
    },
    "REMEDY_STILL_BARRED": {
        "en": "The bar {action} is still in force on {as_of}: compensation keeps accruing at {rate} a day until it is lifted.",
        "id": "Blokir {action} masih berlaku pada {as_of}: kompensasi terus bertambah {rate} per hari sampai blokir dicabut.",
    },
    "REMEDY_BAR_STANDS": {
        "en": "The bar {action} is not over an amount the evidence disputes; it is left to the billing process.",
        "id": "Blokir {action} tidak terkait jumlah yang disanggah; diserahkan ke proses penagihan.",
    },
}

#: words of the rendered pages
LABELS: dict[str, dict[str, str]] = {
    "title": {"en": "Evidence report", "id": "Laporan bukti"},
    "subscriber": {"en": "Subscriber", "id": "Pelanggan"},
    "complaint": {"en": "Complaint", "id": "Keluhan"},
    "as_of": {"en": "Report as of", "id": "Laporan per"},
    "verdict": {"en": "Verdict", "id": "Putusan"},
    "liable": {"en": "Operator bears the loss", "id": "Operator menanggung kerugian"},
    "not_liable": {"en": "Operator is not liable", "id": "Operator tidak bertanggung jawab"},
    "suspects": {"en": "Who was at the terminal", "id": "Siapa yang ada di terminal"},
    "remedy": {"en": "Remedy", "id": "Pemulihan"},
    "refund": {"en": "Refund", "id": "Pengembalian dana"},
    "compensation": {"en": "Compensation", "id": "Kompensasi"},
    "unbar": {"en": "Lift the bar", "id": "Cabut blokir"},
    "yes": {"en": "yes", "id": "ya"},
    "no": {"en": "no", "id": "tidak"},
    "unknown": {"en": "unknown", "id": "tidak diketahui"},
    "none": {"en": "none", "id": "tidak ada"},
    "actions": {
        "en": "Disputed or unconsented actions",
        "id": "Transaksi yang disanggah atau tanpa persetujuan",
    },
    "event": {"en": "Event", "id": "Kejadian"},
    "at": {"en": "When", "id": "Waktu"},
    "package": {"en": "Package", "id": "Paket"},
    "user_id": {"en": "User ID", "id": "User ID"},
    "person": {"en": "Person", "id": "Orang"},
    "outlet": {"en": "Outlet", "id": "Gerai"},
    "address": {"en": "Address", "id": "Alamat IP"},
    "terminal": {"en": "Terminal", "id": "Terminal"},
    "session": {"en": "Session", "id": "Sesi"},
    "consent": {"en": "Consent", "id": "Persetujuan"},
    "inside_network": {"en": "Address is the outlet's", "id": "Alamat milik gerai"},
    "outlet_open": {"en": "Outlet open", "id": "Gerai buka"},
    "owner_on_shift": {"en": "Owner on shift", "id": "Pemilik bertugas"},
    "on_duty": {"en": "Rostered there then", "id": "Yang bertugas saat itu"},
    "conclusion": {"en": "Conclusion", "id": "Kesimpulan"},
    "hypotheses": {"en": "Hypotheses", "id": "Hipotesis"},
    "supported": {"en": "supported", "id": "didukung"},
    "not_supported": {"en": "not supported", "id": "tidak didukung"},
    "for": {"en": "For", "id": "Mendukung"},
    "against": {"en": "Against", "id": "Menyangkal"},
    "findings": {"en": "Alerts", "id": "Peringatan"},
    "blast_radius": {"en": "Other subscribers touched", "id": "Pelanggan lain yang terdampak"},
    "by_agent": {"en": "Same user ID, same way", "id": "User ID sama, cara sama"},
    "by_session": {"en": "Same session", "id": "Sesi sama"},
    "by_source_ip": {"en": "Same address", "id": "Alamat sama"},
    "by_device": {"en": "Same terminal", "id": "Terminal sama"},
    "contacts": {"en": "Whom to contact", "id": "Yang perlu dihubungi"},
    "chronology": {"en": "Chronology", "id": "Kronologi"},
    "timeline": {"en": "Timeline of the case", "id": "Linimasa kasus"},
    "graph": {
        "en": "User IDs, sessions, terminals and subscribers",
        "id": "User ID, sesi, terminal dan pelanggan",
    },
    "kind": {"en": "Kind", "id": "Jenis"},
    "record": {"en": "Record", "id": "Catatan"},
    "summary": {"en": "What happened", "id": "Yang terjadi"},
    "records": {"en": "records", "id": "catatan"},
    "plan": {"en": "Plan", "id": "Jenis layanan"},
    "region": {"en": "Region", "id": "Wilayah"},
    "via": {"en": "Found through", "id": "Ditemukan lewat"},
    "generated": {
        "en": "Made by jejak from the operator's records; every statement names its records.",
        "id": "Dibuat oleh jejak dari catatan operator; setiap pernyataan menyebut catatannya.",
    },
    "hyp.external_compromise": {"en": "External compromise", "id": "Pembobolan dari luar"},
    "hyp.credential_misuse": {"en": "Credential misuse", "id": "Penyalahgunaan user ID"},
    "hyp.owner_misuse": {"en": "Owner misuse", "id": "Penyalahgunaan oleh pemilik ID"},
    "hyp.customer_consented": {"en": "Customer consented", "id": "Pelanggan menyetujui"},
    "hyp.billing_error": {"en": "Billing error", "id": "Kesalahan tagihan"},
    "hyp.insufficient_evidence": {"en": "Insufficient evidence", "id": "Bukti tidak cukup"},
    "kind.provisioning": {"en": "provisioning", "id": "aktivasi"},
    "kind.consents": {"en": "consent", "id": "persetujuan"},
    "kind.charges": {"en": "charge", "id": "tagihan"},
    "kind.notifications": {"en": "notification", "id": "notifikasi"},
    "kind.line_actions": {"en": "line action", "id": "tindakan nomor"},
    "kind.complaints": {"en": "complaint", "id": "keluhan"},
    "kind.locations": {"en": "handset location", "id": "lokasi ponsel"},
    "kind.sessions": {"en": "session", "id": "sesi"},
    "kind.shifts": {"en": "shift", "id": "shift"},
}

#: chronology summaries per record kind
CHRONOLOGY: dict[str, dict[str, str]] = {
    "provisioning": {
        "en": "{action} {package} via {channel}{by}{outlet}{consent}",
        "id": "{action} {package} lewat {channel}{by}{outlet}{consent}",
    },
    "consents": {
        "en": "consent by {method}, {verified}",
        "id": "persetujuan lewat {method}, {verified}",
    },
    "charges": {
        "en": "{kind} charge {amount} (cycle {cycle}){package}: {description}",
        "id": "tagihan {kind} {amount} (siklus {cycle}){package}: {description}",
    },
    "notifications": {"en": "{channel} {type}: {text}", "id": "{channel} {type}: {text}"},
    "line_actions": {
        "en": "{action} ({reason}){amount}",
        "id": "{action} ({reason}){amount}",
    },
    "complaints": {
        "en": "complaint via {channel} ({category}) disputing {amount}: {summary}",
        "id": "keluhan lewat {channel} ({category}) menyanggah {amount}: {summary}",
    },
    "locations": {
        "en": "handset in {city} ({region}), cell {cell}",
        "id": "ponsel di {city} ({region}), sel {cell}",
    },
}


def check_lang(lang: str) -> str:
    """``lang`` if jejak speaks it, else a UsageError."""
    if lang not in LANGS:
        raise UsageError("--lang", f"unknown language {lang!r} (choose from: {', '.join(LANGS)})")
    return lang


def msg(code: str, lang: str = "en", **params: Any) -> str:
    """The sentence for ``code`` in ``lang`` with ``params`` filled in."""
    return MESSAGES[code][check_lang(lang)].format(**params)


def label(key: str, lang: str = "en") -> str:
    """A heading or table word in ``lang``."""
    return LABELS[key][check_lang(lang)]


def chronology_summary(record_kind: str, lang: str, **params: Any) -> str:
    """The chronology's one-line summary of a record of ``record_kind``."""
    return CHRONOLOGY[record_kind][check_lang(lang)].format(**params)


def idr(amount: int | None) -> str:
    """Rupiah the way both languages write it.

    >>> idr(500000)
    'IDR 500,000'
    """
    return f"IDR {int(amount or 0):,}"


def local(at: datetime | None, tz: str | None) -> str:
    """``2016-07-18 21:14 WIB``: a moment in an outlet's (or the report's) time zone."""
    if at is None:
        return "?"
    try:
        zone = ZoneInfo(tz or "UTC")
    except (KeyError, ValueError):
        zone = ZoneInfo("UTC")
    t = at.astimezone(zone)
    return f"{t:%Y-%m-%d %H:%M} {t.tzname()}"
