"""Flask CLI commands: demo seed, account creation, audit chain checks, production settings check."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask, current_app
from sqlalchemy import select

import audit
from auth.passwords import password_error
from extensions import db
from models import Center, User
from models.enums import Role


def init_cli(app: Flask) -> None:
    app.cli.add_command(seed_command)
    app.cli.add_command(create_user_command)
    app.cli.add_command(audit_group)
    app.cli.add_command(security_check_command)


@click.command("seed")
@click.option("--demo", is_flag=True, help="同时写入潮南区演示数据(可重复执行，不会重复创建)")
@click.option(
    "--bulk",
    type=click.IntRange(min=1),
    default=None,
    metavar="N",
    help="另加 N 件批量案件(近三年，用于性能测试；须先有演示数据；每次执行都新增 N 件；请在控制台停止时执行)",
)
def seed_command(demo: bool, bulk: int | None) -> None:
    """Seed the reference data every installation needs (the holiday table); --demo the demo set, --bulk N more cases."""
    from seed.holidays import seed_holidays

    with audit.acting_as("seed"):
        years = seed_holidays(db.session)
        db.session.commit()
        click.echo(
            "节假日表：" + ("新增" + "、".join(f"{y}年" for y in years) + "法定节假日(待复核)" if years else "已是最新")
        )
        if demo:
            from seed.demo import seed_demo

            summary = seed_demo(db.session)
            click.echo("演示数据就绪：" + "，".join(f"{k} {v}" for k, v in summary.items()))
    if bulk:
        from seed.bulk import BulkSeedError, seed_bulk

        click.echo(f"批量写入 {bulk:,} 件案件：")
        try:
            seed_bulk(db.session, bulk, audit.chain_key(current_app.config), click.echo)
        except BulkSeedError as exc:
            raise click.ClickException(str(exc)) from exc


@click.command("create-user")
@click.argument("username")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True, help="角色")
@click.option("--center", "center_name", default=None, help="所属机构名称(镇街管理员、村居帮办员必填)")
@click.option("--full-name", default="", help="姓名")
@click.password_option("--password", prompt="密码", confirmation_prompt="再次输入密码", help="密码")
def create_user_command(username: str, role: str, center_name: str | None, full_name: str, password: str) -> None:
    """Create a console account; the password is asked for twice."""
    message = password_error(password, username)
    if message:
        raise click.ClickException(message)
    if db.session.scalar(select(User).where(User.username == username)):
        raise click.ClickException(f"用户名 {username} 已存在")
    center = None
    if center_name:
        center = db.session.scalar(select(Center).where(Center.name == center_name))
        if center is None:
            raise click.ClickException(f"找不到机构：{center_name}")
    user = User(username=username, full_name=full_name, role=role, center=center)
    user.set_password(password)
    from lifecycle.errors import RuleError

    with audit.acting_as("cli"):
        db.session.add(user)
        try:
            db.session.commit()
        except RuleError as exc:
            db.session.rollback()
            raise click.ClickException(str(exc)) from exc
    click.echo(f"已创建用户 {username}（{user.role_label}）")


@click.group("audit")
def audit_group() -> None:
    """Audit log tools."""


def _checkpoint_file() -> Path:
    return Path(current_app.config["AUDIT_CHECKPOINT_FILE"])


def _verified(key: bytes) -> audit.ChainCheck:
    """Walk the chain against every checkpoint on file; print what was found, raise on a failure."""
    path = _checkpoint_file()
    checkpoints, problems = audit.read_checkpoints(path, key)
    check = audit.verify_chain(db.session, key, checkpoints)
    failures = ([check.problem] if check.problem else []) + problems
    if failures:
        click.echo("审计日志校验失败：", err=True)
        for failure in failures:
            click.echo(f"  {failure}", err=True)
        raise click.exceptions.Exit(1)
    click.echo(f"审计日志完整：已用密钥校验 {check.checked} 条记录，哈希链无断裂，与链头一致。")
    if checkpoints:
        click.echo(f"与检查点文件 {path} 中的 {len(checkpoints)} 个检查点一致(最新：{checkpoints[-1].at})。")
    else:
        click.echo(f"注意：未找到检查点({path})，无法发现末尾被整段删除；请定期执行 flask audit checkpoint。")
    return check


@audit_group.command("verify")
def audit_verify_command() -> None:
    """Recompute the HMAC chain and compare it with the checkpoints; exit non-zero on the first problem."""
    _verified(audit.chain_key(current_app.config))


@audit_group.command("checkpoint")
def audit_checkpoint_command() -> None:
    """Verify the chain, then print and append a signed line of its end to the checkpoint file."""
    key = audit.chain_key(current_app.config)
    check = _verified(key)
    point = audit.checkpoint_now(check, key)
    path = _checkpoint_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as out:
        out.write(point.line() + "\n")
    click.echo(f"已写入检查点({path})：")
    click.echo(point.line())


@click.command("security-check")
def security_check_command() -> None:
    """Report every setting unsafe for production; exit non-zero if there is one."""
    from security import unsafe_settings

    problems = unsafe_settings(current_app.config)
    for problem in problems:
        click.echo(f"不安全：{problem}")
    if problems:
        raise click.ClickException(f"共 {len(problems)} 项不安全设置")
    click.echo("安全检查通过。")
