"""Contracts: drafting, signing, activating, ending, and the payment plan's instalments."""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping
from datetime import date
from decimal import ROUND_DOWN, Decimal
from typing import Any

import attrs

from ..errors import Conflict, TransitionError, ValidationError
from ..models.contract import Contract, ContractStatus, Instalment, cents
from ..models.money import NO_MINOR_UNIT, parse_amount, parse_currency
from ..storage.query import Compare
from .base import BOOKKEEPING, Service, build, insert_records, save_record, stamp_new
from .normalize import parse_day
from .references import check_reference

S = ContractStatus
#: What ``add`` accepts besides the customer; the status and its dates change only through the verbs.
ADD_FIELDS = frozenset({"number", "deal_id", "title", "value", "currency", "starts_on", "ends_on", "instalments",
                        "monthly", "first_due_on", "notes"})
#: What ``update`` may change on a draft; once signed only the title, notes and end date.
DRAFT_EDITABLE = frozenset({"number", "deal_id", "title", "value", "currency", "starts_on", "ends_on",
                            "instalments", "notes"})
SIGNED_EDITABLE = frozenset({"title", "notes", "ends_on"})

#: Which status may follow which; anything else is a TransitionError.
TRANSITIONS: dict[ContractStatus, frozenset[ContractStatus]] = {
    S.DRAFT: frozenset({S.SIGNED, S.TERMINATED}),
    S.SIGNED: frozenset({S.ACTIVE, S.EXPIRED, S.TERMINATED}),
    S.ACTIVE: frozenset({S.EXPIRED, S.TERMINATED}),
    S.EXPIRED: frozenset(),
    S.TERMINATED: frozenset(),
}


@attrs.frozen(kw_only=True)
class OverdueInstalment:
    """An unpaid instalment past its due date, with the contract and customer it belongs to."""

    customer_id: str
    contract_id: str
    number: str
    instalment: int
    due_on: date
    amount: float
    currency: str
    days_overdue: int


def monthly_instalments(value: Any, count: int, first_due_on: date, currency: str | None = None) -> tuple[Instalment, ...]:
    """Split ``value`` into ``count`` instalments due monthly from ``first_due_on``.

    Amounts are whole cents (whole units for currencies without a minor
    unit); the remainder goes one cent at a time to the first instalments, so
    they add up to ``value`` exactly. A due day past a month's end (the 31st)
    falls on that month's last day.
    """
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= 600:
        raise ValidationError("monthly", count, "must be a whole number of instalments from 1 to 600")
    if not isinstance(first_due_on, date):
        raise ValidationError("first_due_on", first_due_on, "must be a date")
    total = cents(parse_amount("value", value, currency=currency))
    unit = Decimal(1) if currency in NO_MINOR_UNIT else Decimal("0.01")
    base = (total / count).quantize(unit, rounding=ROUND_DOWN)
    extra = int((total - base * count) / unit)
    plan = []
    for number in range(count):
        amount = base + (unit if number < extra else 0)
        plan.append(Instalment(due_on=_add_months(first_due_on, number), amount=float(amount)))
    return tuple(plan)


def _add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


