"""The scoped, role-aware ModelView every console view derives from."""

from __future__ import annotations

import typing as t

from flask import abort, current_app, flash, redirect, request, url_for
from flask_admin.actions import action
from flask_admin.babel import lazy_gettext
from flask_admin.contrib.sqla import ModelView
from flask_admin.contrib.sqla import filters as sqla_filters
from flask_admin.contrib.sqla.ajax import QueryAjaxModelLoader
from flask_admin.contrib.sqla.fields import QuerySelectField
from flask_admin.contrib.sqla.filters import BaseSQLAFilter
from flask_login import current_user
from sqlalchemy import inspect, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError
from wtforms import HiddenField
from wtforms.validators import ValidationError

import audit
from admin_views.forms import ConsoleForm
from admin_views.listing import FastListMixin
from extensions import db
from lifecycle import rules
from lifecycle.errors import ConflictError
from lifecycle.scope import scope_clause, scope_parts
from models.enums import ALL_ROLES, Role
from models.keys import parse_key, parse_keys

WRITE_ENDPOINTS = {"edit_view", "delete_view", "ajax_update", "action_view"}


def forbid() -> t.NoReturn:
    """Refuse with 403, leaving an audit row of the attempt (MLPS 2.0: 访问控制事件留痕)."""
    audit.record(db.session, audit.AuditEvent.FORBIDDEN, summary=f"{request.method} {request.full_path}"[:200])
    db.session.commit()
    abort(403)


# A search longer than this is refused with a message: SQLite refuses LIKE patterns over 50,000
# bytes, and every term becomes an ILIKE on every searchable column.
MAX_SEARCH_LENGTH = 100
# Beyond this the list is empty anyway; the clamp keeps OFFSET (page x page size) a small integer.
MAX_PAGE = 1_000_000
AJAX_PAGE_LIMIT = 100


STALE_MESSAGE = str(ConflictError())
MISSING_VERSION_MESSAGE = "表单缺少记录版本，请刷新页面后重试"


class SignedInMixin:
    """A console page every signed-in login may open (it scopes its own content); others go to the login page."""

    def is_accessible(self) -> bool:
        return current_user.is_authenticated

    def inaccessible_callback(self, name, **kwargs):
        return redirect(url_for("auth.login", next=request.full_path))


class VersionField(HiddenField):
    """The record's version when the edit form was loaded: compared on save, never written back."""

    def populate_obj(self, obj: t.Any, name: str) -> None:
        pass


def posted_version(form) -> int | None:
    """The version the form was loaded at, as posted; None when the post carries none."""
    field = form._fields.get("version")
    raw = field.raw_data if isinstance(field, VersionField) else None
    return parse_key(raw[0]) if raw else None


class ScopedAjaxLoader(QueryAjaxModelLoader):
    """Autocomplete in forms: offers, and accepts on submit, only rows the user may change.

    Write scope, not read scope: a station still reads a case it handed up, but may not
    attach a new evaluation to it.
    """

    def get_query(self):
        return super().get_query().filter(scope_clause(self.model, current_user, write=True))

    def get_list(self, term: str, offset: int = 0, limit: int = 10):
        # offset and limit come from the query string as any integer; the term as any length.
        if len(term or "") > MAX_SEARCH_LENGTH:
            return []
        offset = min(max(offset or 0, 0), MAX_PAGE)
        limit = min(max(limit or 10, 1), AJAX_PAGE_LIMIT)
        return super().get_list(term, offset, limit)

    def get_one(self, pk: t.Any) -> t.Any:
        key = parse_key(pk)
        if key is None:
            return None
        with db.session.no_autoflush:
            return self.get_query().filter(inspect(self.model).primary_key[0] == key).one_or_none()


class DynamicOptionsFilter(BaseSQLAFilter):
    """A dropdown filter whose options are computed per request (Flask-Admin caches them at start-up)."""

    def dynamic_options(self) -> list[tuple[str, str]]:
        raise NotImplementedError

    def get_options(self, view):  # called once at start-up; the real list comes per request
        return [("", "")]


