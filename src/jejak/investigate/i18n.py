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

import re
from datetime import UTC, datetime
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
        "en": "{person}, to whom user ID {agent} is issued, had no shift at {when}{that_day}.",
        "id": "{person}, pemilik user ID {agent}, tidak sedang bertugas pada {when}{that_day}.",
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
    "times_in": {"en": "times in", "id": "semua waktu dalam"},
    "number": {"en": "Number", "id": "Nomor"},
    "alert": {"en": "Alert", "id": "Peringatan"},
    "rule": {"en": "Rule", "id": "Aturan"},
    "severity": {"en": "Severity", "id": "Tingkat"},
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
    # ---- the timeline's legend, the graph's collapsed nodes, the cited staff records
    "legend.cited": {
        "en": "in the verdict or remedy",
        "id": "disebut dalam putusan atau pemulihan",
    },
    "legend.record": {"en": "other record", "id": "catatan lain"},
    "legend.ended": {"en": "package ended", "id": "paket berakhir"},
    "more.subscriber": {"en": "and {n} other subscribers", "id": "dan {n} pelanggan lain"},
    "more": {"en": "and {n} more", "id": "dan {n} lainnya"},
    "staff_records": {"en": "Staff records cited", "id": "Catatan staf yang dirujuk"},
    "starts": {"en": "From", "id": "Dari"},
    "ends": {"en": "Until", "id": "Sampai"},
    # ---- the customer's report (``--audience customer``)
    "audience.customer": {"en": "for the subscriber", "id": "untuk pelanggan"},
    "in_short": {"en": "In short", "id": "Ringkasnya"},
    "consent_on_record": {"en": "Consent on record", "id": "Persetujuan tercatat"},
    "verb.activate": {"en": "activated", "id": "diaktifkan"},
    "verb.renew": {"en": "renewed", "id": "diperpanjang"},
    "verb.modify": {"en": "changed", "id": "diubah"},
    "verb.deactivate": {"en": "deactivated", "id": "dinonaktifkan"},
    "verb.expire": {"en": "ended", "id": "diakhiri"},
    "plain.complaint": {
        "en": "You complained on {when} (ticket {ticket}) about {amount} billed to number {msisdn}.",
        "id": "Anda mengajukan keluhan pada {when} (tiket {ticket}) atas tagihan {amount} di nomor {msisdn}.",
    },
    "plain.complaint_no_amount": {
        "en": "You complained on {when} (ticket {ticket}) about number {msisdn}.",
        "id": "Anda mengajukan keluhan pada {when} (tiket {ticket}) tentang nomor {msisdn}.",
    },
    "plain.no_complaint": {
        "en": "This report covers every record about number {msisdn}.",
        "id": "Laporan ini mencakup semua catatan tentang nomor {msisdn}.",
    },
    "plain.checked": {
        "en": "We checked all {n} records about your number: packages, consents, charges, messages, bars and where your phone was.",
        "id": "Kami memeriksa semua {n} catatan tentang nomor Anda: paket, persetujuan, tagihan, pesan, blokir, dan lokasi ponsel Anda.",
    },
    "plain.action": {
        "en": "On {when}, package {package} was {verb} on your number at {outlet}, under staff user ID {agent}{person}.",
        "id": "Pada {when}, paket {package} {verb} di nomor Anda di {outlet}, dengan user ID petugas {agent}{person}.",
    },
    "plain.action_no_agent": {
        "en": "On {when}, package {package} was {verb} on your number through {outlet}.",
        "id": "Pada {when}, paket {package} {verb} di nomor Anda lewat {outlet}.",
    },
    "plain.no_consent": {
        "en": "No verified consent of yours is on record for it.",
        "id": "Tidak ada persetujuan Anda yang terverifikasi untuk itu.",
    },
    "plain.consent": {
        "en": "Your verified consent is on record for it.",
        "id": "Persetujuan Anda yang terverifikasi tercatat untuk itu.",
    },
    "plain.outlet_closed": {
        "en": "The outlet was closed at that time.",
        "id": "Gerai itu sedang tutup pada jam itu.",
    },
    "plain.outside_network": {
        "en": "It was not made from the outlet's own network.",
        "id": "Transaksi itu tidak dilakukan dari jaringan gerai itu sendiri.",
    },
    "plain.owner_off": {
        "en": "The staff member this user ID belongs to was not on shift.",
        "id": "Petugas pemilik user ID itu sedang tidak bertugas.",
    },
    "plain.verdict.external_compromise": {
        "en": "Our finding: someone outside the operator got into its systems and made the change. It was not your doing: the operator bears the loss.",
        "id": "Temuan kami: orang luar masuk ke sistem operator dan melakukan perubahan itu. Ini bukan kesalahan Anda: operator menanggung kerugian.",
    },
    "plain.verdict.credential_misuse": {
        "en": "Our finding: someone inside the operator used another employee's user ID. It was not your doing: the operator bears the loss.",
        "id": "Temuan kami: orang dalam operator memakai user ID karyawan lain. Ini bukan kesalahan Anda: operator menanggung kerugian.",
    },
    "plain.verdict.owner_misuse": {
        "en": "Our finding: the staff member who holds the user ID made the change without your consent. The operator answers for its staff and bears the loss.",
        "id": "Temuan kami: petugas pemilik user ID melakukan perubahan itu tanpa persetujuan Anda. Operator bertanggung jawab atas stafnya dan menanggung kerugian.",
    },
    "plain.verdict.customer_consented": {
        "en": "Our finding: your verified consent covers the disputed package, and the charges follow from it at the agreed price. The charges stand.",
        "id": "Temuan kami: persetujuan Anda yang terverifikasi mencakup paket yang disanggah, dan tagihannya sesuai dengan harga yang disepakati. Tagihan tetap berlaku.",
    },
    "plain.verdict.billing_error": {
        "en": "Our finding: the disputed charges were billed in error. The operator bears the loss.",
        "id": "Temuan kami: tagihan yang disanggah dibebankan karena kesalahan penagihan. Operator menanggung kerugian.",
    },
    "plain.verdict.insufficient_evidence.liable": {
        "en": "Our finding: the records do not show who made the change, and no verified consent of yours covers it. Proving consent is the operator's duty, so the operator bears the loss while the case stays open.",
        "id": "Temuan kami: catatan tidak menunjukkan siapa yang melakukan perubahan itu, dan tidak ada persetujuan Anda yang terverifikasi. Membuktikan persetujuan adalah kewajiban operator, sehingga operator menanggung kerugian sementara kasus tetap terbuka.",
    },
    "plain.verdict.insufficient_evidence.not_liable": {
        "en": "Our finding: the records show no change to your number without your consent and no billing error, so the operator is not held liable.",
        "id": "Temuan kami: catatan tidak menunjukkan perubahan di nomor Anda tanpa persetujuan Anda maupun kesalahan tagihan, sehingga operator tidak dinyatakan bertanggung jawab.",
    },
    "plain.refund": {
        "en": "You get {refund} back, for charges {charges}.",
        "id": "Anda menerima kembali {refund}, untuk tagihan {charges}.",
    },
    "plain.no_refund": {
        "en": "No charge is refunded.",
        "id": "Tidak ada tagihan yang dikembalikan.",
    },
    "plain.unbar": {
        "en": "The bar on your line is to be lifted.",
        "id": "Blokir di nomor Anda harus dicabut.",
    },
    "plain.compensation": {
        "en": "You are owed {compensation} for the {days} day(s) your line was barred.",
        "id": "Anda berhak atas kompensasi {compensation} untuk {days} hari nomor Anda diblokir.",
    },
    "plain.records": {
        "en": "Every statement below names the records it rests on; you may ask for any of them by its number.",
        "id": "Setiap pernyataan di bawah menyebut catatan yang menjadi dasarnya; Anda dapat meminta catatan mana pun dengan nomornya.",
    },
}

