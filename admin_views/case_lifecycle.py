"""Lifecycle in the console: step bar, transition buttons and confirmation pages, bulk actions,
hand-written progress-log entries. Every change goes through lifecycle.transitions.transition."""

from __future__ import annotations

import typing as t

from flask import current_app, flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import BooleanField, DateField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from admin_views.base import forbid
from extensions import db
from lifecycle.corrections import closed_message, is_closed
from lifecycle.errors import ConflictError, TransitionError
from lifecycle.evaluation_links import open_link, token_for
from lifecycle.scope import can_change_case, scope_clause
from lifecycle.transitions import (
    TRANSITIONS,
    Transition,
    available,
    fields_for,
    happy_path,
    reachable,
    refusal,
    transition,
    transition_many,
)
from models import Agent, Case, CaseLog, Department
from models.enums import MaterialForm, Mode, ResultDelivery, ReturnMethod, Role, Status, TerminationReason, choices
from models.keys import parse_key, parse_keys
from models.time import utcnow

# Where a state that is not on the main line (lifecycle.transitions.happy_path) sits on the step bar.
_STEP_OF = {Status.SUSPENDED: Status.IN_PROGRESS, Status.TERMINATED: Status.COMPLETED, Status.REJECTED: Status.ACCEPTED}
MAX_BULK = 500


def step_bar(case: Case) -> list[dict[str, t.Any]]:
    """The steps of the case's mode, each marked done, current or to come.

    Steps after the current one are shown only while the table can still reach them: a case not
    accepted (不予受理) goes on to the archive, never to 办理中 or 已办结.
    """
    mode = Mode(case.mode)
    steps = happy_path(mode)
    status = Status(case.status)
    current = _STEP_OF.get(status, status)
    index = steps.index(current)
    ahead = reachable(mode, status)
    bar = []
    for i, step in enumerate(steps):
        if i > index and step not in ahead:
            continue
        text = step.value
        if step == current and status != current:
            text = status.value  # e.g. 已中止 shown in the 办理中 slot
        bar.append({"status": text, "state": "done" if i < index else "current" if i == index else "todo"})
    return bar


class TransitionForm(FlaskForm):
    """Every field any transition collects; the page shows only the transition's own."""

    agent = SelectField("承办代办员", coerce=int, validators=[Optional()])
    application_confirmed = BooleanField("《代办服务申请表》已填写，申请人已签字")
    undertaking_confirmed = BooleanField("《代办服务承诺书》已由申请人签署")
    agreement_signed = BooleanField("《代办服务委托协议》已由双方签订")
    reason = TextAreaField("原因", validators=[Optional(), Length(max=500)])
    resume_expected_on = DateField("预计恢复办理日期", validators=[Optional()])
    completion_result = StringField("办理结果", validators=[Optional(), Length(max=200)])
    result_delivery = SelectField("结果交付方式", choices=[("", "")] + choices(ResultDelivery), validators=[Optional()])
    tracking_out = StringField("结果寄递运单号", validators=[Optional(), Length(max=40)])
    handover_note = TextAreaField("移交资料说明", validators=[Optional(), Length(max=500)])
    materials_return_method = SelectField(
        "原件退还方式", choices=[("", "请选择")] + choices(ReturnMethod), validators=[Optional()]
    )
    materials_return_note = TextAreaField(
        "退还说明(签收人、邮寄单号或保管情况)", validators=[Optional(), Length(max=500)]
    )
    completion_signed = BooleanField("申请人已在打印的《代办服务办结单》上签字确认")
    termination_reason = SelectField(
        "终止原因", choices=[("", "请选择")] + choices(TerminationReason), validators=[Optional()]
    )
    termination_text = TextAreaField("终止说明(已完成环节、后续事项)", validators=[Optional(), Length(max=500)])
    termination_signed = BooleanField("委托人已在打印的《代办服务终止委托单》上签收")
    materials_returned = BooleanField("原件已按登记的退还方式退还申请人")


class LogEntryForm(FlaskForm):
    department = SelectField("联系部门", coerce=int, validators=[Optional()])
    content = TextAreaField("内容", validators=[DataRequired("请填写办理过程内容"), Length(max=1000)])


