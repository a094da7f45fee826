"""The kinds of sequence mixer a `Block` may hold, as one type: defined where all three are known.

`Recurrence` and `AttentionLayer` live in `recurrence.py`, `StateRecurrence` (an update that
reads h_{t-1} through gates) in `state_recurrence.py`, which builds on the first; the union is
here so that neither module has to import the other's.
"""
from __future__ import annotations

from typing import Union

from tc0lab.spec.recurrence import AttentionLayer, Recurrence
from tc0lab.spec.state_recurrence import StateRecurrence

Mixer = Union[Recurrence, AttentionLayer, StateRecurrence]
