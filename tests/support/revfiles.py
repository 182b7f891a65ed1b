"""Revision files exactly as ``alembic revision`` / ``alembic merge`` write them.

``render_revision`` renders alembic's own ``script.py.mako`` templates through
mako with the variables ``ScriptDirectory.generate_revision`` passes, so the
bytes match what alembic writes for the same id, parents and date (a test in
tests/test_support.py holds this against the real ``alembic revision``).

Styles:

* ``"typed"``   -- alembic 1.20's ``generic`` template (annotated assignments);
* ``"generic"`` -- the classic untyped template of older alembic releases
  (``down_revision = 'x'``), still found in most long-lived repositories;
* ``"custom"``  -- hand-formatted: double quotes, PEP 604 annotations, merge
  parents as a tuple wrapped over several lines with a trailing comma,
  ``branch_labels`` / ``depends_on`` as lists, comments after values. Not
  something alembic writes; it exists to stress a static reader.
"""

from __future__ import annotations

import datetime
import functools
import re
from typing import Sequence, Union

RevRef = Union[str, Sequence[str], None]

STYLES = ("typed", "generic", "custom")
DEFAULT_CREATE_DATE = "2024-01-01 00:00:00.000000"
DEFAULT_FILE_TEMPLATE = "%%(rev)s_%%(slug)s"

# alembic 1.20 alembic/templates/generic/script.py.mako, byte for byte.
TYPED_TEMPLATE = '''\
"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
Create Date: ${create_date}

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
${imports if imports else ""}

# revision identifiers, used by Alembic.
revision: str = ${repr(up_revision)}
down_revision: Union[str, Sequence[str], None] = ${repr(down_revision)}
branch_labels: Union[str, Sequence[str], None] = ${repr(branch_labels)}
depends_on: Union[str, Sequence[str], None] = ${repr(depends_on)}


def upgrade() -> None:
    """Upgrade schema."""
    ${upgrades if upgrades else "pass"}


def downgrade() -> None:
    """Downgrade schema."""
    ${downgrades if downgrades else "pass"}
'''

# The untyped generic template alembic shipped before type annotations.
GENERIC_TEMPLATE = '''\
"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
Create Date: ${create_date}

"""
from alembic import op
import sqlalchemy as sa
${imports if imports else ""}

# revision identifiers, used by Alembic.
revision = ${repr(up_revision)}
down_revision = ${repr(down_revision)}
branch_labels = ${repr(branch_labels)}
depends_on = ${repr(depends_on)}


def upgrade():
    ${upgrades if upgrades else "pass"}


def downgrade():
    ${downgrades if downgrades else "pass"}
'''

TEMPLATES = {"typed": TYPED_TEMPLATE, "generic": GENERIC_TEMPLATE}

_SLUG_RE = re.compile(r"\w+")  # alembic.script.base._slug_re
_TRUNCATE_SLUG_LENGTH = 40  # alembic's default truncate_slug_length


def as_tuple(value: RevRef) -> tuple[str, ...]:
    """``None`` / a string / a sequence of strings as a tuple (alembic's to_tuple)."""
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(value)


def _scalar_or_tuple(values: tuple[str, ...]):
    """alembic's ``tuple_rev_as_scalar``: () -> None, one -> str, more -> as is."""
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return values


def _format_as_comma(value) -> str:
    """alembic.util.format_as_comma, used by the docstring's ``Revises:`` line."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return ", ".join(value)


def _indent(text: str) -> str:
    """alembic.autogenerate.render._indent: how rendered op bodies enter the template."""
    text = re.compile(r"^", re.M).sub("    ", text).strip()
    return re.compile(r" +$", re.M).sub("", text)


def slug(message: str | None) -> str:
    """The ``%(slug)s`` alembic derives from a message."""
    text = "_".join(_SLUG_RE.findall(message or "")).lower()
    if len(text) > _TRUNCATE_SLUG_LENGTH:
        text = text[:_TRUNCATE_SLUG_LENGTH].rsplit("_", 1)[0] + "_"
    return text


def revision_filename(
    rev_id: str,
    message: str | None,
    *,
    create_date: datetime.datetime | None = None,
    file_template: str = DEFAULT_FILE_TEMPLATE,
) -> str:
    """The file name alembic gives a revision under ``file_template`` (as in alembic.ini)."""
    when = create_date or datetime.datetime(2024, 1, 1)
    # alembic.ini values pass through configparser, which turns %% into %.
    template = file_template.replace("%%", "%")
    name = template % {
        "rev": rev_id,
        "slug": slug(message),
        "epoch": int(when.timestamp()),
        "year": when.year,
        "month": when.month,
        "day": when.day,
        "hour": when.hour,
        "minute": when.minute,
        "second": when.second,
    }
    return f"{name}.py"


def _split_body(body: str | tuple[str, str] | None) -> tuple[str | None, str | None]:
    if body is None:
        return None, None
    if isinstance(body, str):
        return body, None
    upgrade, downgrade = body
    return upgrade, downgrade


def render_revision(
    rev_id: str,
    down: RevRef,
    *,
    message: str | None,
    branch_labels: RevRef = None,
    depends_on: RevRef = None,
    style: str = "typed",
    create_date: str | datetime.datetime = DEFAULT_CREATE_DATE,
    body: str | tuple[str, str] | None = None,
    newline: str = "\n",
) -> str:
    """The text of a revision file.

    ``down``: parent id(s), ``None`` for a base. ``body``: the upgrade body,
    or ``(upgrade, downgrade)``; unindented source, indented the way
    autogenerate indents it. ``create_date``: a string, or a datetime rendered
    with ``str()`` as alembic does.
    """
    upgrades, downgrades = _split_body(body)
    if style in TEMPLATES:
        text = _render_template(
            TEMPLATES[style],
            rev_id=rev_id,
            down=as_tuple(down),
            message=message,
            branch_labels=branch_labels,
            depends_on=depends_on,
            create_date=create_date,
            upgrades=upgrades,
            downgrades=downgrades,
        )
    elif style == "custom":
        text = _render_custom(
            rev_id,
            as_tuple(down),
            message=message,
            branch_labels=as_tuple(branch_labels),
            depends_on=as_tuple(depends_on),
            create_date=str(create_date),
            upgrades=upgrades,
            downgrades=downgrades,
        )
    else:
        raise ValueError(f"unknown style {style!r}; expected one of {STYLES}")
    return text.replace("\n", newline) if newline != "\n" else text


def render_with_template(template_text: str, rev_id: str, down: RevRef, **kw) -> str:
    """Render any ``script.py.mako`` text (e.g. an environment's own) like alembic."""
    return _render_template(template_text, rev_id=rev_id, down=as_tuple(down), **kw)


@functools.lru_cache(maxsize=64)
def _compiled(template_text: str):
    """Mako compiles a template to Python each time one is made (~10 ms); a test run
    renders thousands of revisions from a handful of templates."""
    from mako.template import Template

    return Template(template_text)


def _render_template(
    template_text: str,
    *,
    rev_id: str,
    down: tuple[str, ...],
    message: str | None,
    branch_labels: RevRef = None,
    depends_on: RevRef = None,
    create_date: str | datetime.datetime = DEFAULT_CREATE_DATE,
    upgrades: str | None = None,
    downgrades: str | None = None,
) -> str:
    extra = {}
    if upgrades is not None:
        extra["upgrades"] = _indent(upgrades)
    if downgrades is not None:
        extra["downgrades"] = _indent(downgrades)
    # The same variables ScriptDirectory.generate_revision hands the template.
    # depends_on is a *list* there, so several dependencies render as a list.
    deps = list(as_tuple(depends_on))
    return _compiled(template_text).render_unicode(
        up_revision=str(rev_id),
        down_revision=_scalar_or_tuple(down),
        branch_labels=as_tuple(branch_labels) if branch_labels is not None else None,
        depends_on=_scalar_or_tuple(deps),  # type: ignore[arg-type]
        create_date=create_date,
        comma=_format_as_comma,
        message=message if message is not None else "empty message",
        **extra,
    )


def _quoted(values: tuple[str, ...]) -> list[str]:
    return [f'"{v}"' for v in values]


def _custom_down(down: tuple[str, ...]) -> str:
    if not down:
        return "None  # a base"
    if len(down) == 1:
        return f'"{down[0]}"'
    lines = "".join(f"    {q},\n" for q in _quoted(down))
    return f"(\n{lines})  # merge point"


def _custom_list(values: tuple[str, ...]) -> str:
    if not values:
        return "None"
    return "[" + ", ".join(_quoted(values)) + "]"


def _render_custom(
    rev_id: str,
    down: tuple[str, ...],
    *,
    message: str | None,
    branch_labels: tuple[str, ...],
    depends_on: tuple[str, ...],
    create_date: str,
    upgrades: str | None,
    downgrades: str | None,
) -> str:
    upgrade_body = _indent(upgrades) if upgrades else "pass"
    downgrade_body = _indent(downgrades) if downgrades else "pass"
    return (
        f'"""{message if message is not None else "empty message"}\n'
        "\n"
        f"Revision ID: {rev_id}\n"
        f"Revises: {', '.join(down)}\n"
        f"Create Date: {create_date}\n"
        "\n"
        '"""\n'
        "from __future__ import annotations\n"
        "\n"
        "import sqlalchemy as sa\n"
        "from alembic import op\n"
        "\n"
        "# revision identifiers, used by Alembic.\n"
        f'revision: str = "{rev_id}"  # do not edit\n'
        f"down_revision: str | tuple[str, ...] | None = {_custom_down(down)}\n"
        f"branch_labels: list[str] | None = {_custom_list(branch_labels)}\n"
        f"depends_on: list[str] | None = {_custom_list(depends_on)}\n"
        "\n"
        "\n"
        "def upgrade() -> None:\n"
        f"    {upgrade_body}\n"
        "\n"
        "\n"
        "def downgrade() -> None:\n"
        f"    {downgrade_body}\n"
    )
