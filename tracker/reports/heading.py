"""The parts of an administrative document Decree 30/2020/NĐ-CP fixes: the issuing body (under its governing
body), the number and symbol, the place and date, the title, the recipients and the signature block.

Everything here is a default drawn from the org tree and the people in it; the officer may override each
part (ReportOptions) before the draft goes to be signed.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date

from tracker.models import ADMINISTRATIVE_KINDS, OrgUnit, Plan, UnitKind
from tracker.periods import Period
from tracker.queries.reports import Signer
from tracker.reports.text import dmy, long_date, lower_first, upper

#: Words that name the kind of an administrative unit, dropped for the place name ("Xã Cao Ngọc" -> "Cao Ngọc").
_KIND_WORDS = ("thành phố", "thị trấn", "thị xã", "đặc khu", "phường", "huyện", "quận", "tỉnh", "xã")
_PARENTHESES = re.compile(r"\s*\([^)]*\)")
#: Words not counted in a body's initials ("Sở Lao động - Thương binh và Xã hội" -> SLĐTBXH).
_SKIPPED_INITIALS = {"và", "-", "–", "&"}


@dataclass(frozen=True)
class ReportOptions:
    """What the officer may set on the draft; None keeps the default drawn from the org tree."""

    document_number: str | None = None  # "12/BC-UBND"
    place: str | None = None
    dated: date | None = None
    signer_authority: str | None = None  # "TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH"
    signer_title: str | None = None  # "CHỦ TỊCH"
    signer_name: str | None = None
    recipients: tuple[str, ...] | None = None


@dataclass
class Heading:
    governing_body: str  # the line above the issuing body ("UBND TỈNH HƯNG YÊN"); may be empty
    issuing_body: str  # "ỦY BAN NHÂN DÂN\nXÃ CAO NGỌC"
    number: str  # "      /BC-UBND": the number is written when the report is signed
    place_and_date: str  # "Cao Ngọc, ngày 06 tháng 12 năm 2026"
    kind: str  # "BÁO CÁO"
    subject: str  # the title under it, lines separated by "\n"
    signer_authority: str
    signer_title: str
    signer_name: str
    recipients: list[str] = field(default_factory=list)
    issuer_short: str = ""  # "UBND xã Cao Ngọc", as the text refers to the issuer


def is_administrative(unit: OrgUnit) -> bool:
    return unit.is_administrative or unit.kind in ADMINISTRATIVE_KINDS


def bare_name(unit: OrgUnit) -> str:
    """The unit's name without its kind and any parenthesis ("Tỉnh Hà Nam (trước 01/7/2025)" -> "Hà Nam")."""
    name = _PARENTHESES.sub("", unit.name).strip()
    lowered = name.lower()
    for word in _KIND_WORDS:
        if lowered.startswith(word + " "):
            return name[len(word) + 1:].strip()
    return name


def plain_name(unit: OrgUnit) -> str:
    return _PARENTHESES.sub("", unit.name).strip()


def short_reference(unit: OrgUnit) -> str:
    """How a text names a unit: "UBND xã Cao Ngọc" for a People's Committee, else the unit's own name."""
    if is_administrative(unit):
        return f"UBND {lower_first(plain_name(unit))}"
    return plain_name(unit)


def initials(name: str) -> str:
    """The symbol of a body from its name's initials ("Sở Y tế" -> "SYT")."""
    letters = []
    for word in _PARENTHESES.sub("", name).replace("-", " - ").split():
        if word.lower() in _SKIPPED_INITIALS:
            continue
        if "&" in word:  # "TB&XH" is written as it is
            letters.append(word.replace("&", ""))
            continue
        letters.append(word[0].upper())
    symbol = "".join(letters)
    return unicodedata.normalize("NFC", symbol)[:12] or "CQ"


def _nearest_administrative(chain: list[OrgUnit]) -> OrgUnit | None:
    return next((u for u in reversed(chain) if is_administrative(u)), None)


