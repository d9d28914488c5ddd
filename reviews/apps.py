from django.apps import AppConfig


class ReviewsConfig(AppConfig):
    name = "reviews"
    verbose_name = "Reviews"

    def ready(self) -> None:
        from reviews import events, live_fragments

        # Live changes travel with their HTML, rendered once (reviews.live_fragments).
        events.set_publisher(live_fragments.publish)
