"""What the customer is told at each state change, in their language (Indonesian by default).

Each message names the ticket, what happened and the next deadline. The delivery adapters (file,
SMTP, webhook) read the ``notifications`` outbox; this module only writes the words.

Example::

    >>> subject, body = render("acknowledged", "id", "TCK-1", None)
    >>> subject
    'Pengaduan TCK-1: diterima untuk ditangani'
"""

from __future__ import annotations

from datetime import datetime

LANGUAGES = ("id", "en")

WHAT: dict[str, dict[str, str]] = {
    "id": {
        "received": "pengaduan Anda telah kami terima",
        "acknowledged": "diterima untuk ditangani",
        "investigating": "sedang diselidiki",
        "decision_proposed": "keputusan menunggu persetujuan atasan",
        "resolved": "keputusan telah diambil",
        "escalated": "dieskalasi",
        "closed": "ditutup",
        "provisional_credit": "jumlah yang Anda sengketakan dikreditkan sementara karena batas waktu keputusan terlewati",
        "finding": "pemblokiran saluran Anda selama pengaduan berjalan harus dicabut dan diberi kompensasi",
        "deemed_accepted": "keputusan dianggap diterima",
    },
    "en": {
        "received": "we have received your complaint",
        "acknowledged": "accepted for handling",
        "investigating": "being investigated",
        "decision_proposed": "a decision awaits a supervisor's countersignature",
        "resolved": "a decision has been made",
        "escalated": "escalated",
        "closed": "closed",
        "provisional_credit": "the amount you dispute is credited provisionally because the decision deadline passed",
        "finding": "the bar on your line during the complaint must be lifted and compensated",
        "deemed_accepted": "the decision is deemed accepted",
    },
}

SUBJECT = {"id": "Pengaduan {ticket}: {what}", "en": "Complaint {ticket}: {what}"}
NEXT = {
    "id": "Batas waktu berikutnya: {due}.",
    "en": "Next deadline: {due}.",
}
NONE = {"id": "Tidak ada batas waktu berikutnya.", "en": "No further deadline."}
BODY = {
    "id": "Nomor tiket {ticket}: {what}. {next} Riwayat lengkap pengaduan Anda dapat dilihat kapan saja.",
    "en": "Ticket {ticket}: {what}. {next} The full history of your complaint can be seen at any time.",
}


def render(event: str, language: str, ticket: str, due: datetime | None) -> tuple[str, str]:
    """The subject and body of the message for ``event`` (a state or a system action)."""
    lang = language if language in LANGUAGES else "id"
    what = WHAT[lang].get(event, event)
    nxt = NEXT[lang].format(due=due.strftime("%Y-%m-%d %H:%M %Z").strip()) if due else NONE[lang]
    return (
        SUBJECT[lang].format(ticket=ticket, what=what),
        BODY[lang].format(ticket=ticket, what=what, next=nxt),
    )