#: chronology summaries per record kind; ``{by}``, ``{outlet}``, ``{consent}``, ``{package}`` and
#: ``{amount}`` of provisioning, charges and line actions are the FRAGMENTS below, filled in
#: :func:`chronology_summary` from the record's raw values
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

#: the chronology as the customer's report says it: the network's cell ids are internal
CHRONOLOGY_CUSTOMER: dict[str, dict[str, str]] = {
    "locations": {"en": "handset in {city} ({region})", "id": "ponsel di {city} ({region})"},
}

#: the optional parts of sentences: (fragment, lang) -> template; said only when its value is given
FRAGMENTS: dict[str, dict[str, str]] = {
    "by": {"en": " by user ID {0}", "id": " oleh user ID {0}"},
    "at_outlet": {"en": " at {0}", "id": " di {0}"},
    "consent": {"en": ", consent {0}", "id": ", persetujuan {0}"},
    "no_consent": {"en": ", no consent", "id": ", tanpa persetujuan"},
    "for_package": {"en": " for {0}", "id": " untuk {0}"},
    "due": {"en": ", {0} due", "id": ", tunggakan {0}"},
    "that_day": {"en": "; that day: {0}", "id": "; hari itu: {0}"},
}

#: the words of the export's enumerations (and the report's own), in Indonesian; English keeps
#: the export's own word
VALUES_ID: dict[str, str] = {
    # provisioning actions and channels
    "activate": "aktivasi",
    "renew": "perpanjangan",
    "modify": "perubahan",
    "deactivate": "penonaktifan",
    "expire": "berakhir",
    "outlet": "gerai",
    "dealer": "dealer",
    "call_center": "pusat panggilan",
    "app": "aplikasi",
    "ussd": "USSD",
    "web": "web",
    "system": "sistem",
    # consents
    "app_pin": "PIN aplikasi",
    "ussd_confirm": "konfirmasi USSD",
    "sms_otp": "OTP SMS",
    "signed_form": "formulir bertanda tangan",
    "voice_recording": "rekaman suara",
    "verified": "terverifikasi",
    "NOT verified": "TIDAK terverifikasi",
    # charges, notifications, line actions, complaints
    "package": "paket",
    "usage": "pemakaian",
    "fee": "biaya",
    "adjustment": "penyesuaian",
    "sms": "SMS",
    "email": "email",
    "package_activated": "paket aktif",
    "package_deactivated": "paket nonaktif",
    "package_expiring": "paket akan berakhir",
    "bill_issued": "tagihan terbit",
    "payment_due": "jatuh tempo",
    "line_barred": "nomor diblokir",
    "complaint_update": "kabar keluhan",
    "bar_outgoing": "blokir panggilan keluar",
    "bar_all": "blokir total",
    "unbar": "buka blokir",
    "non_payment": "tunggakan",
    "fraud": "penipuan",
    "customer_request": "permintaan pelanggan",
    "regulatory": "regulasi",
    "social_media": "media sosial",
    "unauthorized_activation": "aktivasi tanpa izin",
    "billing": "tagihan",
    "service": "layanan",
    "other": "lainnya",
    # staff, plans, severities
    "regular": "reguler",
    "on_call": "jaga",
    "cs": "layanan pelanggan",
    "supervisor": "supervisor",
    "backoffice": "back office",
    "postpaid": "pascabayar",
    "prepaid": "prabayar",
    "low": "rendah",
    "medium": "sedang",
    "high": "tinggi",
    "critical": "kritis",
    "active": "aktif",
    "on_leave": "cuti",
    "suspended": "diskors",
    "terminated": "berhenti",
}

