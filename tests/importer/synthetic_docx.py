"""A district plan on digital transformation, built as a real .docx: header table, Word list numbering,
an assignment table inside the body, a signature table and a target table in an appendix."""

from __future__ import annotations

import io


def _numbered(document, text: str, style: str = "List Number"):
    return document.add_paragraph(text, style=style)


def digital_transformation_docx() -> bytes:
    """Return the .docx bytes of the synthetic plan."""
    import docx

    document = docx.Document()
    header = document.add_table(rows=2, cols=2)
    header.cell(0, 0).text = "ỦY BAN NHÂN DÂN\nHUYỆN ĐỨC TRỌNG"
    header.cell(0, 1).text = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc"
    header.cell(1, 0).text = "Số: 45/KH-UBND"
    header.cell(1, 1).text = "Đức Trọng, ngày 03 tháng 3 năm 2025"
    document.add_paragraph("KẾ HOẠCH")
    document.add_paragraph("Chuyển đổi số trên địa bàn huyện Đức Trọng năm 2025")
    document.add_paragraph(
        "Căn cứ Kế hoạch số 1020/KH-UBND ngày 15/01/2025 của UBND tỉnh Lâm Đồng về chuyển đổi số năm "
        "2025; Ủy ban nhân dân huyện Đức Trọng ban hành Kế hoạch chuyển đổi số năm 2025 như sau:"
    )
    document.add_paragraph("I. MỤC TIÊU")
    document.add_paragraph(
        "Phấn đấu đạt 90% hồ sơ thủ tục hành chính được xử lý trực tuyến; 100% xã, thị trấn có điểm "
        "truy cập Internet công cộng."
    )
    document.add_paragraph("II. NHIỆM VỤ TRỌNG TÂM")
    _numbered(document, "Hoàn thiện hạ tầng số, phủ sóng 4G đến các thôn vùng sâu.")
    _numbered(document, "Đẩy mạnh thanh toán không dùng tiền mặt trong trường học, bệnh viện.")
    document.add_paragraph("III. PHÂN CÔNG NHIỆM VỤ")
    table = document.add_table(rows=4, cols=5)
    rows = [
        ["STT", "Nhiệm vụ", "Đơn vị chủ trì", "Đơn vị phối hợp", "Thời gian hoàn thành"],
        [
            "1",
            "Xây dựng kho dữ liệu dùng chung của huyện",
            "Phòng Văn hóa và Thông tin",
            "Văn phòng HĐND và UBND huyện",
            "Quý II/2025",
        ],
        ["2", "Số hóa hồ sơ hộ tịch", "Phòng Tư pháp; UBND các xã, thị trấn", "Phòng Nội vụ", "Trước ngày 30/9/2025"],
        ["3", "Tập huấn kỹ năng số cho tổ công nghệ số cộng đồng", "Huyện đoàn", "UBND các xã, thị trấn", "Hằng quý"],
    ]
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    document.add_paragraph("IV. TỔ CHỨC THỰC HIỆN")
    document.add_paragraph("1. Phòng Văn hóa và Thông tin")
    document.add_paragraph("- Là cơ quan thường trực, theo dõi, đôn đốc việc thực hiện Kế hoạch.")
    document.add_paragraph(
        "- Tổng hợp, báo cáo UBND huyện và Sở Thông tin và Truyền thông định kỳ hằng quý, "
        "trước ngày 15 của tháng cuối quý."
    )
    document.add_paragraph("2. Phòng Tài chính - Kế hoạch: Tham mưu bố trí kinh phí thực hiện Kế hoạch.")
    document.add_paragraph(
        "3. UBND các xã, thị trấn: Xây dựng kế hoạch chuyển đổi số của địa phương, hoàn thành trước "
        "ngày 31/3/2025; báo cáo kết quả 6 tháng, năm về Phòng Văn hóa và Thông tin."
    )
    document.add_paragraph("4. Đề nghị Ủy ban MTTQ Việt Nam huyện và các tổ chức chính trị - xã hội huyện")
    document.add_paragraph("Tuyên truyền, vận động đoàn viên, hội viên tham gia thanh toán điện tử.")
    signature = document.add_table(rows=1, cols=2)
    signature.cell(0, 0).text = "Nơi nhận:\n- Sở TT&TT;\n- Các xã, thị trấn;\n- Lưu: VT."
    signature.cell(0, 1).text = "TM. ỦY BAN NHÂN DÂN\nCHỦ TỊCH\nLê Văn C"
    document.add_paragraph("PHỤ LỤC")
    document.add_paragraph("CHỈ TIÊU CHUYỂN ĐỔI SỐ")
    targets = document.add_table(rows=3, cols=6)
    target_rows = [
        ["STT", "Chỉ tiêu", "ĐVT", "Năm 2024", "Năm 2025", "Đơn vị thực hiện"],
        ["1", "Tỷ lệ hồ sơ thủ tục hành chính xử lý trực tuyến", "%", "75,5", "90", "Văn phòng HĐND và UBND huyện"],
        ["2", "Số điểm truy cập Internet công cộng", "điểm", "12", "20", "Phòng Văn hóa và Thông tin"],
    ]
    for r, row in enumerate(target_rows):
        for c, value in enumerate(row):
            targets.cell(r, c).text = value
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
