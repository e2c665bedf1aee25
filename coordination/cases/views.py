"""Case pages: the caseload, one case, coordinators and capacity, pause and resume, the queue."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from coordination.audit.operations import log_access
from coordination.auth.models import User
from coordination.cases import caseload as reads
from coordination.cases import hooks, queries
from coordination.cases import operations as ops
from coordination.cases import permissions as perms
from coordination.cases.models import Case, CaseHistory, CoordinatorAssignment
from coordination.cases.schemas import (
    AssignCoordinatorSchema,
    CapacitySchema,
    PauseSchema,
    QueueEnrolSchema,
    ResumeSchema,
)
from coordination.consent import operations as consent_ops
from coordination.consent.models import INFO_KINDS, Consent
from coordination.consent.schemas import ConsentLoadSchema
from coordination.consent.views import withdrawal_page
from coordination.core.db import search_text
from coordination.core.errors import Conflict, ValidationFailed
from coordination.core.i18n import local_today
from coordination.core.pages import render_committed, render_read
from coordination.core.parsing import is_digits, load_form
from coordination.core.permissions import access, get_visible, require, require_visible
from coordination.extensions import db
from coordination.organisations.calendar import working_calendar
from coordination.organisations.models import OrganisationUnit
from coordination.programmes.models import Programme
from coordination.referrals import permissions as referral_perms
from workflows.case import CaseState, PauseReason, QueueEntry, is_prioritised
from workflows.organisation import MEMBER_AGENCIES, Role
from workflows.personnummer import age_on
from workflows.programme import PriorityRule

bp = Blueprint("cases", __name__, url_prefix="/cases")

STAFF = (Role.REFERRER, Role.CONFERENCE_MEMBER, Role.COORDINATOR, Role.TEAM_LEAD)
MANAGERS = (Role.COORDINATOR, Role.TEAM_LEAD)
# The states a case is ended from on the exit form (the exits package's rule: the manager).
EXIT_FROM = (CaseState.ENROLLED, CaseState.ACTIVE, CaseState.PAUSED)


def load_visible(case_id: int, *, lock: bool = False, read: str | None = None) -> Case:
    """Load a case the current user may see, or answer 404 (and log the refusal).

    `read` logs the read of the case (or of its plan, "action_plan") in the access log.
    """
    return get_visible(
        Case,
        case_id,
        perms.can_view,
        kind="case",
        glass=("case", case_id),
        lock=lock,
        read=read,
        person=lambda case: case.person_id,
    )


# --- the caseload -----------------------------------------------------------------------------


# The caseload's filter and sort as a link carries them; the search text never rides in a link
# (it may be a name): it is posted and kept, with the rest, in the user's session.
FILTER_KEYS = ("state", "coordinator_id", "programme_id", "warnings", "sort", "dir")
SAVED_FILTER = "caseload_filter"


def _short(value: str) -> bool:
    """Tell whether a filter value is worth keeping: given, and no longer than any valid one (the
    session is a cookie; a long value would crowd out the sign-in)."""
    return 0 < len(value) <= 40


def _saved_filter() -> dict:
    """Return the user's last caseload filter (the session's), with a link's filter over it."""
    saved = session.get(SAVED_FILTER)
    params = dict(saved) if isinstance(saved, dict) else {}
    if any(key in request.args for key in FILTER_KEYS):
        params = {"q": params.get("q", "")}
        params.update({k: v for k in FILTER_KEYS if _short(v := request.args.get(k, ""))})
        session[SAVED_FILTER] = params
    return {k: str(v) for k, v in params.items() if isinstance(v, str | int) and v != ""}


