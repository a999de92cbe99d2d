"""The console's form base: Flask-Admin's WTForms translations plus Flask-WTF's CSRF token."""

from __future__ import annotations

import typing as t

from flask_admin.babel import Translations
from flask_wtf import FlaskForm


class ConsoleForm(FlaskForm):
    """Every admin form (create, edit, delete, actions) carries the same CSRF token CSRFProtect checks."""

    class Meta:
        _translations = Translations()

        def get_translations(self, form: ConsoleForm) -> Translations:
            return self._translations

    def __init__(self, formdata: t.Any = None, obj: t.Any = None, prefix: str = "", **kwargs: t.Any) -> None:
        self._obj = obj  # Flask-Admin's Unique validator reads this
        super().__init__(formdata=formdata, obj=obj, prefix=prefix, **kwargs)
