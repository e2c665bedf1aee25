"""The one exception type for a refused transition; the app maps it to 409."""


class TransitionRefused(Exception):
    """The current state does not allow the requested action."""

    def __init__(self, entity: str, state: str, action: str):
        super().__init__(f"{entity} in state {state!r} does not allow {action!r}")
        self.entity = entity
        self.state = state
        self.action = action
