"""Which of the six annexes a case has, by its mode and state (实施方案三(三)4, domain.md §1.9)."""

from __future__ import annotations

from dataclasses import dataclass

from models import Case
from models.enums import Mode, Rating, Status, label


@dataclass(frozen=True)
class Annex:
    number: int
    title: str
    template: str

    @property
    def heading(self) -> str:
        return f"附件{self.number} {self.title}"


ANNEXES: dict[int, Annex] = {
    a.number: a
    for a in (
        Annex(1, "代办服务申请表", "annex/application.html"),
        Annex(2, "代办服务承诺书", "annex/undertaking.html"),
        Annex(3, "代办服务委托协议", "annex/agreement.html"),
        Annex(4, "代办服务终止委托单", "annex/termination.html"),
        Annex(5, "代办服务办结单", "annex/completion.html"),
        Annex(6, "委托代办服务评价表", "annex/evaluation.html"),
    )
}

# The evaluation form's five levels, best first (its items are models.evaluation.RATING_LABELS).
RATINGS = [(int(r), label(r)) for r in sorted(Rating, reverse=True)]


def outcome(case: Case) -> Status | None:
    """How a closed case ended (completed, terminated or rejected), archived or not; None while open."""
    status = Status(case.status)
    if status in (Status.COMPLETED, Status.TERMINATED, Status.REJECTED):
        return status
    if status == Status.ARCHIVED:
        if case.termination_reason:
            return Status.TERMINATED
        if case.rejection_reason:
            return Status.REJECTED
        return Status.COMPLETED
    return None


def refusal(case: Case, number: int) -> str | None:
    """Why annex `number` does not apply to the case, in Chinese; None when it does."""
    annex = ANNEXES.get(number)
    if annex is None:
        return "附件编号应为1至6"
    if case.mode != Mode.DELEGATED:
        return (
            f"本件为{case.mode_label}，不签订代办服务表单：附件1至6仅用于委托代办件"
            "（实施方案三(三)4）；帮办件以登记台账和评价为准。"
        )
    ended = outcome(case)
    if number in (2, 3) and ended == Status.REJECTED:
        return f"本件已不予受理，未签订《{annex.title}》。"
    # Plan 三(三)4: the slip is printed once the result (termination) is recorded, signed, and only
    # then is the case closed; after closing it prints as the record of what was signed.
    if number == 4 and not (ended == Status.TERMINATED or (ended is None and case.termination_recorded_at)):
        return (
            f"《{annex.title}》在登记终止后打印，仅用于终止委托的案件；本件状态为“{case.status_label}”，尚未登记终止。"
        )
    if number == 5 and not (ended == Status.COMPLETED or (ended is None and case.result_recorded_at)):
        return f"《{annex.title}》在登记办理结果后打印，仅用于办结的案件；本件状态为“{case.status_label}”，尚未登记办理结果。"
    if number == 6 and ended not in (Status.COMPLETED, Status.TERMINATED):
        return f"《{annex.title}》在案件办结或终止后提供；本件状态为“{case.status_label}”。"
    return None


def is_signing_copy(case: Case, number: int) -> bool:
    """Annex 4 or 5 printed before the case is closed: the copy the applicant is to sign."""
    return number in (4, 5) and outcome(case) is None


def available(case: Case) -> list[Annex]:
    """The annexes that apply to the case, in order."""
    return [annex for number, annex in ANNEXES.items() if refusal(case, number) is None]
