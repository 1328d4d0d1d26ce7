"""`tracker people import / create / template`: preview, errors by row in Vietnamese, idempotent re-import,
scope, hostile files; nothing written until confirmed or when any row is wrong."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.people.conftest import csv_file, person_row, xlsx_file
from tracker.extensions import db
from tracker.models import AuditEvent, Person, Role, RoleAssignment
from tracker.operations.people_import import PreviewChanged, apply_import, preview_import


def invoke(app: Any, *args: str, input: str | None = None) -> Any:
    return app.test_cli_runner().invoke(args=list(args), input=input)


def people_count() -> int:
    return int(db.session.scalar(sa.select(sa.func.count()).select_from(Person)) or 0)


def audit_actions() -> list[str]:
    return list(db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)))


def write(tmp_path: Path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def test_template_round_trip_creates_people_then_reimport_changes_nothing(app: Any, coded: Any,
                                                                           tmp_path: Path) -> None:
    from openpyxl import load_workbook

    template = tmp_path / "mau.xlsx"
    assert invoke(app, "people", "template", str(template)).exit_code == 0
    workbook = load_workbook(template)
    assert workbook.sheetnames == ["Danh sách", "Hướng dẫn"]
    guide = "\n".join(str(c.value) for row in workbook["Hướng dẫn"].iter_rows() for c in row if c.value)
    assert "Cán bộ đầu mối (focal)" in guide and "Mã đơn vị" in guide
    sheet = workbook["Danh sách"]
    assert sheet["A1"].value.startswith("Tên đăng nhập") and sheet["B1"].value == "Họ và tên *"
    sheet.append(person_row("nguyenvana", "Nguyễn Văn A", unit_code="26734", roles="Cán bộ, Thủ trưởng đơn vị",
                            email="a@example.org", phone="091 234 5678", title="Công chức Văn hóa"))
    sheet.append(person_row("tranthib", "Trần Thị B", unit_name="xã cao ngọc / trạm y tế", roles="người xem",
                            digest="có"))
    sheet.append([None] * 9)  # a blank row in the middle is skipped
    sheet.append(person_row("lec", "Lê C", unit_code="W26737", roles="officer", phone=912345679))
    path = tmp_path / "filled.xlsx"
    workbook.save(path)
    before_audit = len(audit_actions())

    dry = invoke(app, "people", "import", str(path), "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "Thêm mới / to create: 3" in dry.output and people_count() == 8 + 1

    result = invoke(app, "people", "import", str(path), "--yes")
    assert result.exit_code == 0, result.output
    a = db.session.scalar(sa.select(Person).where(Person.username == "nguyenvana"))
    assert a is not None and a.password_hash is None  # no password until they choose one
    assert (a.full_name, a.email, a.phone, a.title) == ("Nguyễn Văn A", "a@example.org", "0912345678",
                                                         "Công chức Văn hóa")
    assert sorted((r.unit.name, r.role) for r in a.roles) == [("Xã Cao Ngọc", Role.OFFICER),
                                                               ("Xã Cao Ngọc", Role.UNIT_HEAD)]
    b = db.session.scalar(sa.select(Person).where(Person.username == "tranthib"))
    assert b is not None and b.prefers_digest and [(r.unit_id, r.role) for r in b.roles] == [
        (coded.health.id, Role.VIEWER)]
    c = db.session.scalar(sa.select(Person).where(Person.username == "lec"))
    assert c is not None and c.phone == "0912345679"  # Excel dropped the leading zero of a number cell
    new_actions = audit_actions()[before_audit:]
    assert sorted(new_actions) == ["people.import"] + ["person.create"] * 3

    again = invoke(app, "people", "import", str(path), "--yes")
    assert again.exit_code == 0, again.output
    assert "Không có gì thay đổi" in again.output and "Không đổi / unchanged: 3" in again.output
    assert len(audit_actions()) == before_audit + 4


def test_every_error_is_reported_by_row_in_vietnamese_and_nothing_is_written(app: Any, coded: Any,
                                                                          tmp_path: Path) -> None:
    rows = [
        person_row("ok", "Người Hợp Lệ", unit_code="W26734"),                                     # row 2
        person_row("khongma", "Không Mã", unit_code="99999"),                                     # row 3
        person_row("sai mail", "Sai", unit_code="W26734", email="a@b", phone="12345"),            # row 4
        person_row("vaitro", "Vai Trò", unit_code="W26734", roles="sếp"),                         # row 5
        person_row("ok", "Trùng", unit_code="W26734"),                                            # row 6
        person_row("congthuc", "=HYPERLINK(\"http://x\")", unit_code="W26734"),                   # row 7
        person_row("mohoa", "Mơ Hồ", unit_name="Trạm Y tế"),                                      # row 8
        person_row("", "Không Tên", unit_code="W26734"),                                          # row 9
        person_row("khongvaitro", "Không Vai Trò", unit_code="W26734", roles=""),                 # row 10
        person_row("emailtrung", "Email Trùng", unit_code="W26734", email="yte@example.org"),     # row 11
    ]
    path = write(tmp_path, "loi.xlsx", xlsx_file(rows))
    before = (people_count(), len(audit_actions()))
    result = invoke(app, "people", "import", path, "--yes")
    assert result.exit_code == 1
    out = result.output
    assert "Dòng 3: không tìm thấy đơn vị có mã 99999" in out
    assert "Dòng 4: Tên đăng nhập" in out and "Dòng 4: Địa chỉ thư điện tử không hợp lệ." in out
    assert "Dòng 4: 12345 không phải số di động Việt Nam" in out
    assert "Dòng 5: vai trò không hợp lệ: sếp" in out
    assert "Dòng 6: tài khoản ok đã có ở dòng 2" in out
    assert "Dòng 7: ô Họ và tên chứa công thức" in out
    assert "Dòng 8: có 2 đơn vị tên Trạm Y tế: Xã Bên Cạnh / Trạm Y tế; Xã Cao Ngọc / Trạm Y tế" in out
    assert "Dòng 9: tài khoản mới cần tên đăng nhập" in out
    assert "Dòng 10: tài khoản mới cần ít nhất một vai trò" in out
    assert "Dòng 11: email yte@example.org đã thuộc tài khoản yte" in out
    assert "Dòng 2:" not in out
    assert (people_count(), len(audit_actions())) == before


def test_existing_person_found_by_email_gets_only_what_differs(app: Any, coded: Any) -> None:
    data = csv_file([person_row("", "Nguyễn Văn Y", unit_name="Xã Cao Ngọc / Trạm Y tế",
                                roles="Cán bộ, Chủ tịch", email="YTE@example.org", title="Trạm trưởng")])
    preview = preview_import(coded.admin, "p.csv", data)
    assert preview.errors == [] and preview.counts["update"] == 1
    change = preview.of("update")[0]
    assert change.person_id == coded.officer.id and change.fields == {"email": "YTE@example.org",
                                                                       "title": "Trạm trưởng"}
    assert change.roles_to_add == ["chair"]  # officer of the station is held already
    result = apply_import(coded.admin, "p.csv", data, expected_digest=preview.digest)
    db.session.commit()
    assert (result.created, result.updated) == (0, 1)
    event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "person.update")).one()
    assert event.actor_id == coded.admin.id and event.before == {"email": "yte@example.org", "title": None}
    assert event.after["roles_added"] == ["chair"]


def test_a_commune_admin_cannot_import_into_another_commune_or_touch_its_people(app: Any, coded: Any,
                                                                               tmp_path: Path) -> None:
    rows = [person_row("moi", "Người Mới", unit_code="W26737"),
            person_row("ytekhac", "Bùi Văn Khác", unit_code="W26734"),
            person_row("moi2", "Người Mới 2", unit_name="Xã Bên Cạnh / Trạm Y tế"),
            person_row("moi3", "Người Mới 3", unit_name="Trạm Y tế")]  # only one inside this admin's scope
    path = write(tmp_path, "pham-vi.csv", csv_file(rows, delimiter=";"))
    result = invoke(app, "people", "import", path, "--as", "quantrixa", "--yes")
    assert result.exit_code == 1
    assert "Dòng 2: bạn không có quyền quản trị Xã Bên Cạnh" in result.output
    assert "Dòng 3: tài khoản ytekhac có vai trò ở đơn vị bạn không quản trị" in result.output
    assert "Dòng 4: không có đơn vị tên Xã Bên Cạnh / Trạm Y tế" in result.output
    assert "Dòng 5" not in result.output
    assert people_count() == 9
    viewer = invoke(app, "people", "import", path, "--as", "tinh")
    assert viewer.exit_code == 2 and "quản trị" in viewer.output


@pytest.mark.parametrize(("name", "data", "message"), [
    ("people.pdf", b"%PDF-1.4", "Hãy chọn tệp .xlsx hoặc .csv."),
    ("people.xlsx", b"PK\x03\x04not really a zip", "Không đọc được tệp Excel"),
    ("people.csv", "Họ và tên,Vai trò\nÁ,Cán bộ".encode("utf-16"), "phải mã hóa UTF-8"),
    ("people.csv", "Họ và tên,Vai trò,Mã đơn vị\nNguyễn Văn Á,Cán bộ,W26734"
     .encode("cp1258", errors="replace"), "phải mã hóa UTF-8"),
    ("people.csv", "Tên đăng nhập,Họ và tên,Mật khẩu,Vai trò,Mã đơn vị\na,A,123456,Cán bộ,W1".encode(),
     "Không bao giờ nhập mật khẩu"),
    ("people.csv", b"a,b,c\n1,2,3\n", "Không thấy dòng tiêu đề"),
    ("people.csv", "Họ và tên,Mã đơn vị\nA,W26734".encode(), "Thiếu cột: Vai trò"),
])
def test_unusable_files_are_refused_with_a_clear_message(app: Any, coded: Any, tmp_path: Path, name: str,
                                                         data: bytes, message: str) -> None:
    result = invoke(app, "people", "import", write(tmp_path, name, data), "--yes")
    assert result.exit_code == 2 and message in result.output, result.output
    assert people_count() == 9


def test_size_and_row_limits(app: Any, coded: Any) -> None:
    from tracker.operations.errors import ValidationFailed

    app.config["PEOPLE_IMPORT_MAX_ROWS"] = 3
    data = csv_file([person_row(f"u{i}", f"Người {i}", unit_code="W26734") for i in range(4)])
    with pytest.raises(ValidationFailed) as too_long:
        preview_import(None, "x.csv", data)
    assert too_long.value.render() == "Tệp có hơn 3 dòng; hãy chia thành nhiều tệp."
    app.config["PEOPLE_IMPORT_MAX_BYTES"] = 256
    with pytest.raises(ValidationFailed) as too_big:
        preview_import(None, "x.csv", data)
    assert too_big.value.render() == "Tệp lớn hơn 0.25 KB."


def test_confirming_applies_only_the_previewed_plan(app: Any, coded: Any, make_person: Any) -> None:
    data = xlsx_file([person_row("nguoimoi", "Người Mới", unit_code="W26734", email="moi@example.org")])
    preview = preview_import(coded.admin, "x.xlsx", data)
    assert preview.counts["create"] == 1
    make_person("nguoimoi", full_name="Người Khác", roles=[(Role.OFFICER, coded.village)])  # meanwhile
    db.session.commit()
    with pytest.raises(PreviewChanged) as changed:
        apply_import(coded.admin, "x.xlsx", data, expected_digest=preview.digest)
    assert changed.value.preview.counts["update"] == 1
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RoleAssignment)
                             .where(RoleAssignment.unit_id == coded.xa.id, RoleAssignment.role == Role.OFFICER)) == 0


def test_people_create_makes_an_account_without_password(app: Any, coded: Any) -> None:
    result = invoke(app, "people", "create", "--username", "CanBo1", "--name", "Cán Bộ Một", "--unit", "26734",
                    "--role", "officer", "--role", "focal", "--email", "cb1@example.org", "--zalo-phone",
                    "+84 912 000 111")
    assert result.exit_code == 0, result.output
    person = db.session.scalar(sa.select(Person).where(Person.username == "canbo1"))
    assert person is not None and person.password_hash is None and person.phone == "0912000111"
    assert sorted(r.role for r in person.roles) == [Role.FOCAL, Role.OFFICER]
    again = invoke(app, "people", "create", "--username", "canbo1", "--name", "X", "--unit", "W26734",
                   "--role", "officer")
    assert again.exit_code == 1 and "canbo1" in again.output
    unknown = invoke(app, "people", "create", "--username", "x2", "--name", "X", "--unit", "99999", "--role",
                     "officer")
    assert unknown.exit_code != 0 and "không tìm thấy đơn vị có mã 99999" in unknown.output
    scoped = invoke(app, "people", "create", "--username", "x3", "--name", "X", "--unit", "W26737", "--role",
                    "officer", "--as", "quantrixa")
    assert scoped.exit_code == 1 and people_count() == 10


def test_xlsx_formula_in_any_column_is_a_row_error(app: Any, coded: Any) -> None:
    from openpyxl import Workbook

    from tests.people.conftest import HEADER

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    sheet.append(["ct", "Công Thức", None, None, None, "=A1", None, "Cán bộ", None])
    buffer = io.BytesIO()
    workbook.save(buffer)
    preview = preview_import(None, "f.xlsx", buffer.getvalue())
    assert [row for row, _m in preview.errors] == [2, 2]  # the formula, then no unit left to find
    assert "Mã đơn vị" in preview.errors[0][1]
