"""Closed cases in the console: no edit, no log entries, and the audited correction page (更正)."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_admin import expose
from flask_login import current_user

from admin_views.base import forbid
from admin_views.case_lifecycle import case_in_write_scope
from extensions import db
from lifecycle.corrections import (
    CORRECTABLE_FIELDS,
    NEVER_CORRECTED,
    CorrectionError,
    can_correct,
    closed_message,
    correct,
    is_closed,
)
from lifecycle.errors import ConflictError
from lifecycle.scope import can_change_case
from models import Case
from models.enums import ADMIN_ROLES, Role


class CorrectionMixin:
    """Mixed into CaseView: a closed case is never edited, only corrected on its own page."""

    def can_edit_case(self, case: Case) -> bool:
        """The 编辑 button: an open case the user's center now holds."""
        return self.can_edit and can_change_case(current_user, case) and not is_closed(case)

    def can_correct_case(self, case: Case) -> bool:
        return can_correct(current_user, case)

    def handed_off_notice(self, case: Case) -> str | None:
        """What the first center (and anyone else reading only) is told about a case it handed up."""
        if case.origin_center_id == case.center_id or can_change_case(current_user, case):
            return None
        return f"本案件已转办至{case.center.name}，由{case.center.name}办理；{case.origin_center.name}仅可查阅。"

    @expose("/edit/", methods=("GET", "POST"))
    def edit_view(self):
        case = self.get_one(request.args.get("id"))
        if case is not None and is_closed(case):
            flash(closed_message(case), "error")
            return redirect(url_for(".details_view", id=case.id))
        return super().edit_view()

    def update_model(self, form, model) -> bool:
        # Every save path (edit form, list inline edit) ends here: a closed case is never saved.
        if is_closed(model):
            flash(closed_message(model), "error")
            return False
        return super().update_model(form, model)

    @expose("/correct/", methods=("GET", "POST"))
    def correct_view(self):
        if Role(current_user.role) not in ADMIN_ROLES:
            forbid()
        case = case_in_write_scope(request.args.get("id"))
        if case is None:
            flash("记录不存在。", "error")
            return redirect(url_for(".index_view"))
        if not is_closed(case):
            flash("案件尚未办结，请直接编辑。", "error")
            return redirect(url_for(".details_view", id=case.id))
        case_id = case.id
        typed: dict[str, str] = {name: getattr(case, name) or "" for name in CORRECTABLE_FIELDS}
        names = {m.id: m.name for m in case.materials}
        version, reason = case.version, ""
        if request.method == "POST":
            # A field the form did not send stays as it is; only what was posted is compared.
            fields = {name: request.form[name] for name in CORRECTABLE_FIELDS if name in request.form}
            renames = {m_id: request.form[f"material-{m_id}"] for m_id in names if f"material-{m_id}" in request.form}
            typed.update(fields)
            names.update(renames)
            version = request.form.get("version", type=int)
            reason = request.form.get("reason", "")
            try:
                changed = correct(
                    db.session, case, current_user, fields, reason, material_names=renames, expected_version=version
                )
            except (CorrectionError, ConflictError) as exc:
                flash(f"未更正：{exc}", "error")
            else:
                flash(f"已更正：{'、'.join(changed)}。更正记录已写入办理过程和审计日志。", "success")
                return redirect(url_for(".details_view", id=case_id))
        case = db.session.get(Case, case_id)
        return self.render(
            "case/correct.html",
            case=case,
            fields=[
                (name, title, length, typed[name], getattr(case, name) or "")
                for name, (title, length) in CORRECTABLE_FIELDS.items()
            ],
            materials=[(m, names.get(m.id, m.name)) for m in case.materials],
            version=version,
            reason=reason,
            never=NEVER_CORRECTED,
        )
