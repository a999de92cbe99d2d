"""`flask seed --demo`: the Chaonan (潮南区) demo data set of centers, items, agents, applicants, cases and reviews.

The set is fixed data (seed/data/) drawn into a plan by generators with fixed seeds (seed/plan.py,
seed/case_plan.py), so the planned data set is identical on every run; seed/builder.py writes it.
Rows are looked up by their natural keys before they are created (center name, department name,
item code, agent staff number, ID number or credit code, username; for cases the applicant,
center, received date and mode), so running the seed again adds nothing.

Dates are anchored to REFERENCE_DATE rather than today, so the data set is reproducible.
Case numbers, first-receiving centers and promised dates are left to the flush-time
enforcement (lifecycle.enforcement.prepare_new_case). All people, ID numbers, credit codes,
phone numbers and company names are synthetic.
"""

from __future__ import annotations

import random

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import Agent, Applicant, Case, Center, Complaint, Department, Evaluation, FollowUp, ServiceItem, User
from seed.builder import (
    seed_agents,
    seed_applicants,
    seed_cases,
    seed_centers,
    seed_complaints,
    seed_departments,
    seed_items,
    seed_paper_then_link,
    seed_users,
)
from seed.case_plan import CasePlanner
from seed.data.cases import CASE_COUNT
from seed.holidays import seed_holidays
from seed.plan import Plan, plan_agents, plan_applicants, plan_centers


def build_plan() -> Plan:
    """The whole demo data set as plain data; identical on every call."""
    centers = plan_centers(random.Random(20260101))
    agents = plan_agents(random.Random(20260102), {c.name: c for c in centers})
    applicants = plan_applicants(random.Random(20260103), centers)
    cases = CasePlanner(random.Random(20260104), centers, agents, applicants).plan(CASE_COUNT)
    return Plan(centers, agents, applicants, cases)


def _totals(session: Session) -> dict[str, int]:
    models = [
        ("机构", Center),
        ("部门", Department),
        ("事项", ServiceItem),
        ("代办员", Agent),
        ("申请人", Applicant),
        ("案件", Case),
        ("评价", Evaluation),
        ("回访", FollowUp),
        ("投诉", Complaint),
        ("用户", User),
    ]
    return {name: session.scalar(select(func.count()).select_from(model)) or 0 for name, model in models}


def seed_demo(session: Session) -> dict[str, int]:
    """Create the Chaonan demo data set where it is missing, commit, and return the table totals."""
    plan = build_plan()
    centers = seed_centers(session, plan)
    departments = seed_departments(session)
    items = seed_items(session, plan, centers, departments)
    users = seed_users(session, centers)
    agents = seed_agents(session, plan, centers, items)
    applicants = seed_applicants(session, plan, centers)
    seed_holidays(session)  # before the cases: their promised dates count on it
    seed_cases(session, plan, centers, items, agents, applicants, departments, users)
    seed_paper_then_link(session)
    seed_complaints(session, users)
    session.commit()
    return _totals(session)
