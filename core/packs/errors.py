"""The one error a tenant pack refuses with: every problem found, nothing applied."""

from __future__ import annotations

from core.errors import GovhallError

__all__ = ["PackError"]


class PackError(GovhallError):
    """Every problem found, each naming its file and field; nothing was applied."""

    code = "invalid_pack"
    status = 422

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems
