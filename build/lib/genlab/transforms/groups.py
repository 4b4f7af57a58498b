"""Groups of ops: ``one_of`` picks one member per image, ``some_of`` picks ``n``.

Members are written as op names, ``(name, params)`` pairs or ``{"name": ..., "params": ...}``
objects (the form a spec stores). Every member is checked against the op registry when the
group is made, so a spec naming anything but a registered op is refused before anything runs.

>>> import numpy as np
>>> from genlab.transforms import get_op
>>> group = get_op("one_of")
>>> params = group.validate({"ops": ["hflip", ("vflip", {"p": 1.0})], "weights": [0.0, 1.0]})
>>> params["ops"][1]
{'name': 'vflip', 'params': {'p': 1.0}}
>>> group.draw(np.random.default_rng(0), params, (4, 4))
{'ops': [{'op': 'vflip'}]}
>>> group.validate({"ops": ["os.system"]})
Traceback (most recent call last):
...
ValueError: one_of: parameter 'ops' member 0: unknown op 'os.system'; registered ops: [...]
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..params import Bool, Int, Numbers, Param
from .op import Op, get_op, probability, register_op
from .target_kernels import carry_targets, register_target_kernel

__all__ = ["OpList", "one_of", "some_of"]


@dataclass(frozen=True)
class OpList(Param):
    """A list of ops with their parameters; each member is validated against the op registry."""

    kind = "ops"
    control = "ops"

    def validate(self, value: Any, *, stage: str = "stage", name: str = "value") -> Any:
        """Return the members as ``{"name", "params"}`` dicts, each checked against its op's declarations."""
        if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
            raise ValueError(f"{stage}: parameter {name!r} must be a list of ops, got {value!r}")
        members = []
        for i, item in enumerate(value):
            if isinstance(item, str):
                op_name, given = item, {}
            elif (
                isinstance(item, (list, tuple)) and len(item) == 2 and isinstance(item[1], Mapping)
            ):
                op_name, given = item
            elif isinstance(item, Mapping) and set(item) <= {"name", "params"} and "name" in item:
                op_name, given = item["name"], item.get("params", {})
            else:
                raise ValueError(
                    f"{stage}: parameter {name!r} member {i} must be a name, a (name, params) "
                    f"pair or {{'name': ..., 'params': ...}}, got {item!r}"
                )
            try:
                op = get_op(op_name) if isinstance(op_name, str) else get_op(repr(op_name))
                if not isinstance(op, Op):
                    raise ValueError(f"op {op_name!r} mixes whole batches and cannot be a member")
                members.append({"name": op.name, "params": op.validate(dict(given))})
            except ValueError as e:
                raise ValueError(f"{stage}: parameter {name!r} member {i}: {e}") from None
        return tuple(members)


def _member_sizes(params, size) -> set[tuple[int, int]]:
    return {get_op(m["name"]).out_size(m["params"], size) for m in params["ops"]}


def _group_output_size(params, size):
    sizes = _member_sizes(params, size)
    return sizes.pop() if len(sizes) == 1 else tuple(size)


def _check_sizes(group: str, params, size) -> None:
    sizes = _member_sizes(params, size)
    if (
        sizes
        and sizes != {tuple(size)}
        and (len(sizes) > 1 or params.get("p", 1.0) < 1.0 or group == "some_of")
    ):
        raise ValueError(
            f"{group}: members that resize must all give the same size, in a one_of with p=1 "
            f"(got sizes {sorted(sizes)} for an input of {tuple(size)})"
        )


def _apply_members(img, record):
    for member in record["ops"]:
        img = get_op(member["op"]).apply(img, member)
    return img


def _draw_members(rng, members, size) -> list[dict]:
    records = []
    for m in members:
        op = get_op(m["name"])
        drawn = op.draw(rng, m["params"], size)
        if drawn is not None:
            records.append({"op": op.name, **drawn})
            size = op.out_size(m["params"], size)
    return records


def _draw_one_of(rng, params, size):
    _check_sizes("one_of", params, size)
    members = params["ops"]
    if not members or not rng.random() < params["p"]:
        return None
    weights = np.atleast_1d(np.asarray(params["weights"] or [1.0] * len(members), dtype=float))
    if len(weights) != len(members) or weights.sum() <= 0:
        raise ValueError(
            f"one_of: parameter 'weights' must hold one non-negative weight per op "
            f"({len(members)}) with a positive sum, got {list(params['weights'])}"
        )
    pick = int(rng.choice(len(members), p=weights / weights.sum()))
    records = _draw_members(rng, [members[pick]], size)
    return {"ops": records} if records else None


def _draw_some_of(rng, params, size):
    _check_sizes("some_of", params, size)
    members = params["ops"]
    if not members or not rng.random() < params["p"]:
        return None
    n = min(params["n"], len(members))
    picks = sorted(int(i) for i in rng.choice(len(members), size=n, replace=False))
    if not params["keep_order"]:
        picks = [picks[i] for i in rng.permutation(n)]
    records = _draw_members(rng, [members[i] for i in picks], size)
    return {"ops": records} if records else None


one_of = register_op(Op(
    "one_of", "group",
    {
        "ops": OpList((), help="the ops to choose from, with their parameters"),
        "weights": Numbers((), low=0.0, help="relative weight of each op (empty: equal)"),
        "p": probability(1.0, "applying one of the ops"),
    },
    draw=_draw_one_of,
    apply=_apply_members,
    help="apply one op of several, picked at random by weight",
    equivalents={"torchvision": "RandomChoice", "albumentations": "OneOf"},
    output_size=_group_output_size,
))  # fmt: skip

some_of = register_op(Op(
    "some_of", "group",
    {
        "ops": OpList((), help="the ops to choose from, with their parameters"),
        "n": Int(1, low=0, high=64, help="how many distinct ops to apply"),
        "keep_order": Bool(True, help="apply the chosen ops in the listed order (else shuffled)"),
        "p": probability(1.0, "applying the group"),
    },
    draw=_draw_some_of,
    apply=_apply_members,
    help="apply n distinct ops of several, picked at random",
    equivalents={"albumentations": "SomeOf"},
    output_size=_group_output_size,
))  # fmt: skip


def _carry_members(targets, record, size, fmt):
    """The group's target kernel: each member's kernel in turn, with the member's record."""
    for member in record["ops"]:
        moved, size_out = carry_targets(get_op(member["op"]), targets, member, size, fmt)
        targets, size = moved, (size if size_out is None else size_out)
    return targets, size


for _group in (one_of, some_of):
    register_target_kernel(_group.name, _carry_members)
