"""`tracker people`: create one account, import many from a spreadsheet, write the template to fill in.

Thin wrappers over tracker/operations/people.py and people_import.py; like every module of this package it
imports only click at its top, the rest inside the commands.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from tracker.cli.common import fail

if TYPE_CHECKING:
    from tracker.models import Person


@click.group("people")
def people_group() -> None:
    """People accounts: create one, import many (.xlsx/.csv), get the template."""


def _actor(username: str | None) -> Person | None:
    """The admin whose scope the command runs in (--as), or None: the system, every unit."""
    if not username:
        return None
    import sqlalchemy as sa

    from tracker.extensions import db
    from tracker.models import Person

    person = db.session.scalar(sa.select(Person).where(Person.username == username.strip().lower()))
    if person is None:
        raise click.ClickException(f"no such user: {username}")
    return person


def _fail(error: Any, code: int = 1) -> None:
    """Roll back and print a domain error the way every command does."""
    from tracker.extensions import db

    db.session.rollback()
    fail(error.render(), code)


@people_group.command("template")
@click.argument("path", type=click.Path(dir_okay=False, writable=True))
def template_command(path: str) -> None:
    """Write the .xlsx template (Vietnamese headers, a sheet explaining the columns and roles) to PATH."""
    from tracker.operations.people_import import role_words
    from tracker.people_sheet import template_bytes

    data = template_bytes(role_words())
    Path(path).write_bytes(data)
    click.echo(f"wrote {path} ({len(data):,} bytes)")


@people_group.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--as", "username", default=None, help="Import as this admin (only into the units they administer).")
@click.option("--dry-run", is_flag=True, help="Show the preview (and every error by row); write nothing.")
@click.option("--yes", "-y", is_flag=True, help="Apply without asking after the preview.")
def import_command(path: str, username: str | None, dry_run: bool, yes: bool) -> None:
    """Import people from PATH (.xlsx or .csv): preview, then confirm; idempotent by username or e-mail."""
    from tracker.extensions import db
    from tracker.operations.errors import DomainError
    from tracker.operations.people_import import PreviewChanged, apply_import, preview_import

    data = Path(path).read_bytes()
    try:
        actor = _actor(username)
        preview = preview_import(actor, Path(path).name, data)
    except DomainError as error:
        _fail(error, 2)
    db.session.rollback()  # the preview is a read
    counts = preview.counts
    click.echo(f"Thêm mới / to create: {counts['create']}   Cập nhật / to update: {counts['update']}   "
               f"Không đổi / unchanged: {counts['unchanged']}   Lỗi / errors: {counts['errors']}")
    if preview.ignored_columns:
        click.echo("Cột bỏ qua / ignored columns: " + ", ".join(preview.ignored_columns))
    for change in preview.of("update"):
        what = ", ".join([*change.fields, *(f"+{r}" for r in change.roles_to_add)])
        click.echo(f"  ~ {change.row}: {change.username} ({what})")
    if preview.errors:
        for line in preview.error_lines():
            click.echo(line, err=True)
        click.echo("Không nhập gì: hãy sửa các dòng lỗi rồi nhập lại. / Nothing imported: fix the rows above.",
                   err=True)
        sys.exit(1)
    if not preview.can_apply:
        click.echo("Không có gì thay đổi. / Nothing to change: every person is already as in the file.")
        return
    if dry_run:
        click.echo("--dry-run: nothing written.")
        return
    if not yes and not click.confirm("Áp dụng? / Apply?", default=False):
        click.echo("Nothing written.")
        return
    try:
        result = apply_import(actor, Path(path).name, data, expected_digest=preview.digest)
        db.session.commit()
    except PreviewChanged:
        db.session.rollback()
        click.echo("Dữ liệu đã thay đổi từ lúc xem trước; hãy chạy lại. / The data changed since the preview; "
                   "run the command again.", err=True)
        sys.exit(1)
    except DomainError as error:
        _fail(error)
    click.echo(f"Đã thêm {result.created}, cập nhật {result.updated}, không đổi {result.unchanged}. / "
               f"Created {result.created}, updated {result.updated}, unchanged {result.unchanged}.")
    if result.created:
        click.echo("Tài khoản mới chưa có mật khẩu: dùng \"Quên mật khẩu\" để đặt. / New accounts have no password "
                   "yet: they use \"Forgot password\" (or an admin sets one).")


@people_group.command("create")
@click.option("--username", required=True)
@click.option("--name", "full_name", required=True, help="Full name.")
@click.option("--unit", "unit_code", required=True, help="The unit's official code (e.g. W26734) or its id.")
@click.option("--role", "roles", required=True, multiple=True,
              type=click.Choice(["officer", "unit_head", "focal", "chair", "viewer", "admin"]),
              help="Role on the unit (repeatable).")
@click.option("--email", default=None)
@click.option("--zalo-phone", default=None, help="Vietnamese mobile number for Zalo messages.")
@click.option("--title", default=None, help="Position, shown in messages.")
@click.option("--as", "username_as", default=None, help="Create as this admin (scope-checked).")
def create_command(username: str, full_name: str, unit_code: str, roles: tuple[str, ...], email: str | None,
                   zalo_phone: str | None, title: str | None, username_as: str | None) -> None:
    """Create one account with its roles on a unit; it has no password until the person sets one."""
    import sqlalchemy as sa

    from tracker.extensions import db
    from tracker.models import OrgUnit, Role
    from tracker.operations.errors import DomainError
    from tracker.operations.people import assign_role, clean_zalo_phone, create_person
    from tracker.operations.people_import import code_candidates

    try:
        actor = _actor(username_as)
        found = list(db.session.scalars(sa.select(OrgUnit).where(OrgUnit.code.in_(code_candidates(unit_code)))))
        if len(found) > 1:
            raise click.ClickException(f"mã {unit_code} có thể là / may mean: "
                                       + ", ".join(f"{u.code} ({u.name})" for u in found))
        unit = found[0] if found else None
        if unit is None:
            raise click.ClickException(f"không tìm thấy đơn vị có mã {unit_code} / no unit with code {unit_code}")
        person = create_person(actor, username=username, full_name=full_name, email=email,
                               phone=clean_zalo_phone(zalo_phone), title=title)
        for role in roles:
            assign_role(actor, person, unit, Role(role))
        db.session.commit()
    except DomainError as error:
        _fail(error)
    click.echo(f"created {person.username} (id {person.id}): {', '.join(roles)} — {unit.name}")
    click.echo("No password yet: the person uses \"Forgot password\" (e-mail link), or an admin sets one.")


COMMANDS = (people_group,)
