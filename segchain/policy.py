"""What each segment is promised: the segment policy and the table of them (``[segments.*]``).

Pure domain types that stages import; ``segchain.config`` reads them from segchain.toml.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

SERVICE_MEASURES = ("csl", "fill-rate")


@dataclass(frozen=True)
class SegmentPolicy:
    """What a segment is promised: service level (and its measure), delivery days, priority."""

    service_level: float | None = None
    service_measure: str | None = None
    max_delivery_days: float | None = None
    priority: int | None = None

    def merged_over(self, default: SegmentPolicy) -> SegmentPolicy:
        """This policy with its unset fields taken from ``default``."""
        return SegmentPolicy(
            *(
                mine if mine is not None else theirs
                for mine, theirs in zip(_fields(self), _fields(default), strict=True)
            )
        )


def _fields(p: SegmentPolicy) -> tuple[Any, ...]:
    return (p.service_level, p.service_measure, p.max_delivery_days, p.priority)


@dataclass(frozen=True)
class PolicyTable:
    """The ``[segments."<label>"]`` tables; ``"*"`` is the default for unlisted segments."""

    policies: Mapping[str, SegmentPolicy] = field(default_factory=dict)

    def for_segment(self, label: str) -> SegmentPolicy:
        """The policy of ``label``, its unset fields filled from ``"*"``."""
        default = self.policies.get("*", SegmentPolicy())
        own = self.policies.get(label)
        if own is None:
            lowered = {k.casefold(): v for k, v in self.policies.items()}
            own = lowered.get(label.casefold())
        return own.merged_over(default) if own is not None else default

    def over_default(self, **values: Any) -> PolicyTable:
        """``values`` (None: not given) set over ``"*"``'s own: what the command line gives for
        segments without a policy of their own wins over the config's default for them."""
        given = {k: v for k, v in values.items() if v is not None}
        if not given:
            return self
        base = self.policies.get("*", SegmentPolicy())
        return PolicyTable({**self.policies, "*": SegmentPolicy(**given).merged_over(base)})

    def with_default(self, **defaults: Any) -> PolicyTable:
        """Fill fields that neither the segment nor ``"*"`` sets (command-line defaults)."""
        base = self.policies.get("*", SegmentPolicy())
        star = base.merged_over(SegmentPolicy(**defaults))
        return PolicyTable({**self.policies, "*": star})

    @property
    def labels(self) -> list[str]:
        return [k for k in self.policies if k != "*"]


def unnamed_segments_note(table: PolicyTable, labels: Iterable[str]) -> str | None:
    """A note when the config names segments but none of ``labels`` (the input's): each then
    takes the ``"*"`` default, silently (RFM labels in the config, k-means clusters in the
    table). None when one is named, or the config names none."""
    from segchain.errors import examples

    named = table.labels
    mine = sorted({lab for lab in labels if lab != "*"})
    folded = {k.casefold() for k in named}
    if not named or not mine or any(lab.casefold() in folded for lab in mine):
        return None
    if len(mine) == 1:
        return (
            f"the input's one segment ({examples(mine)}) is not named in the config's "
            f'[segments] ({examples(named)}): it takes the [segments."*"] default; name it as '
            "the segments table does"
        )
    return (
        f"none of the {len(mine)} segments ({examples(mine)}) is named in the config's "
        f'[segments] ({examples(named)}): each takes the [segments."*"] default; name them as '
        "the segments table does"
    )


__all__ = ["SERVICE_MEASURES", "PolicyTable", "SegmentPolicy", "unnamed_segments_note"]
