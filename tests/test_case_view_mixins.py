"""CaseView's mixins: the order contract written in CaseView's docstring, checked point by point."""

from __future__ import annotations

import inspect

import pytest
from flask_login import login_user

from admin_views.base import ConsoleModelView
from admin_views.case import CaseView
from admin_views.case_annex import AnnexMixin, BatchExportMixin
from admin_views.case_correction import CorrectionMixin
from admin_views.case_export import CaseExportMixin
from admin_views.case_lifecycle import LifecycleMixin
from admin_views.extension import ExtensionMixin
from admin_views.pii import ExportMixin, IdNumberSearchMixin
from admin_views.supervision import SupervisionMixin
from tests.builders import user

MIXINS = [
    CorrectionMixin,
    AnnexMixin,
    BatchExportMixin,
    LifecycleMixin,
    ExtensionMixin,
    SupervisionMixin,
    IdNumberSearchMixin,
    CaseExportMixin,
]
# The one name more than one mixin defines: each answers for its own actions, then calls super().
COOPERATIVE = {"is_action_allowed": {BatchExportMixin, LifecycleMixin}}


def _own_names(cls: type) -> set[str]:
    return {name for name in vars(cls) if not (name.startswith("__") and name.endswith("__"))}


def test_case_view_is_made_of_exactly_these_mixins():
    bases = list(CaseView.__bases__)
    assert set(bases) == {*MIXINS, ConsoleModelView}


def test_every_mixin_comes_before_the_base_view_it_overrides():
    mro = CaseView.__mro__
    for mixin in MIXINS:
        assert mro.index(mixin) < mro.index(ConsoleModelView), mixin.__name__


def test_no_two_mixins_define_the_same_name_except_the_cooperative_ones():
    owners: dict[str, set[type]] = {}
    for mixin in MIXINS:
        for name in _own_names(mixin):
            owners.setdefault(name, set()).add(mixin)
    assert {name: found for name, found in owners.items() if len(found) > 1} == COOPERATIVE


def test_the_mixins_settings_win_over_the_base_views():
    # The base view turns these off for every other view; CaseView must see the mixins' answers.
    for name, mixin in [
        ("supports_id_search", IdNumberSearchMixin),
        # The register's export mixin inherits it from the generic one.
        ("can_export_post", ExportMixin),
        ("edit_view", CorrectionMixin),
        ("update_model", CorrectionMixin),
    ]:
        # Flask-Admin copies exposed views onto the class it builds, wrapped: compare what they wrap.
        assert inspect.unwrap(getattr(CaseView, name)) is inspect.unwrap(vars(mixin)[name]), name


@pytest.mark.parametrize(
    ("username", "expected"),
    [
        # export_pdf (BatchExportMixin), accept (LifecycleMixin), delete (the base view).
        ("xiashan_dongshan", {"export_pdf": True, "accept": True, "hand_off": True, "delete": False}),
        ("qu_admin", {"export_pdf": True, "accept": True, "hand_off": False, "delete": False}),
        ("qu_audit", {"export_pdf": False, "accept": False, "hand_off": False, "delete": False}),
    ],
)
def test_each_action_is_answered_by_its_own_mixin_through_the_chain(demo_app, username, expected):
    view = next(v for v in demo_app.extensions["admin"][0]._views if isinstance(v, CaseView))
    with demo_app.test_request_context("/admin/case/"):
        login_user(user(username))
        assert {name: view.is_action_allowed(name) for name in expected} == expected
