"""The public roster of agents (代办员公示): which centers a login may post it for, and who is on it.

Plan 二(三) asks the service to 自觉接受社会各界的监督 and 二(二) to be free of charge; a posted roster
with each agent's name, staff number, photo and items, the center's telephone and the 12345 line is
how an applicant knows whom to ask and where to complain (domain.md: 丰都 posts 代办人员身份、联系方式、
代办事项、监督电话).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from lifecycle.scope import scope_clause
from models import Agent, Center, User
from models.enums import Tier
from models.keys import parse_key

# The province's unified government-service hotline (12345), printed on every notice as the
# supervision line whatever a center's own hotline field says.
SUPERVISION_HOTLINE = "12345"
_TIER_ORDER = {Tier.DISTRICT.value: 0, Tier.TOWN.value: 1, Tier.VILLAGE.value: 2}


def roster_centers(session: Session, user: User) -> list[Center]:
    """The centers whose roster the user may print, each town followed by its villages."""
    centers = session.scalars(select(Center).where(scope_clause(Center, user)).order_by(Center.id)).all()

    def place(center: Center) -> tuple:
        town = center.town
        return (
            _TIER_ORDER[center.tier] if town is None else 1,
            town.id if town else 0,
            center.tier != Tier.TOWN,
            center.id,
        )

    return sorted(centers, key=place)


def center_in_scope(session: Session, user: User, raw_id: object) -> Center | None:
    """The center with this (untrusted) id if the user may see it, else None (treated as not existing)."""
    key = parse_key(raw_id)
    if key is None:
        return None
    return session.scalar(select(Center).where(Center.id == key, scope_clause(Center, user)))


def roster_agents(session: Session, center: Center) -> list[Agent]:
    """The center's agents now on duty, by staff number, with their items and photo record (not its bytes)."""
    return list(
        session.scalars(
            select(Agent)
            .where(Agent.center_id == center.id, Agent.active.is_(True))
            .options(selectinload(Agent.items), selectinload(Agent.photo))
            .order_by(Agent.staff_no, Agent.id)
        )
    )
