"""Pages for the price lists (view, edit, copy as a new version, load a file) and the programmes'
costs; the `flask socioeconomics load-price-list` command."""

from __future__ import annotations

from pathlib import Path

import click
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from coordination.audit.operations import log_access
from coordination.codes.operations import choices
from coordination.core.errors import Conflict, ValidationFailed
from coordination.core.parsing import is_digits, unstorable_errors
from coordination.core.permissions import access, get_visible, require
from coordination.extensions import db
from coordination.programmes.models import Programme
from coordination.socioeconomics import files, labels, queries
from coordination.socioeconomics import operations as ops
from coordination.socioeconomics import permissions as perms
from coordination.socioeconomics.models import PriceList
from coordination.socioeconomics.views import bp
from workflows.socioeconomics import ACTORS, DEFAULT_SHARES, KINDS, PUBLIC_ACTORS, VARIABLES

MAX_FILE = 2 * 1024 * 1024
NEW_ROWS = 5


@bp.cli.command("load-price-list")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--name", required=True, help="The price list's name.")
@click.option("--year", required=True, type=int, help="The year the prices are for.")
def load_price_list_command(path: Path, name: str, year: int):
    """Load a price list from a CSV or YAML file as a new version (all rows or none)."""
    try:
        price_list = files.load_price_file(path.name, path.read_bytes(), name=name, year=year)
    except ValidationFailed as exc:
        db.session.rollback()
        click.echo(exc.message, err=True)
        for field, messages in exc.errors.items():
            for message in messages:
                click.echo(f"  {field}: {message}", err=True)
        raise SystemExit(1) from exc
    db.session.commit()
    click.echo(
        f"Loaded {len(price_list.entries)} prices as {price_list.title} (id {price_list.id})."
    )


def _options() -> dict:
    return {
        "variable_options": [(v, labels.variable(v)) for v in VARIABLES],
        "actor_options": [(a, labels.actor(a)) for a in ACTORS],
        "kind_options": [(k, labels.kind(k)) for k in KINDS],
        "code_options": {v: choices(v) for v in VARIABLES},
    }


@bp.route("/price-lists", methods=["GET", "POST"])
@access(*perms.PRICE_LIST_ROLES)
def price_lists():
    """The price lists; analysts and admins create one (empty, or loaded from a file)."""
    errors: dict = {}
    if request.method == "POST":
        require(perms.can_edit(current_user))
        form = request.form.to_dict()
        errors = unstorable_errors(form)
        upload = request.files.get("file")
        if not errors:
            try:
                if upload is not None and upload.filename:
                    price_list = files.load_price_file(
                        upload.filename,
                        upload.read(MAX_FILE),
                        name=form.get("name", ""),
                        year=form.get("year"),
                        by=current_user,
                    )
                else:
                    price_list = ops.create_price_list(
                        name=form.get("name", ""), year=form.get("year"), rows=[], by=current_user
                    )
                log_access("price_list", price_list.id, action="create")
                db.session.commit()
                flash(_("Prislistan %(title)s är sparad.", title=price_list.title), "success")
                return redirect(url_for(".price_list", price_list_id=price_list.id))
            except ValidationFailed as exc:
                db.session.rollback()
                errors = exc.errors
    return render_template(
        "socioeconomics/price_lists.html",
        lists=queries.price_lists(),
        can_edit=perms.can_edit(current_user),
        errors=errors,
        form=request.form,
    ), (422 if errors else 200)


def _rows_from_form(form) -> list[tuple[str, dict]]:
    """Read the table's rows (existing ones and the blank ones), skipping deleted or empty rows."""
    rows = []
    raw = form.get("row_count", "")
    count = min(int(raw), 2000) if is_digits(raw) else 0
    for i in range(count):
        entry = {f: form.get(f"{f}-{i}", "") for f in ops.ENTRY_FIELDS}
        if form.get(f"delete-{i}") or not any(entry[f] for f in ("code", "amount", "source")):
            continue
        rows.append((_("rad %(line)s", line=i + 1), entry))
    return rows