def signer_title_for(unit: OrgUnit) -> str:
    """The usual title of the head who signs for a unit."""
    if is_administrative(unit):
        return "CHỦ TỊCH"
    name = unit.name.lower()
    if unit.kind == UnitKind.SCHOOL or name.startswith("trường"):
        return "HIỆU TRƯỞNG"
    if unit.kind == UnitKind.HEALTH_STATION or name.startswith("trạm"):
        return "TRẠM TRƯỞNG"
    if name.startswith("sở") or name.startswith("trung tâm"):
        return "GIÁM ĐỐC"
    if name.startswith("phòng"):
        return "TRƯỞNG PHÒNG"
    if name.startswith("ban"):
        return "TRƯỞNG BAN"
    if name.startswith("hội") or name.startswith("ủy ban mttq") or name.startswith("ủy ban mặt trận"):
        return "CHỦ TỊCH"
    if name.startswith("đoàn"):
        return "BÍ THƯ"
    if unit.kind == UnitKind.VILLAGE:
        return "TRƯỞNG THÔN" if name.startswith("thôn") else "TỔ TRƯỞNG"
    return "THỦ TRƯỞNG ĐƠN VỊ"


def plan_reference(plan: Plan, issuer_of_plan: OrgUnit) -> str:
    """"Kế hoạch số 56/KH-UBND ngày 15/3/2023 của UBND xã Nhật Quang về thực hiện mục tiêu giảm nghèo ..." (or
    the plan's own title when it has no number)."""
    subject = re.sub(r"^\s*kế\s+hoạch\s+", "", plan.title or "", flags=re.I).strip().rstrip(".")
    if plan.number:
        issued = f" ngày {dmy(plan.issued_on)}" if plan.issued_on else ""
        return f"Kế hoạch số {plan.number}{issued} của {short_reference(issuer_of_plan)} về {lower_first(subject)}"
    return f"Kế hoạch {lower_first(subject)}" if subject else "Kế hoạch"


def build_heading(*, issuer: OrgUnit, ancestors: list[OrgUnit], subject: str, today: date, signer: Signer | None,
                  options: ReportOptions) -> Heading:
    """The document's heading and signature block for a report `issuer` sends upward."""
    chain = [*ancestors, issuer]
    admin = _nearest_administrative(chain)
    if is_administrative(issuer):
        governing = ""
        body = "ỦY BAN NHÂN DÂN\n" + upper(plain_name(issuer))
        symbol = "UBND"
        authority, title = "TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH"
    else:
        parent = ancestors[-1] if ancestors else None
        if parent is not None and is_administrative(parent):
            governing = "UBND " + upper(plain_name(parent))
        else:
            governing = upper(plain_name(parent)) if parent is not None else ""
        body = upper(plain_name(issuer))
        symbol = initials(plain_name(issuer))
        authority, title = "", signer_title_for(issuer)
    if signer is not None and signer.title and not is_administrative(issuer):
        title = upper(signer.title)
    place = options.place or (bare_name(admin) if admin is not None else bare_name(issuer))
    upper_level = _nearest_administrative(ancestors)  # a commune's district or province; a department's province
    recipients = list(options.recipients) if options.recipients is not None else _default_recipients(upper_level)
    return Heading(
        governing_body=governing,
        issuing_body=body,
        number=options.document_number or f"      /BC-{symbol}",
        place_and_date=f"{place}, {long_date(options.dated or today)}",
        kind="BÁO CÁO",
        subject=subject,
        signer_authority=options.signer_authority if options.signer_authority is not None else authority,
        signer_title=options.signer_title or title,
        signer_name=options.signer_name or (signer.full_name if signer else ""),
        recipients=recipients,
        issuer_short=short_reference(issuer),
    )


def _default_recipients(upper_level: OrgUnit | None) -> list[str]:
    lines = []
    if upper_level is not None and upper_level.kind != UnitKind.COUNTRY:
        lines.append(f"- {short_reference(upper_level)} (b/c);")
    lines += ["- Các đơn vị thực hiện Kế hoạch;", "- Lưu: VT."]
    return lines


def report_subject(plans: list[Plan], issuers: dict[int, OrgUnit], period: Period, *, rollup_over: OrgUnit | None,
                   unit: OrgUnit | None) -> str:
    """The title under "BÁO CÁO": what was carried out, and over which period."""
    if len(plans) == 1:
        ref = plan_reference(plans[0], issuers[plans[0].issuing_unit_id])
        first = f"Kết quả thực hiện {ref}"
        if rollup_over is not None:
            first = f"Tổng hợp kết quả thực hiện {ref} trên địa bàn {lower_first(plain_name(rollup_over))}"
    else:
        owner = plain_name(unit) if unit is not None else ""
        first = f"Kết quả thực hiện các kế hoạch của {short_reference(unit) if unit else owner}".strip()
    return f"{first}\n{period.label[:1].upper()}{period.label[1:]}"
