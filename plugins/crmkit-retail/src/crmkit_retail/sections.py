"""What the retail profile adds to ``crmkit customer show``: purchases with the RFM segment and tier, and consent."""

from __future__ import annotations

from typing import Any

from crmkit import Section

from .analysis import customer_rfm, has_recorded_consent, purchase_histories
from .rules import consented_channels, days_since, lifecycle_stage


def customer_sections(crm: Any, customer: Any) -> list[Section]:
    """The "Purchases and RFM" and "Consent record" sections of one customer."""
    now = crm.now()
    history = purchase_histories(crm, now, customer_id=customer.id).get(customer.id)
    summary = crm.orders.summary(customer.id)
    fields: list[tuple[str, Any]] = [
        ("Membership number", customer.fields.get("membership_number")),
        ("Loyalty points", customer.fields.get("loyalty_points", 0)),
        ("Purchases", summary.purchases),
    ]
    if summary.purchases:
        fields += [
            ("Spend", ", ".join(f"{amount:,.2f} {code}" for code, amount in summary.spend.items())),
            ("Average order", ", ".join(f"{amount:,.2f} {code}" for code, amount in
                                        summary.average_order_value.items())),
            ("Last purchase", f"{summary.last_purchase_at:%Y-%m-%d} "
                              f"({days_since(summary.last_purchase_at, now)} days ago)"),
        ]
    if summary.returned or summary.cancelled:
        fields.append(("Returned / cancelled", f"{summary.returned} / {summary.cancelled}"))
    scores = customer_rfm(crm, customer.id)
    for code, score in scores.items():
        suffix = f" ({code})" if len(scores) > 1 else ""
        fields += [(f"RFM segment{suffix}", score.segment.replace("_", " ")),
                   (f"Value tier{suffix}", score.tier),
                   (f"RFM scores{suffix}", f"R{score.r} F{score.f} M{score.m}")]
    if history is not None:
        stage, reason = lifecycle_stage(history, now)
        if stage is not None and stage != customer.stage:
            fields.append(("Lifecycle rule", f"would move to {stage} ({reason}); run `crmkit retail lifecycle`"))
    channels = consented_channels(customer.consent)
    proof = [("Given on", customer.fields.get("consent_date")), ("Source", customer.fields.get("consent_source"))]
    usable = [ch for ch in channels if has_recorded_consent(customer, ch)]
    proof.append(("Marketing lists", ", ".join(usable) if usable else "none (no consent on record)"))
    return [Section(title="Purchases and RFM", fields=fields), Section(title="Consent record", fields=proof)]


__all__ = ["customer_sections"]