def _edit_page(price_list: PriceList, errors: dict, form_rows: list[dict] | None, status=200):
    used = ops.is_used(price_list)
    rows = form_rows
    if rows is None:
        rows = [
            {f: ("" if getattr(e, f) is None else str(getattr(e, f))) for f in ops.ENTRY_FIELDS}
            for e in price_list.entries
        ]
    editable = perms.can_edit(current_user) and not used
    if editable:
        rows = rows + [dict.fromkeys(ops.ENTRY_FIELDS, "") for _i in range(NEW_ROWS)]
    html = render_template(
        "socioeconomics/price_list.html",
        price_list=price_list,
        used=used,
        editable=editable,
        can_edit=perms.can_edit(current_user),
        rows=rows,
        errors=errors,
        labels=labels,
        **_options(),
    )
    db.session.commit()
    return html, status


@bp.route("/price-lists/<int:price_list_id>", methods=["GET", "POST"])
@access(*perms.PRICE_LIST_ROLES)
def price_list(price_list_id: int):
    """One price-list version: its prices with their sources; edit it while no calculation used
    it."""
    # A save locks the version, as a calculation saved with it does: one of them waits.
    found = get_visible(
        PriceList, price_list_id, lambda user, row: True, lock=request.method == "POST"
    )
    if request.method == "GET":
        log_access("price_list", found.id, action="read")
        return _edit_page(found, {}, None)
    require(perms.can_edit(current_user))
    form_rows = _rows_from_form(request.form)
    shown = [entry for _where, entry in form_rows]
    errors = unstorable_errors(request.form.to_dict())
    if errors:
        return _edit_page(found, errors, shown, 422)
    try:
        ops.save_entries(found, form_rows)
    except ValidationFailed as exc:
        db.session.rollback()
        return _edit_page(found, exc.errors, shown, 422)
    except Conflict as exc:
        db.session.rollback()
        return _edit_page(found, {"entries": [exc.message]}, shown, 409)
    log_access("price_list", found.id, action="update")
    db.session.commit()
    flash(_("Prislistan är sparad."), "success")
    return redirect(url_for(".price_list", price_list_id=found.id))


@bp.post("/price-lists/<int:price_list_id>/copy")
@access(*perms.EDIT_ROLES)
def copy_price_list(price_list_id: int):
    """Copy a version as the next version, to edit it."""
    found = get_visible(PriceList, price_list_id, lambda user, row: True)
    copy = ops.copy_as_new_version(found, by=current_user)
    log_access("price_list", copy.id, action="create")
    db.session.commit()
    flash(_("Kopian %(title)s är skapad; ändra den här.", title=copy.title), "success")
    return redirect(url_for(".price_list", price_list_id=copy.id))


@bp.route("/programmes/<int:programme_id>/costs", methods=["GET", "POST"])
@access(*perms.EDIT_ROLES)
def programme_costs(programme_id: int):
    """A programme's cost per year (budget or per participant) and the funders' shares."""
    programme = get_visible(Programme, programme_id, lambda user, row: True)
    errors: dict = {}
    form: dict = {f"share_{a}": "" for a in PUBLIC_ACTORS}
    if request.method == "POST":
        form = request.form.to_dict()
        errors = unstorable_errors(form)
        if not errors:
            try:
                cost = ops.save_programme_cost(programme, form)
                log_access("programme_cost", cost.id, action="update")
                db.session.commit()
                flash(_("Kostnaden för %(year)s är sparad.", year=cost.year), "success")
                return redirect(url_for(".programme_costs", programme_id=programme.id))
            except ValidationFailed as exc:
                db.session.rollback()
                errors = exc.errors
    else:
        form = {f"share_{a}": str(DEFAULT_SHARES[a]) for a in PUBLIC_ACTORS}
    return render_template(
        "socioeconomics/costs.html",
        programme=programme,
        costs=queries.programme_costs(programme.id),
        actors=[(a, labels.actor(a)) for a in PUBLIC_ACTORS],
        form=form,
        errors=errors,
    ), (422 if errors else 200)


@bp.get("/programmes")
@access(*perms.EDIT_ROLES)
def programmes():
    """The programmes, each with a link to its costs."""
    found = list(db.session.scalars(select(Programme).order_by(Programme.name)))
    return render_template("socioeconomics/programmes.html", programmes=found)
