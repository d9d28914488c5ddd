from django.urls import path

from reviews.views import (
    cadence,
    choices,
    events,
    invitations,
    live,
    reviewtemplates,
    sessions,
    teams,
    workloads,
)

app_name = "reviews"

urlpatterns = [
    path("workloads/", workloads.workload_list, name="workload_list"),
    path("workloads/new/", workloads.workload_create, name="workload_create"),
    path("workloads/<uuid:workload_uuid>/", workloads.workload_detail, name="workload_detail"),
    path("workloads/<uuid:workload_uuid>/edit/", workloads.workload_edit, name="workload_edit"),
    path(
        "workloads/<uuid:workload_uuid>/cadence/", cadence.workload_cadence, name="workload_cadence"
    ),
    path(
        "workloads/<uuid:workload_uuid>/incidents/", cadence.incident_record, name="incident_record"
    ),
    path(
        "workloads/<uuid:workload_uuid>/sessions/new/",
        sessions.session_create,
        name="session_create",
    ),
    # Review templates
    path("teams/<uuid:team_uuid>/templates/", reviewtemplates.template_list, name="template_list"),
    path(
        "templates/<uuid:template_uuid>/",
        reviewtemplates.template_detail,
        name="template_detail",
    ),
    path(
        "templates/<uuid:template_uuid>/delete/",
        reviewtemplates.template_delete,
        name="template_delete",
    ),
    path(
        "sessions/<uuid:session_uuid>/template/",
        reviewtemplates.template_create,
        name="template_create",
    ),
    # A review session: its overview, plan, phases and people
    path("sessions/<uuid:session_uuid>/", sessions.session_detail, name="session_detail"),
    path(
        "sessions/<uuid:session_uuid>/fragments/<str:name>/",
        sessions.session_fragment,
        name="session_fragment",
    ),
    path(
        "sessions/<uuid:session_uuid>/schedule/", sessions.session_schedule, name="session_schedule"
    ),
    path("sessions/<uuid:session_uuid>/phase/", sessions.session_phase, name="session_phase"),
    path("sessions/<uuid:session_uuid>/reopen/", sessions.session_reopen, name="session_reopen"),
    path(
        "sessions/<uuid:session_uuid>/checklist/",
        sessions.session_checklist,
        name="session_checklist",
    ),
    path("sessions/<uuid:session_uuid>/budgets/", sessions.session_budgets, name="session_budgets"),
    path(
        "sessions/<uuid:session_uuid>/participants/<int:participant_id>/role/",
        sessions.participant_role,
        name="participant_role",
    ),
    path(
        "sessions/<uuid:session_uuid>/participants/<int:participant_id>/remove/",
        sessions.participant_remove,
        name="participant_remove",
    ),
    path(
        "sessions/<uuid:session_uuid>/participants/<int:participant_id>/attended/",
        sessions.participant_attended,
        name="participant_attended",
    ),
    path(
        "sessions/<uuid:session_uuid>/invitations/",
        invitations.invitation_create,
        name="invitation_create",
    ),
    path(
        "sessions/<uuid:session_uuid>/invitations/<uuid:invitation_uuid>/resend/",
        invitations.invitation_resend,
        name="invitation_resend",
    ),
    path(
        "sessions/<uuid:session_uuid>/invitations/<uuid:invitation_uuid>/revoke/",
        invitations.invitation_revoke,
        name="invitation_revoke",
    ),
    path("invitations/<str:token>/", invitations.invitation_accept, name="invitation_accept"),
    # The live questionnaire
    path("sessions/<uuid:session_uuid>/live/", live.session_live, name="session_live"),
    path("sessions/<uuid:session_uuid>/events/", events.session_events, name="session_events"),
    path("sessions/<uuid:session_uuid>/focus/", live.focus, name="focus"),
    path("sessions/<uuid:session_uuid>/follow/", live.follow, name="follow"),
    path("sessions/<uuid:session_uuid>/parking/", live.parking_add, name="parking_add"),
    path(
        "sessions/<uuid:session_uuid>/parking/<uuid:item_uuid>/dismiss/",
        live.parking_dismiss,
        name="parking_dismiss",
    ),
    path(
        "sessions/<uuid:session_uuid>/questions/<uuid:question_uuid>/",
        live.question_page,
        name="question",
    ),
    path(
        "sessions/<uuid:session_uuid>/questions/<uuid:question_uuid>/fragments/<str:name>/",
        live.question_fragment,
        name="question_fragment",
    ),
    path(
        "sessions/<uuid:session_uuid>/questions/<uuid:question_uuid>/choices/<str:choice>/",
        live.choice_toggle,
        name="choice_toggle",
    ),
    path(
        "sessions/<uuid:session_uuid>/questions/<uuid:question_uuid>/choices/<str:choice>/applicability/",
        choices.choice_applicability,
        name="choice_applicability",
    ),
    path(
        "sessions/<uuid:session_uuid>/questions/<uuid:question_uuid>/answer/",
        live.answer_form,
        name="answer_form",
    ),
    path(
        "sessions/<uuid:session_uuid>/questions/<uuid:question_uuid>/applicability/",
        live.applicability,
        name="applicability",
    ),
    path(
        "sessions/<uuid:session_uuid>/questions/<uuid:question_uuid>/confirm/",
        live.answer_confirm,
        name="answer_confirm",
    ),
    path(
        "sessions/<uuid:session_uuid>/questions/<uuid:question_uuid>/notes/",
        live.notes_save,
        name="notes_save",
    ),
    path(
        "sessions/<uuid:session_uuid>/questions/<uuid:question_uuid>/history/",
        live.question_history,
        name="question_history",
    ),
    path(
        "sessions/<uuid:session_uuid>/questions/<uuid:question_uuid>/blind/<str:step>/",
        live.blind,
        name="blind",
    ),
    path("teams/", teams.team_list, name="team_list"),
    path("teams/<uuid:team_uuid>/", teams.team_detail, name="team_detail"),
    path("teams/<uuid:team_uuid>/settings/", teams.team_settings, name="team_settings"),
    path(
        "teams/<uuid:team_uuid>/members/<int:member_id>/role/",
        teams.member_role,
        name="member_role",
    ),
    path(
        "teams/<uuid:team_uuid>/members/<int:member_id>/remove/",
        teams.member_remove,
        name="member_remove",
    ),
    path(
        "teams/<uuid:team_uuid>/invitations/<uuid:invitation_uuid>/revoke/",
        teams.team_invitation_revoke,
        name="team_invitation_revoke",
    ),
    path(
        "team-invitations/<str:token>/",
        teams.team_invitation_answer,
        name="team_invitation_answer",
    ),
]
