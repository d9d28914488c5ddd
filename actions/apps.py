from django.apps import AppConfig


class ActionsConfig(AppConfig):
    name = "actions"
    verbose_name = "Findings and actions"

    def ready(self) -> None:
        from actions.findings import findings_on_phase
        from reviews.sessions import PHASE_HOOKS

        if findings_on_phase not in PHASE_HOOKS:
            PHASE_HOOKS.append(findings_on_phase)
