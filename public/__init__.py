"""Pages reachable without login: the applicant's one-time evaluation link (and, in health.py, the load balancer's check)."""

from __future__ import annotations

from flask import Blueprint, Flask, current_app, render_template, request
from flask_wtf import FlaskForm
from sqlalchemy.exc import IntegrityError
from wtforms import BooleanField, RadioField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from annexes.catalog import ANNEXES
from annexes.verify import check_token
from extensions import db, limiter
from lifecycle.errors import TransitionError
from lifecycle.evaluation_links import claim_link, find_link
from lifecycle.supervision import record_evaluation
from models.enums import EvaluationChannel, Rating, choices
from models.evaluation import RATING_FIELDS, RATING_LABELS
from models.identifiers import phone_error
from models.time import utcnow
from public import health

bp = Blueprint("public", __name__)

_RATINGS = [(str(value), text) for value, text in choices(Rating)]


def _rating_field(name: str) -> RadioField:
    # No default: a preselected answer would be the form's rating, not the applicant's.
    label = RATING_LABELS[name]
    return RadioField(label, choices=_RATINGS, validators=[InputRequired(f"请选择{label}")])


class PublicEvaluationForm(FlaskForm):
    asked_for_anything = BooleanField("办理过程中，工作人员是否向您索要财物或提出不当要求")
    comment = TextAreaField("意见建议", validators=[Optional(), Length(max=500, message="意见建议请控制在500字以内")])
    # Consent to a call-back is given by ticking, never assumed (PIPL art. 14: 自愿、明确).
    consent_callback = BooleanField("同意工作人员就本次评价回访我", default=False)
    evaluator_name = StringField("您的称呼", validators=[Optional(), Length(max=32)])
    evaluator_phone = StringField("联系电话(选填)", validators=[Optional(), Length(max=20)])

    def validate_evaluator_phone(self, field) -> None:
        if field.data and phone_error(field.data):
            raise ValidationError(phone_error(field.data))


# One radio group per rating item of the table (the template shows them in the table's order).
for _name in RATING_FIELDS:
    setattr(PublicEvaluationForm, _name, _rating_field(_name))


def _secret() -> bytes:
    return current_app.config["SECRET_KEY"].encode("utf-8")


def _used_page():
    return render_template(
        "public/message.html", title="已完成评价", message="该评价链接已使用，每次服务只能评价一次。感谢您的评价！"
    ), 410


@bp.route("/e/<token>", methods=["GET", "POST"])
@limiter.limit("30 per minute; 300 per hour")
def evaluate(token: str):
    link = find_link(db.session, token, _secret())
    if link is None:
        return render_template(
            "public/message.html", title="链接无效", message="该评价链接不存在或已失效，请核对短信或办结单上的二维码。"
        ), 404
    if link.used_at is not None:
        return _used_page()
    if link.expires_at < utcnow():
        return render_template(
            "public/message.html", title="链接已过期", message="该评价链接已过期。如需反映情况，请拨打监督电话 12345。"
        ), 410
    case = link.case
    form = PublicEvaluationForm()
    if request.method == "POST" and form.validate_on_submit():
        values = {name: int(getattr(form, name).data) for name in RATING_FIELDS}
        values.update(
            asked_for_anything=form.asked_for_anything.data,
            comment=(form.comment.data or "").strip(),
            consent_callback=bool(form.consent_callback.data),
            evaluator_name=(form.evaluator_name.data or "").strip(),
            evaluator_phone=(form.evaluator_phone.data or "").strip(),
        )
        if not claim_link(db.session, link, utcnow()):
            db.session.rollback()  # another submission, on this server or another, used it meanwhile
            return _used_page()
        try:
            record_evaluation(
                db.session, case, values, EvaluationChannel.LINK.value, current_app.config["FOLLOWUP_WORKING_DAYS"]
            )
        except TransitionError as exc:
            db.session.rollback()
            return render_template("public/message.html", title="无法评价", message=str(exc)), 409
        except IntegrityError:
            db.session.rollback()  # the applicant's own rating is on file already (one per channel)
            return _used_page()
        return render_template(
            "public/message.html", title="评价已提交", message="感谢您的评价！如您反映了问题，承办单位将安排专人回访。"
        )
    return render_template("public/evaluate.html", form=form, case=case, labels=RATING_LABELS)


@bp.route("/verify/<token>")
@limiter.limit("60 per minute; 600 per hour")
def verify(token: str):
    """The page a form's QR code opens: is this form genuine? Case number, form, center, date; nobody's data."""
    found = check_token(db.session, token, _secret())
    if found is None:
        return render_template(
            "public/message.html",
            title="无法核验",
            message="未找到与该二维码对应的表单，表单可能不是本系统出具的或已被篡改。请向受理机构或拨打 12345 核实。",
        ), 404
    return render_template("public/verify.html", found=found, annex=ANNEXES[found.annex])


def init_public(app: Flask) -> None:
    app.register_blueprint(bp)
    app.register_blueprint(health.bp)