def _caseload_filter(params: dict, is_lead: bool) -> reads.CaseloadFilter:
    """Read the caseload's filter from its parameters; what cannot be read is left out."""
    sort = params.get("sort") if params.get("sort") in reads.SORTS else "warnings"
    direction = params.get("dir")
    descending = (
        direction == "desc" if direction in ("asc", "desc") else sort in reads.DESCENDING_FIRST
    )
    state = params.get("state") or None

    def number(name: str) -> int | None:
        value = params.get(name, "")
        return int(value) if is_digits(value) and len(value) < 10 else None

    return reads.CaseloadFilter(
        state=state if state in {s.value for s in CaseState} else None,
        coordinator_id=number("coordinator_id") if is_lead else None,
        programme_id=number("programme_id"),
        warnings_only=params.get("warnings") == "1",
        sort=sort,
        descending=descending,
        search=search_text(params.get("q")),
    )


@bp.post("/")
@access(*MANAGERS)
def search():
    """Keep the caseload's filter and search posted from its form, then show the caseload."""
    form = request.form
    params = {k: v for k in FILTER_KEYS if _short(v := form.get(k, "").strip())}
    if search_text(form.get("q")):
        params["q"] = search_text(form.get("q"))
    session[SAVED_FILTER] = params
    return redirect(url_for(".index"))


@bp.get("/")
@access(*MANAGERS)
def index():
    """The caseload: a coordinator's own cases, every case for a team lead; a page at a time.

    The filter, sort and search last used come back (the session keeps them) until reset."""
    if request.args.get("reset"):
        session.pop(SAVED_FILTER, None)
        return redirect(url_for(".index"))
    is_lead = perms.is_team_lead(current_user)
    params = _saved_filter()
    flt = _caseload_filter(params, is_lead)
    args = request.args
    after = reads.parse_cursor(flt.sort, args.get("after"), args.get("after_id"))
    before = (
        None if after else reads.parse_cursor(flt.sort, args.get("before"), args.get("before_id"))
    )
    page = reads.caseload_page(
        current_user,
        flt,
        today=local_today(),
        calendar=working_calendar(),
        after=after,
        before=before,
    )
    for row in page.rows:
        log_access("case", row.case.id, action="list", person_id=row.case.person_id)
    programmes = db.session.scalars(select(Programme).order_by(Programme.name)).all()
    kept = {k: v for k, v in params.items() if k in FILTER_KEYS}
    return render_committed(
        "cases/caseload.html",
        rows=page.rows,
        page=page,
        next_url=_page_url(kept, "after", page.next),
        previous_url=_page_url(kept, "before", page.previous),
        flt=flt,
        is_lead=is_lead,
        states=[s.value for s in CaseState if s is not CaseState.CLOSED],
        coordinators=queries.coordinators() if is_lead else [],
        programmes=programmes,
        args=kept,
        filtered=bool(params),
        loads=_own_load() if not is_lead else None,
    )


def _page_url(args: dict, side: str, cursor: reads.Cursor | None) -> str | None:
    """Return the link to the page on one side of a row (None: there is none)."""
    if cursor is None:
        return None
    value, case_id = reads.cursor_text(cursor)
    return url_for(".index", **args, **{side: value, f"{side}_id": case_id})


def _own_load():
    if not queries.is_coordinator(current_user):
        return None
    profile = queries.profile_for(current_user.id)
    return {
        "load": queries.load_of([current_user.id])[current_user.id],
        "capacity": profile.capacity,
    }


# --- one case -----------------------------------------------------------------------------------