class ContractService(Service[Contract]):
    """Contracts with a customer: add, edit, sign, activate, terminate, expire, pay, overdue instalments."""

    model = Contract
    collection = "contracts"
    kind = "contract"
    aliases = {"customer": "customer_id", "deal": "deal_id", "signed": "signed_on", "starts": "starts_on",
               "ends": "ends_on"}

    # -- creating ------------------------------------------------------------------

    def add(self, customer_id: str | int, **values: Any) -> Contract:
        """Draft a contract for a customer and return it.

        Keywords: number (default ``CT-<year>-<nnnn>``, counting up per
        year), deal_id (a deal of the same customer; a won deal gives the
        default value and currency), title, value, currency, starts_on
        (required), ends_on (after the start), notes, and a payment plan:
        either ``instalments`` (a list of Instalments or dicts with due_on,
        amount, paid_on, note) or ``monthly=N`` with ``first_due_on``
        (default: the start date) to split the value into N monthly instalments.
        """
        for key in values:
            if key not in ADD_FIELDS:
                raise ValidationError("field", key, f"cannot be set when adding a contract "
                                                    f"(allowed: {', '.join(sorted(ADD_FIELDS))})")
        return self.add_many([{"customer_id": customer_id, **values}])[0]

    def add_many(self, rows: Iterable[Mapping[str, Any] | Contract], *, keep_ids: bool = False) -> list[Contract]:
        """Add many contracts in one transaction (imports); rows may be Contracts made by :meth:`build`.

        Numbers must be unique in the store and in ``rows``; missing ones are made up.
        """
        with self.crm.transaction():
            built = [row if isinstance(row, Contract) else self.build(row) for row in rows]
            built = self._numbered(built)
            records = stamp_new(self.crm, built, keep_ids=keep_ids)
            insert_records(self.crm, "contract", self.collection, records, "contract.created",
                           customer_of=lambda r: r.customer_id)
        return records

    def _numbered(self, records: list[Contract]) -> list[Contract]:
        taken = {doc["number"] for doc in self.storage.scan(self.collection) if doc.get("number")}
        seen: set[str] = set()
        for record in records:
            if not record.number:
                continue
            if record.number in taken:
                raise Conflict(record.number, "another contract has this number already")
            if record.number in seen:
                raise ValidationError("number", record.number, "appears twice")
            seen.add(record.number)
        prefix = f"CT-{self.crm.now().astimezone().year}-"
        numbers = [int(n[len(prefix):]) for n in taken | seen if n.startswith(prefix) and n[len(prefix):].isdigit()]
        counter = max(numbers, default=0)
        result = []
        for record in records:
            if not record.number:
                counter += 1
                record = attrs.evolve(record, number=f"{prefix}{counter:04d}")
            result.append(record)
        return result

    def build(self, row: Mapping[str, Any]) -> Contract:
        """Validate input values into a Contract (not stored); links are checked, defaults filled.

        A row may carry the status and its dates (an import); the model checks
        they fit together.
        """
        values = dict(row)
        crm = self.crm
        now = crm.now()
        if values.get("customer_id") in (None, ""):
            raise ValidationError("customer_id", values.get("customer_id"), "is required")
        customer_id = check_reference(crm, "customer_id", "customers", values["customer_id"])
        values["customer_id"] = customer_id
        values["deal_id"] = check_reference(crm, "deal_id", "deals", values.get("deal_id"), customer_id=customer_id)
        if values["deal_id"]:
            deal = crm.deals.get(values["deal_id"])
            if deal.status.value == "won" and deal.amount is not None:
                # A won deal's amount is what the contract is usually for.
                for field, default in (("value", deal.amount), ("currency", deal.currency)):
                    if values.get(field) in (None, ""):
                        values[field] = default
        if values.get("value") in (None, ""):
            raise ValidationError("value", values.get("value"), "is required (or link a won deal that has an amount)")
        if values.get("currency") in (None, ""):
            raise ValidationError("currency", values.get("currency"), "is required (a code like EUR)")
        currency = values["currency"] = parse_currency("currency", values["currency"])
        values["value"] = parse_amount("value", values["value"], currency=currency)
        values["number"] = str(values.get("number") or "").strip()
        if values.get("starts_on") in (None, ""):
            raise ValidationError("starts_on", values.get("starts_on"), "is required")
        for field in ("starts_on", "ends_on", "signed_on", "activated_on", "terminated_on"):
            if values.get(field) not in (None, ""):
                values[field] = parse_day(values[field], now, field)
            else:
                values[field] = None
        monthly, first_due = values.pop("monthly", None), values.pop("first_due_on", None)
        if monthly not in (None, ""):
            if values.get("instalments"):
                raise ValidationError("monthly", monthly, "cannot be combined with instalments")
            count = _whole(monthly, "monthly")
            start = parse_day(first_due, now, "first_due_on") if first_due not in (None, "") else values["starts_on"]
            values["instalments"] = monthly_instalments(values["value"], count, start, currency)
        elif first_due not in (None, ""):
            raise ValidationError("first_due_on", first_due, "only goes with monthly")
        values["instalments"] = tuple(self._instalment(item, currency) for item in values.get("instalments") or ())
        return build(Contract, values)

    def _instalment(self, item: Any, currency: str) -> Instalment:
        if isinstance(item, Instalment):
            return attrs.evolve(item, amount=parse_amount("instalment amount", item.amount, currency=currency))
        if not isinstance(item, Mapping):
            raise ValidationError("instalments", item, "each instalment needs due_on and amount")
        values = dict(item)
        now = self.crm.now()
        for field in ("due_on", "paid_on"):
            if values.get(field) not in (None, ""):
                values[field] = parse_day(values[field], now, field)
            elif field == "paid_on":
                values[field] = None
        if values.get("amount") in (None, "") or values.get("due_on") in (None, ""):
            raise ValidationError("instalments", dict(item), "each instalment needs due_on and amount")
        values["amount"] = parse_amount("instalment amount", values["amount"], currency=currency)
        return build(Instalment, values)

    # -- editing -------------------------------------------------------------------

    def update(self, contract_id: str | int, *, expected_version: int | None = None, **changes: Any) -> Contract:
        """Edit a contract. A draft may change its terms (value, dates, plan, deal, number);
        a signed contract only its title, notes and end date (an extension).

        New instalments (a list, or ``monthly=N`` with ``first_due_on``) replace the plan.
        """
        with self.crm.transaction():
            old = self.get(contract_id)
            allowed = DRAFT_EDITABLE | {"monthly", "first_due_on"} if old.status is S.DRAFT else SIGNED_EDITABLE
            for key in changes:
                if key not in allowed:
                    raise ValidationError("field", key, f"cannot be edited on a {old.status} contract; editable: "
                                                        f"{', '.join(sorted(allowed))}")
            if "number" in changes and str(changes["number"] or "").strip() not in ("", old.number):
                number = str(changes["number"]).strip()
                if self.storage.scan(self.collection, Compare(("number",), "=", number), (), 1):
                    raise Conflict(number, "another contract has this number already")
            merged = {k: getattr(old, k) for k in attrs.fields_dict(Contract) if k not in BOOKKEEPING}
            if "monthly" in changes:
                merged.pop("instalments")
            merged.update(changes)
            merged["number"] = merged["number"] or old.number
            new = attrs.evolve(self.build(merged), id=old.id, created_at=old.created_at, updated_at=old.updated_at,
                               version=old.version)
            return self._save(old, new, "contract.updated", expected_version=expected_version)

    # -- status verbs ----------------------------------------------------------------

    def sign(self, contract_id: str | int, signed_on: Any, *, expected_version: int | None = None) -> Contract:
        """Record that the draft was signed on ``signed_on`` (a date, not in the future): status ``signed``."""
        if signed_on in (None, ""):
            raise ValidationError("signed_on", signed_on, "is required to sign a contract")
        day = self._day(signed_on, "signed_on")
        return self._transition(contract_id, S.SIGNED, "contract.signed", expected_version=expected_version,
                                signed_on=day)

    def activate(self, contract_id: str | int, *, on: Any = None, expected_version: int | None = None) -> Contract:
        """Start a signed contract (``on``, default today, not before the signing): status ``active``."""
        with self.crm.transaction():
            old = self.get(contract_id)
            day = self._day(on, "on")
            if old.signed_on and day < old.signed_on:
                raise ValidationError("on", day.isoformat(), f"is before {old.id} was signed ({old.signed_on})")
            return self._transition(old.id, S.ACTIVE, "contract.activated", expected_version=expected_version,
                                    activated_on=day)

    def terminate(self, contract_id: str | int, *, reason: str, on: Any = None,
                  expected_version: int | None = None) -> Contract:
        """End a contract early (``on``, default today) for ``reason`` (required): status ``terminated``."""
        if reason is None or not str(reason).strip():
            raise ValidationError("reason", reason, "is required to terminate a contract")
        with self.crm.transaction():
            old = self.get(contract_id)
            day = self._day(on, "on")
            if old.signed_on and day < old.signed_on:
                raise ValidationError("on", day.isoformat(), f"is before {old.id} was signed ({old.signed_on})")
            return self._transition(old.id, S.TERMINATED, "contract.terminated", note=str(reason).strip(),
                                    expected_version=expected_version, terminated_on=day,
                                    termination_reason=str(reason).strip())

    def expire(self, contract_id: str | int, *, as_of: Any = None, expected_version: int | None = None) -> Contract:
        """Mark a signed or active contract expired; its end date must have passed by ``as_of`` (default today)."""
        with self.crm.transaction():
            old = self.get(contract_id)
            day = self._as_of(as_of)
            if old.ends_on is None:
                raise TransitionError("ends_on", None, f"{old.id} has no end date, so it cannot expire")
            if old.ends_on >= day:
                raise TransitionError("ends_on", old.ends_on.isoformat(),
                                      f"{old.id} runs until {old.ends_on}; it has not ended by {day}")
            return self._transition(old.id, S.EXPIRED, "contract.expired", expected_version=expected_version)

    def expire_due(self, *, as_of: Any = None) -> list[Contract]:
        """Expire every signed or active contract whose end date passed by ``as_of``; return them."""
        day = self._as_of(as_of)
        with self.crm.transaction():
            due = [c for c in self.find(status=["signed", "active"], sort="ends_on")
                   if c.ends_on is not None and c.ends_on < day]
            return [self.expire(c.id, as_of=day) for c in due]

    def pay(self, contract_id: str | int, instalment: int, *, paid_on: Any = None, note: str | None = None,
            expected_version: int | None = None) -> Contract:
        """Record instalment ``instalment`` (from 1) as paid on ``paid_on`` (default today)."""
        with self.crm.transaction():
            old = self.get(contract_id)
            if old.status is S.DRAFT:
                raise TransitionError("status", old.status.value, f"{old.id} is a draft; sign it before taking payments")
            number = _whole(instalment, "instalment")
            item = old.instalment(number)
            if item.is_paid:
                raise TransitionError("instalment", number, f"instalment {number} of {old.id} was paid on {item.paid_on}")
            day = self._day(paid_on, "paid_on")
            paid = attrs.evolve(item, paid_on=day, note=note if note is not None else item.note)
            plan = (*old.instalments[: number - 1], paid, *old.instalments[number:])
            return self._save(old, attrs.evolve(old, instalments=plan), "contract.instalment_paid",
                              note=f"instalment {number}", expected_version=expected_version)

    # -- reading -------------------------------------------------------------------

    def overdue_instalments(self, *, as_of: Any = None, where: Any = None) -> list[OverdueInstalment]:
        """Unpaid instalments due before ``as_of`` (default today) across contracts, oldest first.

        Drafts owe nothing; a terminated contract owes only what fell due by
        its termination date. ``where`` narrows the contracts as in :meth:`find`.
        """
        day = self._as_of(as_of)
        result = []
        for contract in self.find(where, status=["signed", "active", "expired", "terminated"]):
            for number, item in enumerate(contract.instalments, start=1):
                if item.is_paid or item.due_on >= day:
                    continue
                if contract.status is S.TERMINATED and contract.terminated_on and item.due_on > contract.terminated_on:
                    continue
                result.append(OverdueInstalment(
                    customer_id=contract.customer_id, contract_id=contract.id, number=contract.number,
                    instalment=number, due_on=item.due_on, amount=item.amount, currency=contract.currency,
                    days_overdue=(day - item.due_on).days))
        result.sort(key=lambda o: (o.due_on, int(o.contract_id.split("-")[1]), o.instalment))
        return result

    # -- internals -----------------------------------------------------------------

    def _day(self, value: Any, field: str) -> date:
        """A calendar day for a verb: today when left out, never in the future."""
        today = self.crm.now().astimezone().date()
        day = today if value in (None, "") else parse_day(value, self.crm.now(), field)
        if day > today:
            raise ValidationError(field, day.isoformat(), "is in the future")
        return day

    def _as_of(self, value: Any) -> date:
        return self.crm.now().astimezone().date() if value in (None, "") else parse_day(value, self.crm.now(), "as_of")

    def _transition(self, contract_id: str | int, status: ContractStatus, event_type: str, *,
                    note: str | None = None, expected_version: int | None = None, **changes: Any) -> Contract:
        with self.crm.transaction():
            old = self.get(contract_id)
            if status not in TRANSITIONS[old.status]:
                raise TransitionError("status", old.status.value, f"{old.id} cannot go from {old.status} to {status}")
            new = attrs.evolve(old, status=status, **changes)
            return self._save(old, new, event_type, note=note, expected_version=expected_version)

    def _save(self, old: Contract, new: Contract, event_type: str, *, note: str | None = None,
              expected_version: int | None = None) -> Contract:
        return save_record(self.crm, "contract", self.collection, old, new, event_type,
                           customer_id=old.customer_id, note=note, expected_version=expected_version)


def _whole(value: Any, field: str) -> int:
    if isinstance(value, bool):
        raise ValidationError(field, value, "must be a whole number")
    try:
        return int(str(value).strip())
    except ValueError:
        raise ValidationError(field, value, "must be a whole number") from None


__all__ = ["ContractService", "OverdueInstalment", "TRANSITIONS", "monthly_instalments"]
