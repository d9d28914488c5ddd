app_name = "actions"

urlpatterns: list = [
    # --- Analysis, action items, the plan and its PDF, milestones, dashboards ----------------
    # --- Cadence: notifications, calendar feeds, follow-ups -----------------------------------
]
