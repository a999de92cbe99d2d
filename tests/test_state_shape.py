"""The shape of the case lifecycle as the rest of the code sees it, derived from the transition table.

The expectations are written by hand from plan 三(三)4 and domain.md 1.9, so a change to the
table that moves the step bar or the deadline clock shows up here. The allowed and forbidden
transitions themselves are listed by hand in test_lifecycle.py.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from admin_views.case_lifecycle import step_bar
from lifecycle.clock import deadline_state
from lifecycle.deadlines import PAUSED
from lifecycle.transitions import ENDED, INITIAL, PROMISED, RUNNING, happy_path
from models.enums import Mode, Status

S = Status
ASSISTED_MODES = [Mode.ON_SITE, Mode.REMOTE, Mode.DOOR_TO_DOOR]


def test_a_delegated_case_is_submitted_accepted_worked_completed_and_archived():
    assert INITIAL[Mode.DELEGATED] == S.SUBMITTED
    assert happy_path(Mode.DELEGATED) == [S.SUBMITTED, S.ACCEPTED, S.IN_PROGRESS, S.COMPLETED, S.ARCHIVED]


@pytest.mark.parametrize("mode", ASSISTED_MODES)
def test_an_assisted_case_is_registered_worked_completed_and_archived(mode):
    assert INITIAL[mode] == S.REGISTERED
    assert happy_path(mode) == [S.REGISTERED, S.IN_PROGRESS, S.COMPLETED, S.ARCHIVED]


def test_the_clock_runs_until_closing_and_stops_while_suspended():
    assert RUNNING == {S.SUBMITTED, S.REGISTERED, S.ACCEPTED, S.IN_PROGRESS}
    assert PROMISED == {S.REGISTERED, S.ACCEPTED, S.IN_PROGRESS, S.SUSPENDED}
    assert ENDED == {S.COMPLETED, S.TERMINATED, S.REJECTED, S.ARCHIVED}
    assert deadline_state("suspended", None, None) == PAUSED
    for status in ENDED:
        assert deadline_state(status.value, None, None) is None


# (mode, status): the step bar's slots as (status shown, state), written out by hand.
STEP_BARS = {
    (Mode.DELEGATED, S.SUBMITTED): [
        ("submitted", "current"),
        ("accepted", "todo"),
        ("in_progress", "todo"),
        ("completed", "todo"),
        ("archived", "todo"),
    ],
    (Mode.DELEGATED, S.SUSPENDED): [
        ("submitted", "done"),
        ("accepted", "done"),
        ("suspended", "current"),
        ("completed", "todo"),
        ("archived", "todo"),
    ],
    # Not accepted: the bar goes on to the archive only (plan 附件: 不予受理 ends the case).
    (Mode.DELEGATED, S.REJECTED): [
        ("submitted", "done"),
        ("rejected", "current"),
        ("archived", "todo"),
    ],
    (Mode.DELEGATED, S.TERMINATED): [
        ("submitted", "done"),
        ("accepted", "done"),
        ("in_progress", "done"),
        ("terminated", "current"),
        ("archived", "todo"),
    ],
    (Mode.ON_SITE, S.IN_PROGRESS): [
        ("registered", "done"),
        ("in_progress", "current"),
        ("completed", "todo"),
        ("archived", "todo"),
    ],
    (Mode.REMOTE, S.ARCHIVED): [
        ("registered", "done"),
        ("in_progress", "done"),
        ("completed", "done"),
        ("archived", "current"),
    ],
}


@pytest.mark.parametrize(("mode", "status"), list(STEP_BARS))
def test_the_step_bar_follows_the_main_line_of_the_mode(mode, status):
    bar = step_bar(SimpleNamespace(mode=mode.value, status=status.value))
    assert [(step["status"], step["state"]) for step in bar] == STEP_BARS[mode, status]
