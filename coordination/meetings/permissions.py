"""Who may see and change meetings, attendance, tasks, groups, escalations (../shared/DOMAIN.md §8,
§10)."""

from __future__ import annotations

from collections.abc import Iterable

from coordination.cases import permissions as case_perms
from coordination.cases.models import Case
from coordination.consent.operations import agency_may_see
from coordination.core.i18n import local_today
from coordination.core.permissions import get_visible
from coordination.meetings.models import GroupActivity, Meeting, MeetingAttendee
from workflows.meeting import MeetingKind
from workflows.organisation import Role


def is_team_lead(user) -> bool:
    """The team lead sees and may act on every case's meetings."""
    return user.has_any_role([Role.TEAM_LEAD])


def is_coordinator_of(user, case: Case | None) -> bool:
    """Tell whether the user is the case's active coordinator."""
    assignment = case.active_assignment if case is not None else None
    return assignment is not None and assignment.coordinator_id == user.id


def connected(user, case: Case, known: case_perms.Known | None = None) -> bool:
    """The case's parties, as far as they may see the case: its coordinator, the team leads, and
    within a valid consent the referrer and the contacts of the plan's actions."""
    return case_perms.can_view(user, case, known=known)


def is_attendee(user, meeting: Meeting) -> bool:
    """Tell whether the user is invited to the meeting."""
    return any(a.user_id == user.id for a in meeting.attendees)


def can_view_case(user, case: Case) -> bool:
    """The case's meetings page: its parties."""
    return connected(user, case)


def can_book(user, case: Case, kind: str | None = None) -> bool:
    """The coordinator and the team lead book; any party of the case may call a SamSIP meeting."""
    if is_coordinator_of(user, case) or is_team_lead(user):
        return True
    return kind == MeetingKind.SAMSIP.value and connected(user, case)


def can_view_group(user, group: GroupActivity) -> bool:
    """Team leads, the group's leader and the coordinators of its participants."""
    if is_team_lead(user) or group.leader_id == user.id:
        return True
    return any(is_coordinator_of(user, e.case) for e in group.current_enrolments)


def can_manage_groups(user) -> bool:
    """Team leads and coordinators set up group activities."""
    return user.has_any_role([Role.TEAM_LEAD, Role.COORDINATOR])


def can_enrol(user, group: GroupActivity, case: Case) -> bool:
    """The team lead, the group's leader or the case's coordinator enrols a case."""
    return is_team_lead(user) or group.leader_id == user.id or is_coordinator_of(user, case)


def invitee_within_consent(user, meeting: Meeting, known: case_perms.Known | None = None) -> bool:
    """An invitee (or the organiser) of a case's meeting sees it while a valid consent covers the
    agency they come to it for; the förbund's own staff need no consent."""
    row = attendee_row(user, meeting)
    if row is None and meeting.organiser_id != user.id:
        return False
    agencies = {row.agency_kind} if row is not None and row.agency_kind else user.agency_kinds
    today = local_today()
    consents = known.consents if known is not None else None
    return any(
        agency_may_see(meeting.case.person_id, agency, today, known=consents) for agency in agencies
    )


def can_view(user, meeting: Meeting, known: case_perms.Known | None = None) -> bool:
    """A meeting: the case's parties and, within the consent, its invitees; a group session: its
    invitees and those who see the group. (`known`: see `viewable`.)"""
    if meeting.case is not None:
        return connected(user, meeting.case, known) or invitee_within_consent(user, meeting, known)
    if is_attendee(user, meeting) or meeting.organiser_id == user.id:
        return True
    return meeting.group is not None and can_view_group(user, meeting.group)


def viewable(user, meetings: Iterable[Meeting]) -> list[Meeting]:
    """Return the meetings of a list that the user may see (can_view of each), the consents of
    their people and the user's plan contacts read once for them all; the meetings come with
    their cases, referrals, attendees and groups loaded."""
    meetings = list(meetings)
    # Whom known_for leaves out (the team leads, a case's own coordinator) see the case anyway.
    known = case_perms.known_for(user, [m.case for m in meetings if m.case is not None])
    return [m for m in meetings if can_view(user, m, known)]


def can_change(user, meeting: Meeting) -> bool:
    """The organiser, the case's coordinator or the team lead change and cancel it."""
    if meeting.organiser_id == user.id or is_team_lead(user):
        return True
    if meeting.case is not None:
        return is_coordinator_of(user, meeting.case)
    return meeting.group is not None and meeting.group.leader_id == user.id


def can_record_attendance(user, meeting: Meeting) -> bool:
    """The case's coordinator, the organiser, the group's leader or the team lead."""
    return can_change(user, meeting)


def attendee_row(user, meeting: Meeting) -> MeetingAttendee | None:
    """Return the user's invitation to the meeting, if any."""
    return next((a for a in meeting.attendees if a.user_id == user.id), None)


def is_referring_referrer(user, case: Case) -> bool:
    """Tell whether the user wrote the referral the case came from."""
    return case.referral is not None and case.referral.referrer_id == user.id


def can_decide(user, case: Case) -> bool:
    """The escalation decision (continue or discharge, §8): the team lead, the case's coordinator
    or the referring referrer, the referrer only while a valid consent lets them see the case.

    Other parties who see the case (the contacts of the plan's actions) read the escalation but do
    not decide it. The page, its form and the API all ask this one function.
    """
    if user is None or not user.is_authenticated:
        return False
    if is_team_lead(user) or is_coordinator_of(user, case):
        return True
    return is_referring_referrer(user, case) and connected(user, case)


def can_see_identity(user, case: Case) -> bool:
    """A protected person's name is shown to the assigned coordinator only."""
    return not case.person.protected_identity or is_coordinator_of(user, case)


def participant_label(user, case: Case) -> str:
    """Return the participant's name, or their code when the identity is protected."""
    person = case.person
    if can_see_identity(user, case):
        return f"{person.first_name} {person.last_name}"
    return person.code


# --- loading what the current user may see --------------------------------------------------


def load_case(case_id: int, *, read: bool = False) -> Case:
    """Load a case whose meetings the current user may see, or answer 404."""
    return get_visible(
        Case,
        case_id,
        can_view_case,
        kind="case",
        glass=("case", case_id),
        read="case" if read else None,
        person=lambda case: case.person_id,
    )


def load_group(group_id: int, *, read: bool = False) -> GroupActivity:
    """Load a group activity the current user may see, or answer 404."""
    return get_visible(
        GroupActivity, group_id, can_view_group, kind="group", read="group" if read else None
    )
