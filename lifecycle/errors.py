"""Domain errors raised by lifecycle rules, carrying Chinese messages for the clerk."""


class RuleError(Exception):
    """One or more business rules were broken; `errors` maps a field name to its message."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("；".join(errors.values()))