def _form_data(form: TransitionForm, spec: Transition) -> dict[str, t.Any]:
    data: dict[str, t.Any] = {}
    for name in spec.fields:
        value = getattr(form, name).data
        if name == "agent":
            value = db.session.get(Agent, value) if value else None
        data[name] = value
    return data


def case_in_write_scope(case_id: t.Any) -> Case | None:
    """The case with this (posted, untrusted) id if the current user may change it, else None."""
    key = parse_key(case_id)
    if key is None:
        return None
    return db.session.scalar(select(Case).where(Case.id == key, scope_clause(Case, current_user, write=True)))


class LifecycleMixin:
    """Mixed into CaseView: the case's life as buttons, pages and bulk actions."""

    def _ids_in_scope(self, ids: t.Iterable[t.Any]) -> tuple[list[Case], int]:
        """Re-select posted ids through the write scope; the count of ids that found nothing."""
        keys = parse_keys(ids)
        cases = (
            db.session.scalars(
                select(Case).where(Case.id.in_(keys), scope_clause(Case, current_user, write=True)).order_by(Case.id)
            ).all()
            if keys
            else []
        )
        return list(cases), len(set(ids)) - len(cases)

    def lifecycle_context(self, case: Case) -> dict[str, t.Any]:
        departments = db.session.scalars(select(Department).order_by(Department.id)).all()
        log_form = LogEntryForm()
        log_form.department.choices = [(0, "(不涉及部门)")] + [(d.id, d.name) for d in departments]
        # The link is the applicant's alone: only the center now holding the case hands it over,
        # never the auditor or a station that handed the case up.
        link = open_link(case, utcnow()) if can_change_case(current_user, case) else None
        evaluation_url = None
        if link is not None:
            secret = current_app.config["SECRET_KEY"].encode("utf-8")
            evaluation_url = url_for("public.evaluate", token=token_for(link, secret), _external=True)
        return {
            "evaluation_url": evaluation_url,
            "steps": step_bar(case),
            "buttons": available(case, current_user),
            "can_log": can_change_case(current_user, case) and not is_closed(case),
            "log_form": log_form,
        }

    # The URL part is not called "name": Flask-Admin passes URL parts to _handle_view(name, **kwargs).
    @expose("/transition/<step>/", methods=["GET", "POST"])
    def transition_view(self, step: str):
        name = step
        spec = TRANSITIONS.get(name)
        if spec is None:
            flash("未知的操作。", "error")
            return redirect(url_for(".index_view"))
        if Role(current_user.role) not in spec.roles:
            forbid()
        raw_ids = request.values.get("ids") or request.values.get("id") or ""
        cases, missing = self._ids_in_scope(raw_ids.split(","))
        if not cases:
            flash("记录不存在。", "error")
            return redirect(url_for(".index_view"))
        # Recording again (a correction) starts from what is on record.
        recorded = len(cases) == 1 and spec.target is None and spec.name.startswith("record_")
        form = TransitionForm(obj=cases[0]) if recorded else TransitionForm()
        agents = db.session.scalars(
            select(Agent).where(Agent.center_id == cases[0].center_id, Agent.active.is_(True)).order_by(Agent.staff_no)
        ).all()
        form.agent.choices = [(0, "(沿用已指派的代办员)")] + [(a.id, str(a)) for a in agents]
        # The version the clerk's page showed; a single case changed since then is a conflict.
        version = request.form.get("version", type=int) if request.method == "POST" else None
        if request.method == "POST" and form.validate_on_submit():
            data = _form_data(form, spec)
            if len(cases) == 1:
                case_id, number = cases[0].id, cases[0].number
                try:
                    transition(db.session, cases[0], name, current_user, data, expected_version=version)
                except ConflictError as exc:
                    flash(f"“{spec.label}”未执行：{exc}", "error")
                    if not spec.fields:  # nothing typed to keep: show the case as it now is
                        return redirect(url_for(".details_view", id=case_id))
                except TransitionError as exc:
                    flash(f"“{spec.label}”未执行：{exc}", "error")
                else:
                    flash(f"{number} 已{spec.label}。", "success")
                    return redirect(url_for(".details_view", id=case_id))
            else:
                outcome = transition_many(db.session, cases, name, current_user, data)
                self._report(spec, outcome, missing)
                return redirect(url_for(".index_view"))
        eligible = [(c, refusal(c, spec, current_user)) for c in cases]
        return self.render(
            "case/transition.html",
            spec=spec,
            form=form,
            fields=fields_for(spec, cases),
            cases=eligible,
            ids=",".join(str(c.id) for c in cases),
            version=version if version is not None else (cases[0].version if len(cases) == 1 else None),
            missing=missing,
            originals=[
                m
                for c in cases
                for m in c.materials
                if m.form == MaterialForm.ORIGINAL and m.received and not m.returned
            ],
        )

    @expose("/log/", methods=["POST"])
    def log_view(self):
        if Role(current_user.role) not in self.write_roles:
            forbid()
        case = case_in_write_scope(request.args.get("id"))
        if case is None:
            flash("记录不存在。", "error")
            return redirect(url_for(".index_view"))
        if is_closed(case):
            flash(closed_message(case), "error")
            return redirect(url_for(".details_view", id=case.id))
        form = LogEntryForm()
        form.department.choices = [(0, "")] + [(d.id, d.name) for d in db.session.scalars(select(Department))]
        if not form.validate_on_submit():
            flash("；".join(e for errors in form.errors.values() for e in errors), "error")
            return redirect(url_for(".details_view", id=case.id))
        department = db.session.get(Department, form.department.data) if form.department.data else None
        case.logs.append(
            CaseLog(
                agent=case.agent,
                department=department,
                content=form.content.data.strip(),
                author=current_user.full_name or current_user.username,
            )
        )
        db.session.commit()
        flash("已记录办理过程。", "success")
        return redirect(url_for(".details_view", id=case.id))

    # --- bulk actions: the same transitions on the selected rows ----------------------------
    def is_action_allowed(self, name: str) -> bool:
        spec = TRANSITIONS.get(name)
        if spec is not None:
            return Role(current_user.role) in spec.roles
        return super().is_action_allowed(name)

    def _bulk(self, name: str, ids: list[str]):
        spec = TRANSITIONS[name]
        if len(ids) > MAX_BULK:
            flash(f"一次最多处理 {MAX_BULK} 条。", "error")
            return None
        if spec.fields:
            # Data to collect first: the same confirmation page, for all the selected rows.
            return redirect(url_for(".transition_view", step=name, ids=",".join(ids)))
        cases, missing = self._ids_in_scope(ids)
        self._report(spec, transition_many(db.session, cases, name, current_user), missing)
        return None

    def _report(self, spec: Transition, outcome, missing: int) -> None:
        if outcome.changed:
            flash(f"已{spec.label} {len(outcome.changed)} 件：" + "、".join(outcome.changed), "success")
        for number, reason in outcome.skipped:
            flash(f"{number} 未{spec.label}：{reason}", "warning")
        if missing:
            flash(f"另有 {missing} 条记录不存在或不在您的办理范围内，未处理。", "warning")

    @action("accept", "受理")
    def action_accept(self, ids):
        return self._bulk("accept", ids)

    @action("start", "开始办理")
    def action_start(self, ids):
        return self._bulk("start", ids)

    @action("suspend", "中止")
    def action_suspend(self, ids):
        return self._bulk("suspend", ids)

    @action("resume", "恢复办理")
    def action_resume(self, ids):
        return self._bulk("resume", ids)

    @action("record_result", "登记办理结果")
    def action_record_result(self, ids):
        return self._bulk("record_result", ids)

    @action("complete", "确认办结")
    def action_complete(self, ids):
        return self._bulk("complete", ids)

    @action("record_termination", "登记终止")
    def action_record_termination(self, ids):
        return self._bulk("record_termination", ids)

    @action("terminate", "确认终止")
    def action_terminate(self, ids):
        return self._bulk("terminate", ids)

    @action("reject", "不予受理")
    def action_reject(self, ids):
        return self._bulk("reject", ids)

    @action("archive", "归档")
    def action_archive(self, ids):
        return self._bulk("archive", ids)

    @action("hand_off", "转办上级")
    def action_hand_off(self, ids):
        return self._bulk("hand_off", ids)
