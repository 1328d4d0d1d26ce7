"""`tracker zalo ...`: connect the Zalo Official Account and check the connection.

    tracker zalo authorize --redirect-uri URL   print the permission URL for an OA admin to open
    tracker zalo exchange CODE [--state S]      exchange the code Zalo returned; store the token pair
    tracker zalo status [--json]                connected? until when is the access token valid?
    tracker zalo set-tokens                     store a pair obtained in Zalo's API explorer

Tokens are never printed and never taken from the command line (shell history, `ps`): set-tokens reads
them from files or standard input. The authorization code may be given on the command line: it works
once, for minutes, and only with the code_verifier kept in the database.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from typing import TYPE_CHECKING

import click
from flask import current_app
from flask.cli import AppGroup

if TYPE_CHECKING:
    from tracker.notify.zalo_auth import ZaloAuthError

zalo_group = AppGroup("zalo", help="Kết nối Zalo Official Account / Connect the Zalo Official Account.")


def _fail(error: ZaloAuthError) -> None:
    click.echo(f"Lỗi / Error: {error}", err=True)
    sys.exit(1)


def _local(moment: datetime) -> str:
    from tracker.clock import local_zone

    return moment.astimezone(local_zone()).strftime("%d/%m/%Y %H:%M")


def _validity(expires_at: datetime | None) -> str:
    if expires_at is None:
        return "access token: không rõ hạn / expiry unknown"
    return f"access token còn hạn đến / valid until {_local(expires_at)}"


def _audit(action: str, version: int, **after: object) -> None:
    """The CLI acts as the system (no person): record it like the web page does."""
    from tracker.extensions import db
    from tracker.operations import audit

    audit.record_about(action, "channel_credentials", version, None, after={"token_version": version, **after})
    db.session.commit()


def _engine():  # type: ignore[no-untyped-def]
    from tracker.extensions import db

    return db.engine


@zalo_group.command("authorize")
@click.option(
    "--redirect-uri",
    required=True,
    help="The app's “Official Account Callback URL” at developers.zalo.me (must match exactly).",
)
def authorize_command(redirect_uri: str) -> None:
    """Start an OA authorization: print the URL an OA admin opens to grant the app access."""
    from tracker.notify.zalo_auth import ZaloAuthError, ZaloAuthorizer

    try:
        request = ZaloAuthorizer.from_app().start(redirect_uri)
    except ZaloAuthError as error:
        _fail(error)
        return
    click.echo(request.url)
    until = _local(request.expires_at)
    click.echo(
        "\nMở địa chỉ trên bằng trình duyệt, đăng nhập Zalo với tài khoản quản trị OA và bấm “Cho phép”.\n"
        "Zalo sẽ chuyển tới redirect URI kèm ?code=...; chạy: tracker zalo exchange '<địa chỉ đó>' "
        f"(trước {until}).\n"
        "Open the address above in a browser, signed in to Zalo as an OA admin, and approve.\n"
        "Zalo redirects to the redirect URI with ?code=...; then run: tracker zalo exchange '<that address>' "
        f"(before {until}).",
        err=True,
    )


@zalo_group.command("exchange")
@click.argument("code")
@click.option("--state", default=None, help="The state Zalo sent back (read from CODE when it is the whole address).")
def exchange_command(code: str, state: str | None) -> None:
    """Exchange CODE (or the whole address Zalo redirected to) for tokens and store them."""
    from tracker.notify.zalo_auth import ZaloAuthError, ZaloAuthorizer, parse_callback

    params = parse_callback(code)
    try:
        tokens = ZaloAuthorizer.from_app().exchange(params.code, state if state is not None else params.state)
    except ZaloAuthError as error:
        _fail(error)
        return
    _audit("channel.zalo_connect", tokens.version, via="cli", access_expires_at=tokens.access_expires_at)
    oa = f" (OA {params.oa_id})" if params.oa_id else ""
    click.echo(f"Đã kết nối Zalo OA{oa} / Zalo OA connected{oa}; {_validity(tokens.access_expires_at)}")


@zalo_group.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (times in UTC).")
def status_command(as_json: bool) -> None:
    """Show whether Zalo is connected and until when the access token is valid (never the tokens).

    Exits with status 3 when Zalo is not connected, for monitoring scripts.
    """
    from tracker.notify.zalo_auth import status

    summary = status(_engine(), current_app.config)
    if as_json:
        click.echo(json.dumps(summary.as_dict(), ensure_ascii=False))
    else:
        for line in summary.lines(_local):
            click.echo(line)
    if not summary.connected:
        sys.exit(3)


def _read_token(path: str | None, what: str) -> str:
    """One token from a file, or from standard input for "-" or no file (hidden prompt on a terminal)."""
    if path is not None and path != "-":
        try:
            with open(path, encoding="utf-8") as handle:
                return handle.read()
        except OSError as exc:
            raise click.ClickException(f"không đọc được / cannot read {path}: {exc.strerror}") from exc
    if sys.stdin.isatty():
        return click.prompt(what, hide_input=True, err=True)
    return sys.stdin.readline()


@zalo_group.command("set-tokens")
@click.option("--access-token-file", type=click.Path(dir_okay=False, allow_dash=True), default=None,
              help='File holding the access token ("-" or omitted: standard input).')
@click.option("--refresh-token-file", type=click.Path(dir_okay=False, allow_dash=True), default=None,
              help='File holding the refresh token ("-" or omitted: standard input, after the access token).')
@click.option("--expires-in", type=click.IntRange(min=1), default=None,
              help="Seconds the access token has left (Zalo's expires_in); unknown if omitted.")
def set_tokens_command(access_token_file: str | None, refresh_token_file: str | None, expires_in: int | None) -> None:
    """Store a token pair obtained elsewhere (Zalo's API explorer), replacing the current one.

    Tokens are read from files or standard input, never from the command line. From standard input the
    access token comes first, one per line.
    """
    from tracker.notify.zalo_auth import ZaloAuthError, store_tokens

    access = _read_token(access_token_file, "Access token")
    refresh = _read_token(refresh_token_file, "Refresh token")
    try:
        tokens = store_tokens(_engine(), access, refresh, expires_in=expires_in)
    except ZaloAuthError as error:
        _fail(error)
        return
    _audit("channel.zalo_set_tokens", tokens.version, via="cli", access_expires_at=tokens.access_expires_at)
    click.echo(
        f"Đã lưu mã Zalo / Zalo tokens stored (version {tokens.version}); {_validity(tokens.access_expires_at)}"
    )
    if access_token_file not in (None, "-") or refresh_token_file not in (None, "-"):
        click.echo("Hãy xóa các tệp chứa mã / Now delete the token files.", err=True)


COMMANDS = (zalo_group,)