def _detail_context(case: Case, *, errors: dict | None = None, form=None) -> dict:
    today = local_today()
    calendar = working_calendar()
    row = reads.rows_for([case.id], current_user, today=today, calendar=calendar)[0]

    can_manage = perms.can_manage(current_user, case)
    can_assign = perms.can_assign(current_user, case)
    options: list[tuple[int, str]] = []
    suggestion = None
    users: dict[int, queries.CoordinatorName] = {}
    if can_assign:
        users = {u.id: u for u in queries.coordinators()}
        every_load = queries.coordinator_loads()
        options = queries.coordinator_options(
            list(users.values()), every_load, exclude=case.coordinator_id
        )
        suggestion = queries.suggest_coordinator(case, loads=every_load)
    return dict(
        case=case,
        row=row,
        person=case.person,
        show_identity=perms.can_see_identity(current_user, case),
        show_contact=perms.can_see_contact_details(current_user, case),
        can_manage=can_manage,
        can_assign=can_assign,
        can_pause=can_manage and case.state in (CaseState.ENROLLED, CaseState.ACTIVE),
        can_resume=can_manage and case.state == CaseState.PAUSED,
        can_exit=can_manage and case.state in EXIT_FROM,
        coordinator_options=options,
        suggestion=suggestion,
        suggested_user=users[suggestion.coordinator_id] if suggestion else None,
        pause_reasons=[r.value for r in PauseReason],
        plan=hooks.latest_version(case.id),
        plan_in_force=hooks.signed_version(case.id),
        consents=consent_ops.consents_of(case.person_id) if can_manage else [],
        agencies=list(MEMBER_AGENCIES),
        info_kinds=INFO_KINDS,
        today=today,
        errors=errors or {},
        form=form if form is not None else request.form,
    )


def _render_detail(case: Case, errors: dict, status: int = 422):
    """The case page again after a refused change (rolled back), its read logged."""
    db.session.rollback()
    case = _case_for_page(case.id)
    return render_read(
        "cases/detail.html",
        ("case", case.id, case.person_id),
        status,
        **_detail_context(case, errors=errors),
    )


@bp.get("/<int:case_id>")
@access(*STAFF)
def detail(case_id: int):
    """One case: person, state, coordinator, plan, meetings, consent and history."""
    load_visible(case_id, read="case")
    return render_committed("cases/detail.html", **_detail_context(_case_for_page(case_id)))


def _case_for_page(case_id: int) -> Case:
    """Load what the case page shows of the case (its history and assignments with their
    people) in a fixed number of queries, into the session's copy of the case."""
    return db.session.scalars(
        select(Case)
        .where(Case.id == case_id)
        .options(
            # The people are shown by name: their memberships are not read with them.
            selectinload(Case.history).joinedload(CaseHistory.by).lazyload(User.memberships),
            selectinload(Case.assignments)
            .joinedload(CoordinatorAssignment.coordinator)
            .lazyload(User.memberships),
        )
        .execution_options(populate_existing=True)
    ).one()


@bp.post("/<int:case_id>/coordinator")
@access(Role.TEAM_LEAD)
def assign(case_id: int):
    """Assign or reassign the case's coordinator (a change, or above capacity, needs a reason)."""
    case = load_visible(case_id, lock=True)
    require(perms.can_assign(current_user, case))
    try:
        data = load_form(AssignCoordinatorSchema(), request.form)
    except ValidationFailed as exc:
        return _render_detail(case, exc.errors)
    coordinator = db.session.get(User, data["coordinator_id"]) if data["coordinator_id"] else None
    try:
        ops.assign_coordinator(
            case,
            coordinator,
            reason=data["reason"],
            over_capacity_reason=data["over_capacity_reason"],
            by=current_user,
        )
    except (ValidationFailed, Conflict) as exc:
        return _render_detail(case, exc.errors or {"_general": [exc.message]}, exc.status)
    log_access("case", case.id, action="update", person_id=case.person_id)
    db.session.commit()
    flash(_("Koordinatorn är utsedd."), "success")
    return redirect(url_for(".detail", case_id=case.id))


# The pause form's reason is `pause_reason` (the coordinator form on the page has a reason).
PAUSE_FORM = {"reason": "pause_reason"}


def _pause_fields(errors: dict) -> dict:
    """Name the operation's errors by the pause form's fields."""
    return {PAUSE_FORM.get(key, key): value for key, value in errors.items()}


