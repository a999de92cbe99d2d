"""Domain errors raised by lifecycle rules, carrying Chinese messages for the clerk."""


class RuleError(Exception):
    """One or more business rules were broken; `errors` maps a field name to its message."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("；".join(errors.values()))


class TransitionError(Exception):
    """A case transition was refused; the message says why, in Chinese."""


class ConflictError(Exception):
    """Another clerk changed the record first (optimistic locking on Case.version)."""

    def __init__(self, message: str = "该记录已被他人修改，请刷新后重试") -> None:
        super().__init__(message)
