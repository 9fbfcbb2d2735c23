"""Every hook is documented in the plugin guide and exercised by a test of its own."""

from __future__ import annotations

from pathlib import Path

from core.plugins import hookspecs

ROOT = Path(__file__).resolve().parents[2]
HOOKS = sorted(
    name
    for name in dir(hookspecs)
    if callable(getattr(hookspecs, name)) and hasattr(getattr(hookspecs, name), "govhall_spec")
)


def test_there_are_hooks_to_check() -> None:
    assert "register_sms_vendors" in HOOKS and "extra_template_vars" in HOOKS


def test_every_hook_is_documented_in_the_plugin_guide() -> None:
    guide = (ROOT / "docs" / "plugins.md").read_text(encoding="utf-8")
    missing = [hook for hook in HOOKS if f"### {hook}" not in guide]
    assert missing == []


def test_every_hook_has_a_docstring() -> None:
    assert [h for h in HOOKS if not (getattr(hookspecs, h).__doc__ or "").strip()] == []


def test_every_hook_is_implemented_in_a_test() -> None:
    """By a plugin written in a test, or by a shipped plugin that a test exercises by name."""
    sources = "\n".join(
        p.read_text(encoding="utf-8")
        for p in (ROOT / "tests").rglob("*.py")
        if p.name != "test_docs.py"
    )
    shipped = {
        p.parent.name: p.read_text(encoding="utf-8")
        for p in (ROOT / "plugins").glob("*/__init__.py")
    }
    missing = [
        hook
        for hook in HOOKS
        if f"def {hook}(" not in sources
        and not any(
            f"def {hook}(" in code and f'"{name}"' in sources for name, code in shipped.items()
        )
    ]
    assert missing == []