@bp.post("/<int:case_id>/pause")
@access(*MANAGERS)
def pause(case_id: int):
    """Pause the case, with a reason and the expected return."""
    case = load_visible(case_id, lock=True)
    require(perms.can_manage(current_user, case))
    try:
        data = load_form(
            PauseSchema(),
            request.form,
            lambda d: ops.pause_errors(d, local_today()),
            names=PAUSE_FORM,
        )
        ops.pause(case, by=current_user, **data)
    except ValidationFailed as exc:
        return _render_detail(case, _pause_fields(exc.errors))
    log_access("case", case.id, action="update", person_id=case.person_id)
    db.session.commit()
    flash(_("Uppehållet är registrerat."), "success")
    return redirect(url_for(".detail", case_id=case.id))


@bp.post("/<int:case_id>/resume")
@access(*MANAGERS)
def resume(case_id: int):
    """End the pause."""
    case = load_visible(case_id, lock=True)
    require(perms.can_manage(current_user, case))
    try:
        data = load_form(ResumeSchema(), request.form, names={"note": "resume_note"})
    except ValidationFailed as exc:
        return _render_detail(case, exc.errors)
    ops.resume(case, by=current_user, note=data["note"])
    log_access("case", case.id, action="update", person_id=case.person_id)
    db.session.commit()
    flash(_("Deltagandet är återupptaget."), "success")
    return redirect(url_for(".detail", case_id=case.id))


@bp.post("/<int:case_id>/consent")
@access(*MANAGERS)
def record_consent(case_id: int):
    """Record a new consent for the participant."""
    case = load_visible(case_id)
    require(perms.can_manage(current_user, case))
    try:
        data = load_form(ConsentLoadSchema(), request.form)
        consent = consent_ops.record_consent(
            person_id=case.person_id,
            referral_id=case.referral_id,
            data=data,
            by=current_user,
            today=local_today(),
        )
    except ValidationFailed as exc:
        return _render_detail(case, exc.errors)
    log_access("consent", consent.id, action="create", person_id=case.person_id)
    db.session.commit()
    flash(_("Samtycket är registrerat."), "success")
    return redirect(url_for(".detail", case_id=case.id) + "#heading-consent")


@bp.route("/<int:case_id>/consents/<int:consent_id>/withdraw", methods=["GET", "POST"])
@access(*MANAGERS)
def withdraw_consent(case_id: int, consent_id: int):
    """Withdraw a consent as the participant asked, after a confirmation page that asks why; it
    stops covering anything at once. GET only shows the page."""
    case = load_visible(case_id)
    require(perms.can_manage(current_user, case))
    consent = db.session.get(Consent, consent_id)
    require_visible(
        consent is not None and consent.person_id == case.person_id,
        subject=("consent", consent_id, case.person_id),
    )
    assert consent is not None
    back = url_for(".detail", case_id=case.id) + "#heading-consent"

    def done() -> str:  # a manager who no longer sees the case goes to the list
        return back if perms.can_view(current_user, case) else url_for(".index")

    return withdrawal_page(
        consent,
        action=url_for(".withdraw_consent", case_id=case.id, consent_id=consent.id),
        back=back,
        done=done,
    )


# --- coordinators and capacity ------------------------------------------------------------------


@bp.route("/coordinators", methods=["GET", "POST"])
@access(Role.TEAM_LEAD)
def coordinators():
    """Every coordinator's team, capacity and weighted load; change capacity and team."""
    errors: dict = {}
    if request.method == "POST":
        user = db.session.get(User, request.form.get("coordinator_id", type=int) or 0)
        try:
            data = load_form(CapacitySchema(), request.form)
            ops.set_profile(user, by=current_user, **data)
            log_access("coordinator_profile", user.id, action="update")
            db.session.commit()
            flash(_("Kapaciteten för %(name)s är sparad.", name=user.name), "success")
            return redirect(url_for(".coordinators"))
        except ValidationFailed as exc:
            db.session.rollback()
            errors = exc.errors
    users = {u.id: u for u in queries.coordinators()}
    loads = queries.coordinator_loads()
    units = db.session.scalars(
        select(OrganisationUnit)
        .where(OrganisationUnit.active.is_(True))
        .order_by(OrganisationUnit.name)
    ).all()
    return render_committed(
        "cases/coordinators.html",
        422 if errors else 200,
        rows=[(users[c.coordinator_id], c) for c in loads],
        units={u.id: u for u in units},
        unit_list=units,
        errors=errors,
        form=request.form,
        failed_id=request.form.get("coordinator_id", type=int) if errors else None,
    )


