"""Errors of the identity capability. Messages never tell which half of a credential was wrong."""

from core.errors import Forbidden, NotAuthenticated, Throttled


class BadCredentials(NotAuthenticated):
    code = "bad_credentials"

    def __init__(self, detail: str = "用户名、密码或验证码不正确") -> None:
        super().__init__(detail)


#: a staff member's wrong sign-in: the form's third box is the 动态口令
STAFF_BAD_CREDENTIALS = "用户名、密码或动态口令不正确"


class AccountDisabled(Forbidden):
    """The right credentials of an account an administrator disabled: said only to whoever
    knows the password, so it tells a guesser nothing."""

    code = "account_disabled"

    def __init__(self) -> None:
        super().__init__("此账号已被停用，请联系本单位的系统管理员")


class LockedOut(Throttled):
    code = "locked_out"

    def __init__(self, retry_after: int) -> None:
        minutes = max(1, (retry_after + 59) // 60)
        super().__init__(f"尝试次数过多，请 {minutes} 分钟后再试", retry_after=retry_after)


class ResendTooSoon(Throttled):
    """Another sign-in code asked for before the last one may be resent (the page counts down)."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            f"刚刚已发送过验证码，请 {retry_after} 秒后再重新获取", retry_after=retry_after
        )


class InsufficientScope(Forbidden):
    """A token whose scopes do not include what the route needs (RFC 6750 §3.1)."""

    code = "insufficient_scope"

    def __init__(self, needed: str | tuple[str, ...]) -> None:
        self.needed = (needed,) if isinstance(needed, str) else needed
        super().__init__(f"此令牌未获授权范围 {' 或 '.join(self.needed)}，请在授权时申请该范围")
