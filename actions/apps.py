from django.apps import AppConfig


class ActionsConfig(AppConfig):
    name = "actions"
    verbose_name = "Findings and actions"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from actions.timezones import remember_on_sign_in

        # Only session bookkeeping: the person's time zone, read once per sign-in.
        user_logged_in.connect(remember_on_sign_in, dispatch_uid="actions.time_zone")
        from actions.findings import findings_on_phase
        from reviews.sessions import PHASE_HOOKS

        if findings_on_phase not in PHASE_HOOKS:
            PHASE_HOOKS.append(findings_on_phase)
        from actions.lightreview import open_actions_of
        from reviews.lightreview import OPEN_ACTION_SOURCES

        if open_actions_of not in OPEN_ACTION_SOURCES:
            OPEN_ACTION_SOURCES.append(open_actions_of)
        # The bell (and the email, as each person chose) for what reviews tells people.
        from actions import messages, notice_messages, notices
        from reviews.notices import NOTICE_HOOKS

        messages.BUILDERS.update(notice_messages.BUILDERS)
        if notices.on_notice not in NOTICE_HOOKS:
            NOTICE_HOOKS.append(notices.on_notice)

        from actions.analysis_live import render_finding
        from reviews.eventkinds import EventKind
        from reviews.live_fragments import register_renderer

        # The analysis page's changes travel with their HTML, as the live page's do.
        register_renderer(EventKind.FINDING, render_finding)