#: the parameters that hold one of the values above
VALUE_PARAMS = frozenset(
    {
        "action",
        "channel",
        "method",
        "verified",
        "kind",
        "type",
        "reason",
        "category",
        "duty",
        "role",
        "plan",
        "severity",
        "status",
    }
)

WEEKDAYS_ID = {
    "Mon": "Sen",
    "Tue": "Sel",
    "Wed": "Rab",
    "Thu": "Kam",
    "Fri": "Jum",
    "Sat": "Sab",
    "Sun": "Min",
}

#: what each rule's alert says, in Indonesian (the English is the rule's own explanation);
#: ``{agent}``, ``{msisdn}``, ``{outlet}`` are the alert's fields, ``{when}`` its moment
ALERT_ID: dict[str, str] = {
    "JJK-001": "Paket diaktifkan dengan user ID {agent} di gerai {outlet} saat pemilik ID itu tidak dijadwalkan bertugas di sana ({when}).",
    "JJK-002": "Paket diaktifkan di gerai {outlet} saat gerai tutup, dan user ID {agent} tidak sedang jaga di sana ({when}).",
    "JJK-003": "Aktivasi dengan user ID {agent} berasal dari alamat di luar jaringan gerai {outlet} ({when}).",
    "JJK-004": "User ID {agent} login di terminal yang baru saja dipakai user ID lain, saat pemiliknya tidak bertugas ({when}).",
    "JJK-005": "User ID {agent} punya dua sesi terbuka bersamaan di terminal dan alamat yang berbeda ({when}).",
    "JJK-006": "User ID {agent} dipakai di dua kota yang terlalu jauh untuk ditempuh dalam selang waktu itu ({when}).",
    "JJK-007": "Paket diaktifkan di nomor {msisdn} dengan user ID {agent} tanpa persetujuan terverifikasi pelanggan ({when}).",
    "JJK-008": "Paket diaktifkan di gerai {outlet} saat ponsel pelanggan berada di wilayah lain ({when}).",
    "JJK-009": "User ID {agent} dipakai di luar masa berlakunya, atau saat pemiliknya cuti, diskors atau sudah berhenti ({when}).",
    "JJK-010": "User ID {agent} melakukan aktivasi tanpa persetujuan terverifikasi jauh lebih banyak daripada rekan-rekannya ({when}).",
    "JJK-011": "Tagihan paket dibebankan setelah paket dinonaktifkan, tanpa aktivasi baru sesudahnya ({when}).",
    "JJK-012": "Tagihan di atas harga promo dibebankan sebelum promo berakhir ({when}).",
    "JJK-013": "Tagihan melebihi harga yang disepakati saat aktivasi ({when}).",
    "JJK-014": "Nomor {msisdn} diblokir karena tunggakan sebesar jumlah yang disanggah keluhan pelanggan ({when}).",
    "JJK-015": "Aktivasi merujuk user ID, sesi atau persetujuan yang tidak dikenal ({when}).",
    "JJK-016": "Porsi aktivasi bernilai tinggi user ID {agent} jauh di atas rekan-rekannya ({when}).",
    "JJK-900": "User ID {agent} berperilaku tidak seperti user ID lain pada hari itu ({when}).",
}


