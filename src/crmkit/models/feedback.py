"""Feedback: praise, complaints, suggestions and survey answers (CSAT and NPS scores)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs

from ..errors import ValidationError
from .base import Record, StrEnum, aware, enum_converter, optional_enum_converter, optional_text, record_id
from .interaction import Channel


class FeedbackKind(StrEnum):
    PRAISE = "praise"
    COMPLAINT = "complaint"
    SUGGESTION = "suggestion"
    SURVEY = "survey"


class Sentiment(StrEnum):
    POSITIVE = "positive"
    NEUTRAL = "neutral"
    NEGATIVE = "negative"


class Scale(StrEnum):
    """A survey score's scale: CSAT 1-5 (how satisfied) or NPS 0-10 (how likely to recommend)."""

    CSAT = "csat"
    NPS = "nps"

    @property
    def bounds(self) -> tuple[int, int]:
        """The lowest and highest score on this scale."""
        return (1, 5) if self is Scale.CSAT else (0, 10)

    def check(self, score: Any, field: str = "score") -> int:
        """The score as an int if it is a whole number on this scale; ValidationError otherwise."""
        low, high = self.bounds
        score = _whole(score)
        if isinstance(score, bool) or not isinstance(score, int) or not low <= score <= high:
            raise ValidationError(field, score, f"must be a whole number from {low} to {high} for {self.value}")
        return score

    def sentiment(self, score: int) -> Sentiment:
        """The sentiment a score means: NPS 9-10 / CSAT 4-5 positive, NPS 7-8 / CSAT 3 neutral, the rest negative."""
        positive, neutral = (9, 7) if self is Scale.NPS else (4, 3)
        if score >= positive:
            return Sentiment.POSITIVE
        return Sentiment.NEUTRAL if score >= neutral else Sentiment.NEGATIVE


def _whole(value: Any) -> Any:
    """``"9"`` and ``9.0`` mean 9; anything else is left for the scale to refuse."""
    if value in (None, ""):
        return None
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        return int(value.strip())
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


@attrs.frozen(kw_only=True)
class Feedback(Record):
    """What a customer told us, unprompted or in answer to a survey.

    A survey answer (``kind`` survey) carries a ``score`` on a ``scale``; no
    other kind does. ``ticket_id`` links a ticket of the same customer (the
    one a complaint opened, or the one a CSAT survey asked about).
    """

    PREFIX = "F"

    customer_id: str = attrs.field(validator=record_id("C"))
    kind: FeedbackKind = attrs.field(converter=enum_converter(FeedbackKind, "kind"))
    sentiment: Sentiment | None = attrs.field(default=None, converter=optional_enum_converter(Sentiment, "sentiment"))
    scale: Scale | None = attrs.field(default=None, converter=optional_enum_converter(Scale, "scale"))
    score: int | None = attrs.field(default=None, converter=lambda v: _whole(v))
    text: str | None = attrs.field(default=None, converter=optional_text)
    channel: Channel | None = attrs.field(default=None, converter=optional_enum_converter(Channel, "channel"))
    ticket_id: str | None = attrs.field(default=None, validator=attrs.validators.optional(record_id("T")))
    order_id: str | None = attrs.field(default=None, validator=attrs.validators.optional(record_id("O")))
    received_at: datetime = attrs.field(validator=aware("received_at"))

    def __attrs_post_init__(self) -> None:
        if self.kind is FeedbackKind.SURVEY:
            if self.scale is None or self.score is None:
                raise ValidationError("score", self.score, "a survey answer needs a score and its scale (csat or nps)")
            self.scale.check(self.score)
        elif self.scale is not None or self.score is not None:
            raise ValidationError("score", self.score, f"only survey answers carry a score, not {self.kind}")
        elif self.text is None:
            raise ValidationError("text", self.text, f"is required for {self.kind}")
