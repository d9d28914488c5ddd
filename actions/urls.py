from django.urls import path

from actions.views import (
    analysis,
    aws,
    calendar,
    dashboards,
    documents,
    followups,
    items,
    lensupgrade,
    milestones,
    notifications,
    plan,
    plantable,
    transfer,
)

app_name = "actions"

urlpatterns: list = [
    # --- Analysis, action items, the plan and its PDF, milestones, dashboards ----------------
    path("dashboard/", dashboards.dashboard, name="dashboard"),
    # --- The AWS Well-Architected Tool -----------------------------------------------------
    path("sessions/<uuid:session_uuid>/aws/", aws.session_aws_export, name="aws_export"),
    path("workloads/import/aws/", aws.aws_import_upload, name="aws_import"),
    # --- Export and backup: a whole workload, and action items for a tracker ----------------
    path(
        "workloads/<uuid:workload_uuid>/export/",
        transfer.workload_download,
        name="workload_export",
    ),
    path("workloads/import/", transfer.workload_upload, name="workload_import"),
    path(
        "sessions/<uuid:session_uuid>/plan/tracker.csv",
        transfer.tracker_download,
        {"fmt": "csv"},
        name="tracker_csv",
    ),
    path(
        "sessions/<uuid:session_uuid>/plan/tracker.json",
        transfer.tracker_download,
        {"fmt": "json"},
        name="tracker_json",
    ),
    path("actions/mine/", dashboards.my_actions, name="my_actions"),
    path("cost/", dashboards.cost_findings, name="cost_findings"),
    path("sessions/<uuid:session_uuid>/analysis/", analysis.analysis, name="analysis"),
    path(
        "sessions/<uuid:session_uuid>/analysis/fragments/<str:name>/",
        analysis.analysis_fragment,
        name="analysis_fragment",
    ),
    path(
        "sessions/<uuid:session_uuid>/lenses/<uuid:lens_uuid>/upgrade/",
        lensupgrade.lens_upgrade,
        name="lens_upgrade",
    ),
    path(
        "sessions/<uuid:session_uuid>/analysis/sync/",
        analysis.findings_sync,
        name="findings_sync",
    ),
    path("findings/<uuid:finding_uuid>/rate/", analysis.finding_rate, name="finding_rate"),
    path("findings/<uuid:finding_uuid>/move/", analysis.finding_move, name="finding_move"),
    path("findings/<uuid:finding_uuid>/accept/", analysis.finding_accept, name="finding_accept"),
    path("findings/<uuid:finding_uuid>/revoke/", analysis.finding_revoke, name="finding_revoke"),
    path(
        "findings/<uuid:finding_uuid>/actions/",
        items.action_from_practice,
        name="action_from_practice",
    ),
    path("parking/<uuid:item_uuid>/action/", analysis.parking_to_action, name="parking_to_action"),
    path("parking/<uuid:item_uuid>/dismiss/", analysis.parking_dismiss, name="parking_dismiss"),
    path("sessions/<uuid:session_uuid>/actions/new/", items.action_create, name="action_create"),
    path("actions/<uuid:action_uuid>/", items.action_detail, name="action_detail"),
    path("actions/<uuid:action_uuid>/edit/", items.action_edit, name="action_edit"),
    path("actions/<uuid:action_uuid>/reassign/", items.action_reassign, name="action_reassign"),
    path("actions/<uuid:action_uuid>/comments/", items.action_comment, name="action_comment"),
    path("actions/<uuid:action_uuid>/progress/", items.action_progress, name="action_progress"),
    path("sessions/<uuid:session_uuid>/plan/", plan.plan, name="plan"),
    path("sessions/<uuid:session_uuid>/plan/publish/", plan.plan_publish, name="plan_publish"),
    # The plan as an editable table: a row, several actions at once, the defaults.
    path("actions/<uuid:action_uuid>/plan-row/", plantable.plan_row, name="plan_row"),
    path("sessions/<uuid:session_uuid>/plan/bulk/", plantable.plan_bulk, name="plan_bulk"),
    path(
        "sessions/<uuid:session_uuid>/plan/defaults/", plantable.plan_defaults, name="plan_defaults"
    ),
    # The action-plan PDF: its versions, the download and the retry of a failed one.
    path(
        "sessions/<uuid:session_uuid>/plan/documents/",
        documents.plan_documents,
        name="plan_documents",
    ),
    path(
        "sessions/<uuid:session_uuid>/plan/documents/<uuid:document_uuid>/download/",
        documents.plan_document_download,
        name="plan_document_download",
    ),
    path(
        "sessions/<uuid:session_uuid>/plan/documents/<uuid:document_uuid>/retry/",
        documents.plan_document_retry,
        name="plan_document_retry",
    ),
    path("workloads/<uuid:workload_uuid>/panel/", milestones.workload_panel, name="workload_panel"),
    path(
        "workloads/<uuid:workload_uuid>/milestones/new/",
        milestones.milestone_create,
        name="milestone_create",
    ),
    path(
        "workloads/<uuid:workload_uuid>/milestones/compare/",
        milestones.milestone_compare,
        name="milestone_compare",
    ),
    # --- Cadence: notifications, calendar feeds, follow-ups -----------------------------------
    path("notifications/", notifications.notification_list, name="notifications"),
    path(
        "notifications/<uuid:notification_uuid>/open/",
        notifications.notification_open,
        name="notification_open",
    ),
    path(
        "notifications/<uuid:notification_uuid>/read/",
        notifications.notification_read,
        name="notification_read",
    ),
    path(
        "notifications/read/", notifications.notifications_read_all, name="notifications_read_all"
    ),
    path("preferences/time-zone/", notifications.time_zone_set, name="time_zone_set"),
    path(
        "notifications/preferences/",
        notifications.notification_preferences,
        name="notification_preferences",
    ),
    path("calendar/<str:token>.ics", calendar.calendar_feed, name="calendar_feed"),
    path("calendar/reset/", calendar.calendar_reset, name="calendar_reset"),
    path(
        "sessions/<uuid:session_uuid>/follow-up/",
        followups.session_followup,
        name="session_followup",
    ),
    path("follow-ups/<uuid:followup_uuid>/", followups.followup, name="followup"),
    path(
        "follow-ups/<uuid:followup_uuid>/actions/<uuid:action_uuid>/",
        followups.followup_action,
        name="followup_action",
    ),
    path(
        "follow-ups/<uuid:followup_uuid>/finish/", followups.followup_finish, name="followup_finish"
    ),
]