def check_lang(lang: str) -> str:
    """``lang`` if jejak speaks it, else a UsageError."""
    if lang not in LANGS:
        raise UsageError("--lang", f"unknown language {lang!r} (choose from: {', '.join(LANGS)})")
    return lang


def value(word: Any, lang: str) -> Any:
    """An export enumeration's word in ``lang`` (unknown words are kept).

    >>> value("on_call", "id"), value("on_call", "en")
    ('jaga', 'on_call')
    """
    if lang == "id" and isinstance(word, str):
        return VALUES_ID.get(word, word)
    return word


def days_word(text: str, lang: str) -> str:
    """Opening days (``Mon-Sat``) in ``lang``."""
    if lang != "id":
        return text
    return re.sub(r"\b(Mon|Tue|Wed|Thu|Fri|Sat|Sun)\b", lambda m: WEEKDAYS_ID[m.group(1)], text)


def money_words(text: str, lang: str) -> str:
    """Every ``IDR 500,000`` in ``text`` written the way ``lang`` writes rupiah."""
    if lang != "id":
        return text
    return re.sub(
        r"IDR (-?)([\d,]+)", lambda m: f"{m.group(1)}Rp{m.group(2).replace(',', '.')}", text
    )


def _said(params: dict[str, Any], lang: str) -> dict[str, Any]:
    out = {}
    for k, v in params.items():
        if k in VALUE_PARAMS:
            v = value(v, lang)
        elif k == "hours" and isinstance(v, str):
            v = days_word(v, lang)
        out[k] = money_words(v, lang) if isinstance(v, str) else v
    if "that_day" in params:  # the owner's shifts that day, said only when there are some
        out["that_day"] = (
            FRAGMENTS["that_day"][lang].format(params["that_day"]) if params["that_day"] else ""
        )
    return out


def msg(code: str, lang: str = "en", **params: Any) -> str:
    """The sentence for ``code`` in ``lang`` with ``params`` filled in."""
    check_lang(lang)
    if code == "ALERT" and lang != "en":
        params = {**params, "explanation": alert_explanation(params, lang)}
    return MESSAGES[code][lang].format(**_said(params, lang))