# Flask-Admin's integer filters read their value with int(), which lets through numbers no column
# holds. These keep Flask-Admin's class names, which name the filters in list URLs.
class IntEqualFilter(sqla_filters.IntEqualFilter):
    def clean(self, value: str) -> int:
        key = parse_key(value)
        if key is None:
            raise ValueError(value)
        return key


class IntInListFilter(sqla_filters.IntInListFilter):
    def clean(self, value: str) -> list[int]:
        keys = [parse_key(part.strip()) for part in value.split(",") if part.strip()]
        if None in keys:
            raise ValueError(value)
        return keys


class ConsoleModelView(FastListMixin, ModelView):
    form_base_class = ConsoleForm
    page_size = 30
    can_set_page_size = True
    page_size_options = (20, 30, 50, 100)
    can_view_details = True
    column_display_pk = False
    named_filter_urls = True
    # The pager needs a count; past admin_views.listing.COUNT_CAP rows it is an estimate ("约 N").
    simple_list_pager = False
    # Flask-Admin's GET export is off everywhere: exports are POST, masked and audited (pii.py).
    can_export = False
    can_export_post = False
    supports_id_search = False

    read_roles: frozenset[Role] = ALL_ROLES
    write_roles: frozenset[Role] = frozenset({Role.DISTRICT_ADMIN})
    create_roles: frozenset[Role] | None = None  # defaults to write_roles
    delete_roles: frozenset[Role] = frozenset({Role.DISTRICT_ADMIN})

    # --- access -----------------------------------------------------------------
    def _role(self) -> Role | None:
        return Role(current_user.role) if current_user.is_authenticated else None

    def is_accessible(self) -> bool:
        return current_user.is_authenticated and self._role() in self.read_roles

    def inaccessible_callback(self, name: str, **kwargs: t.Any):
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.full_path))
        forbid()

    def _handle_view(self, name: str, **kwargs: t.Any):
        # Flask-Admin only redirects when a can_* flag is off; a role that may not use a page gets 403.
        response = super()._handle_view(name, **kwargs)
        if response is not None:
            return response
        if name == "action_view" and request.method == "POST":
            action_name = request.form.get("action", "")
            if action_name and not self.is_action_allowed(action_name):
                forbid()
        allowed = {
            "create_view": self.can_create,
            "edit_view": self.can_edit,
            "delete_view": self.can_delete,
            "ajax_update": self.can_edit,
            "details_view": self.can_view_details,
            "export": self.can_export,
        }.get(name, True)
        if not allowed:
            forbid()
        return None

    def _is_write_request(self) -> bool:
        return (request.endpoint or "").rsplit(".", 1)[-1] in WRITE_ENDPOINTS

    @property
    def can_create(self) -> bool:  # type: ignore[override]
        roles = self.create_roles if self.create_roles is not None else self.write_roles
        return self._role() in roles

    @property
    def can_edit(self) -> bool:  # type: ignore[override]
        return self._role() in self.write_roles

    @property
    def can_delete(self) -> bool:  # type: ignore[override]
        return self._role() in self.delete_roles

    def _get_list_extra_args(self):
        """The list's query arguments, with the page clamped and an overlong search dropped with a message."""
        args = super()._get_list_extra_args()
        args.page = min(max(args.page or 0, 0), MAX_PAGE)
        if args.search and len(args.search) > MAX_SEARCH_LENGTH:
            flash(f"搜索内容过长(最多{MAX_SEARCH_LENGTH}个字)，已忽略本次搜索，请缩短后重试。", "error")
            args.search = None
        return args

    def filtered_list(self, limit: int, execute: bool = True):
        """(count, rows or query) of what the list shows with the request's filters, search and sort."""
        view_args = self._get_list_extra_args()
        sort = self._get_column_by_idx(view_args.sort)
        return self.get_list(
            0,
            sort[0] if sort else None,
            view_args.sort_desc,
            view_args.search,
            view_args.filters,
            execute=execute,
            page_size=limit,
        )

    # --- scope: list, count, get_one all go through scope_clause -------------
    def get_query(self):
        return super().get_query().filter(scope_clause(self.model, current_user))

    def get_count_query(self):
        return super().get_count_query().filter(scope_clause(self.model, current_user))

    def get_count_queries(self) -> list:
        # The count added up over the scope's disjoint parts (lifecycle/scope.py scope_parts), each on its own index.
        parts = scope_parts(self.model, current_user)
        unscoped = super().get_count_query()
        return [unscoped] if parts is None else [unscoped.filter(part) for part in parts]

    def get_one(self, id: t.Any) -> t.Any:
        pk = inspect(self.model).primary_key[0]
        key = parse_key(id)
        if key is None:
            return None
        in_scope = scope_clause(self.model, current_user, write=self._is_write_request())
        query = db.session.query(self.model).options(*self.get_one_options())
        return query.filter(pk == key, in_scope).one_or_none()

    def get_one_options(self) -> list:
        """Loader options for one record's pages: lists on its details page load once, not per entry."""
        return []

    @action("delete", lazy_gettext("Delete"), lazy_gettext("Are you sure you want to delete selected records?"))
    def action_delete(self, ids):
        # Posted ids are strings; psycopg 3 binds them as VARCHAR and PostgreSQL will not compare
        # that with an integer key. The rows are re-selected through the scoped get_query.
        return super().action_delete(parse_keys(ids))

    def _create_ajax_loader(self, name: str, options: dict[str, t.Any]) -> QueryAjaxModelLoader:
        attr = getattr(self.model, name)
        remote = attr.property.mapper.class_
        return ScopedAjaxLoader(name, db, remote, **options)

    def get_filter_arg(self, index: int, flt) -> str:
        """Readable ASCII filter names in URLs; Flask-Admin's own strip Chinese names to nothing and collide."""
        key = getattr(getattr(flt, "column", None), "key", None)
        if not isinstance(key, str):
            return str(index)
        return f"{key}_{type(flt).__name__.lower()}"

    def _get_filter_groups(self):
        groups = super()._get_filter_groups()
        if not groups:
            return groups
        for items in groups.values():
            for entry in items:
                flt = self._filters[entry["index"]]
                if isinstance(flt, DynamicOptionsFilter):
                    entry["options"] = flt.dynamic_options()
        return groups

    def _get_ruleset_missing_fields(self, ruleset, form) -> list[str]:
        # Flask-Admin drops every field a form_rules list does not name, the CSRF token included,
        # and then CSRFProtect refuses the save. The token and the record version are never rules.
        kept = {"csrf_token", "version"}
        return [name for name in super()._get_ruleset_missing_fields(ruleset, form) if name not in kept]

    # --- optimistic locking: every edit form carries the version it was loaded at -------------
    def get_edit_form(self):
        form_class = super().get_edit_form()
        if "version" not in inspect(self.model).columns:
            return form_class
        return type(form_class.__name__, (form_class,), {"version": VersionField()})

    def _is_versioned(self, form) -> bool:
        return isinstance(form._fields.get("version"), VersionField)

    def _validate_form_class(self, ruleset, form_class, remove_missing: bool = True) -> None:
        # At start-up Flask-Admin deletes every form field the rules do not name; the hidden
        # version is rendered by hidden_tag(), not by a rule, and must survive.
        version = form_class.__dict__.get("version")
        if version is not None:
            delattr(form_class, "version")
        super()._validate_form_class(ruleset, form_class, remove_missing)
        if version is not None:
            form_class.version = version

    def update_model(self, form, model) -> bool:
        """Refuse a save made on a form loaded before someone else's save, keeping what was typed."""
        if not self._is_versioned(form):
            return super().update_model(form, model)
        posted = posted_version(form)
        if posted is None:
            flash(MISSING_VERSION_MESSAGE, "error")
            return False
        if posted != model.version:
            flash(STALE_MESSAGE, "error")
            return False
        return super().update_model(form, model)

    def _on_model_change(self, form, model, is_created: bool) -> None:
        super()._on_model_change(form, model, is_created)
        if not is_created and self._is_versioned(form):
            self._claim_next_version(model, posted_version(form))

    def _claim_next_version(self, model, loaded: int) -> None:
        """Move the row from the version the form was loaded at to the next one, or raise ConflictError.

        Every save moves it, even one that changes only inline rows (materials, fees), so a form
        loaded before that save is stale too.
        """
        mapper = inspect(model).mapper
        if mapper.version_id_col is not None:
            # The mapper's UPDATE runs "WHERE version = <loaded>" and raises StaleDataError if
            # another save committed in between.
            model.version = loaded + 1
            return
        # A plain counter (User: logins update that row and must not conflict with an edit).
        table = mapper.local_table
        pk = mapper.primary_key[0]
        moved = db.session.execute(
            update(table)
            .where(pk == mapper.primary_key_from_instance(model)[0], table.c.version == loaded)
            .values(version=loaded + 1)
        )
        if moved.rowcount != 1:
            raise ConflictError()
        set_committed_value(model, "version", loaded + 1)

    # --- writes: business rules become messages next to the fields ------------
    # Personal-data columns shown masked in edit forms; an unchanged masked value keeps the stored one.
    masked_form_fields: dict[str, t.Callable[[str | None], str]] = {}

    def edit_form(self, obj=None):
        form = super().edit_form(obj)
        if request.method == "GET" and obj is not None:
            for name, mask in self.masked_form_fields.items():
                if name in form:
                    form[name].data = mask(getattr(obj, name))
        return form

    def keep_masked_values(self, model) -> None:
        """After populate_obj: a field that came back as its own mask keeps the stored value."""
        state = inspect(model)
        for name, mask in self.masked_form_fields.items():
            history = state.attrs[name].history
            if history.deleted and getattr(model, name) == mask(history.deleted[0]):
                setattr(model, name, history.deleted[0])

    def validate_form(self, form) -> bool:
        """Also refuse a posted choice outside the user's dropdown.

        A QuerySelectField that allows a blank silently turns an id it does not offer (another
        town's agent, say) into None; here that counts as an error, not as "no value".
        """
        valid = super().validate_form(form)
        if request.method != "POST":
            return valid
        for field in form:
            if isinstance(field, QuerySelectField) and field.data is None:
                raw = [value for value in (field.raw_data or []) if value not in ("", "__None")]
                if raw:
                    field.errors = [*field.errors, "所选项不存在或不在您的管辖范围内"]
                    valid = False
        return valid

    def on_model_change(self, form, model, is_created: bool) -> None:
        with db.session.no_autoflush:
            errors = rules.errors_for(db.session, model)
        if errors:
            leftovers = []
            for field_name, message in errors.items():
                field = getattr(form, field_name, None)
                if field is not None:
                    field.errors = list(field.errors) + [message]
                else:
                    leftovers.append(message)
            raise ValidationError("保存失败，请修正标出的错误。" + "；".join(leftovers))

    def handle_view_exception(self, exc: Exception) -> bool:
        from sqlalchemy.exc import IntegrityError

        from lifecycle.errors import RuleError

        if isinstance(exc, RuleError):
            flash("保存失败：" + str(exc), "error")
            return True
        if isinstance(exc, (StaleDataError, ConflictError)):
            flash(STALE_MESSAGE, "error")
            return True
        if isinstance(exc, IntegrityError):
            flash("保存失败：与已有记录重复或引用的记录不存在，请检查编号、名称等唯一字段。", "error")
            return True
        if super().handle_view_exception(exc):
            return True
        # Anything else is a defect: log it with its traceback, tell the clerk in Chinese
        # (Flask-Admin's own "Failed to create record." has no Chinese translation).
        current_app.logger.exception("console save failed")
        flash("保存失败：系统内部错误，已记录，请联系区政务服务数据管理局。", "error")
        return True
