"""Login, logout and the session rules around them."""

from __future__ import annotations

from flask import Flask
from sqlalchemy.orm import joinedload

from auth.views import bp
from extensions import db, login_manager
from models import User
from models.keys import parse_key


def init_auth(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "请先登录。"
    login_manager.login_message_category = "warning"
    login_manager.session_protection = "basic"
    app.register_blueprint(bp)


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    # The cookie carries "<id>:<epoch>"; bumping the epoch ends every older session.
    user_id, _, epoch = (parse_key(part) for part in session_id.partition(":"))
    if user_id is None or epoch is None:
        return None
    # The page header and the scope read the user's center on every request: loaded with the user,
    # so that whether it costs a query does not depend on what else the page happened to load.
    user = db.session.get(User, user_id, options=[joinedload(User.center)])
    if user is None or user.session_epoch != epoch or not user.active:
        return None
    return user