def alert_explanation(alert: dict[str, Any], lang: str) -> str:
    """What an alert says in ``lang``: the rule's own (English) explanation, or its words in
    :data:`ALERT_ID` with the alert's fields and moment."""
    explanation = str(alert.get("explanation") or "")
    if lang == "en" or alert.get("rule") not in ALERT_ID:
        return explanation
    found = re.search(r"\((\d{4}-\d{2}-\d{2} \d{2}:\d{2} [A-Z]{2,4})\)\.?$", explanation)
    when = found.group(1) if found else str(alert.get("at") or "")[:10]  # JJK-900: its day
    return ALERT_ID[str(alert["rule"])].format(
        agent=alert.get("agent_id") or alert.get("agent") or "?",
        msisdn=alert.get("msisdn") or "?",
        outlet=alert.get("outlet_id") or alert.get("outlet") or "?",
        when=when,
    )


def label(key: str, lang: str = "en") -> str:
    """A heading or table word in ``lang``."""
    return LABELS[key][check_lang(lang)]


def plain(key: str, lang: str = "en", **params: Any) -> str:
    """A sentence of the customer's plain-language summary (``LABELS["plain.*"]``) with
    ``params`` filled in.

    >>> plain("plain.refund", "id", refund="Rp500.000", charges="CH000009")
    'Anda menerima kembali Rp500.000, untuk tagihan CH000009.'
    """
    return label(key, lang).format(**_said(params, lang))


def chronology_summary(
    record_kind: str, lang: str, *, customer: bool = False, **params: Any
) -> str:
    """The chronology's one-line summary of a record of ``record_kind`` (for the customer's
    report with ``customer``: without the network's internal ids)."""
    check_lang(lang)
    if customer and record_kind in CHRONOLOGY_CUSTOMER:
        return CHRONOLOGY_CUSTOMER[record_kind][lang].format(**_said(params, lang))
    p = _said(params, lang)
    if record_kind == "provisioning":
        p["by"] = FRAGMENTS["by"][lang].format(params["agent"]) if params.get("agent") else ""
        p["outlet"] = (
            FRAGMENTS["at_outlet"][lang].format(params["outlet"]) if params.get("outlet") else ""
        )
        p["consent"] = (
            FRAGMENTS["consent"][lang].format(params["consent"])
            if params.get("consent")
            else FRAGMENTS["no_consent"][lang]
        )
    elif record_kind == "charges":
        p["package"] = (
            FRAGMENTS["for_package"][lang].format(params["package"])
            if params.get("package")
            else ""
        )
    elif record_kind == "line_actions":
        due = params.get("due")
        p["amount"] = FRAGMENTS["due"][lang].format(idr(due, lang)) if due else ""
    return CHRONOLOGY[record_kind][lang].format(**p)


def idr(amount: int | None, lang: str = "en") -> str:
    """Rupiah the way each language writes it.

    >>> idr(500000), idr(500000, "id")
    ('IDR 500,000', 'Rp500.000')
    """
    if lang == "id":
        return f"Rp{int(amount or 0):,}".replace(",", ".")
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


#: time zone abbreviations the reports write, and the zones they stand for
ZONES = {"WIB": "Asia/Jakarta", "WITA": "Asia/Makassar", "WIT": "Asia/Jayapura", "UTC": "UTC"}
_STAMP = re.compile(r"(\d{4}-\d{2}-\d{2}) (\d{2}):(\d{2}) (WIB|WITA|WIT|UTC)\b")


def zone_name(tz: str, at: datetime | None = None) -> str:
    """The abbreviation a report writes for ``tz`` (``WIB`` for Asia/Jakarta)."""
    t = (at or datetime(2016, 7, 1, tzinfo=UTC)).astimezone(ZoneInfo(tz))
    return t.tzname() or tz


def one_zone(text: str, tz: str) -> str:
    """``text`` with every ``YYYY-MM-DD HH:MM ZONE`` said in ``tz`` without its zone: a report
    uses one time zone, said once (its header names it).

    >>> one_zone("closed at 2016-07-18 14:14 UTC; logged in 2016-07-18 21:05 WIB", "Asia/Jakarta")
    'closed at 2016-07-18 21:14; logged in 2016-07-18 21:05'
    """
    zone = ZoneInfo(tz)

    def said(m: re.Match[str]) -> str:
        at = datetime.fromisoformat(f"{m.group(1)}T{m.group(2)}:{m.group(3)}").replace(
            tzinfo=ZoneInfo(ZONES[m.group(4)])
        )
        return f"{at.astimezone(zone):%Y-%m-%d %H:%M}"

    return _STAMP.sub(said, text)
