"""Words the pages look up by value (a severity, a state, a role ...), marked for the catalogs.

Babel finds a message only where it is written out; these are the values that templates pass to
``_()`` from data, listed once so that ``make locale`` extracts them.
"""

from __future__ import annotations


def N_(message: str) -> str:
    return message


WORDS = (
    # severities
    N_("low"),
    N_("medium"),
    N_("high"),
    N_("critical"),
    # alert triage
    N_("true_positive"),
    N_("benign"),
    N_("duplicate"),
    N_("open"),
    N_("triaged"),
    N_("all"),
    N_("at"),
    N_("severity"),
    N_("rule"),
    N_("outlet"),
    N_("user"),
    N_("msisdn"),
    # roles
    N_("cs"),
    N_("investigator"),
    N_("supervisor"),
    N_("auditor"),
    N_("admin"),
    N_("system"),
    N_("customer"),
    # case states
    N_("received"),
    N_("acknowledged"),
    N_("investigating"),
    N_("decision_proposed"),
    N_("resolved"),
    N_("escalated"),
    N_("closed"),
    # deadline clocks
    N_("overdue"),
    N_("due_soon"),
    N_("on_time"),
    # complaint categories
    N_("unauthorized_activation"),
    N_("billing"),
    N_("service"),
    N_("other"),
    # case actions and timeline entries
    N_("acknowledge"),
    N_("assign"),
    N_("note"),
    N_("comment"),
    N_("propose_adjustment"),
    N_("approve_adjustment"),
    N_("reject_adjustment"),
    N_("decide"),
    N_("countersign"),
    N_("accept"),
    N_("lift_bar"),
    N_("escalate"),
    N_("close"),
    N_("reopen"),
    N_("report_attached"),
    N_("finding"),
    N_("provisional_credit"),
    N_("deemed_accepted"),
    N_("adjustment_approved"),
    # action fields
    N_("to"),
    N_("text"),
    N_("amount"),
    N_("charge_ids"),
    N_("reason"),
    N_("adjustment_id"),
    N_("hypothesis"),
    N_("operator_liable"),
    N_("justification"),
    N_("action_id"),
    # adjustments
    N_("proposed"),
    N_("approved"),
    N_("rejected"),
    N_("refund"),
    N_("credit"),
    N_("compensation"),
    # hypotheses
    N_("external_compromise"),
    N_("credential_misuse"),
    N_("owner_misuse"),
    N_("customer_consented"),
    N_("billing_error"),
    N_("unexplained"),
)