# --- the waiting queue --------------------------------------------------------------------------


def _queues(loads: list) -> list[dict]:
    programmes = db.session.scalars(
        select(Programme).where(Programme.active.is_(True)).order_by(Programme.name)
    )
    queues = []
    for programme in programmes:
        waiting = queries.queue(programme.id)
        rows = []
        for place, case in enumerate(waiting, start=1):
            referral = case.referral
            birth = case.person.birth_date
            on = referral.referral_date or case.created_at.date()
            rows.append(
                {
                    "place": place,
                    "case": case,
                    "referral": referral,
                    "age": age_on(birth, on),
                    "prioritised": programme.priority_rule
                    == PriorityRule.AGE_25_45_CHILDREN_FIRST.value
                    and is_prioritised(_entry(case, birth, on), programme.priority_age_band),
                    "show_identity": referral_perms.can_see_identity(current_user, referral),
                }
            )
        occupied = queries.occupied_places(programme.id)
        suggested = queries.suggest_coordinator(waiting[0], loads=loads) if waiting else None
        queues.append(
            {
                "programme": programme,
                "rows": rows,
                "occupied": occupied,
                "free": max(programme.capacity - occupied, 0),
                "suggested_id": suggested.coordinator_id if suggested else None,
            }
        )
    return queues


def _entry(case: Case, birth, on):
    return QueueEntry(
        case_id=case.id,
        birth_date=birth,
        referral_date=on,
        children_in_household=case.referral.children_in_household,
        queued_at=case.queued_at or case.created_at,
    )


@bp.get("/queue")
@access(Role.TEAM_LEAD)
def queue():
    """The waiting queue of each programme, in the order of its priority rule."""
    return _render_queue()


def _render_queue(
    errors: dict | None = None, failed_programme_id: int | None = None, status: int = 422
):
    """The queue page; after a refused enrolment with its errors and what was chosen."""
    loads = queries.coordinator_loads()
    queues = _queues(loads)
    for entry in queues:
        for row in entry["rows"]:
            log_access("case", row["case"].id, action="list", person_id=row["case"].person_id)
    return render_committed(
        "cases/queue.html",
        status if errors else 200,
        queues=queues,
        coordinator_options=queries.coordinator_options(queries.coordinators(), loads),
        errors=errors or {},
        form=request.form if errors else {},
        failed_programme_id=failed_programme_id,
    )


@bp.post("/<int:case_id>/enrol")
@access(Role.TEAM_LEAD)
def enrol(case_id: int):
    """Give the first person in the queue a free place, with a coordinator."""
    waiting = CaseState.WAITING.value
    get_visible(Case, case_id, lambda user, case: case.state == waiting, kind="case")
    case = ops.get_case(case_id, lock=True)
    try:
        data = load_form(QueueEnrolSchema(), request.form)
        coordinator_id = data["coordinator_id"]
        coordinator = db.session.get(User, coordinator_id) if coordinator_id else None
        ops.enrol_from_queue(
            case,
            coordinator=coordinator,
            by=current_user,
            reason=data["over_capacity_reason"],
        )
    except (ValidationFailed, Conflict) as exc:
        db.session.rollback()
        return _render_queue(
            exc.errors or {"_general": [exc.message]}, case.programme_id, exc.status
        )
    log_access("case", case.id, action="update", person_id=case.person_id)
    db.session.commit()
    flash(_("Deltagande %(id)s är inskrivet.", id=case.id), "success")
    return redirect(url_for(".queue"))
