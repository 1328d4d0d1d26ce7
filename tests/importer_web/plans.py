"""Small synthetic plans in the usual administrative style, for the decisions the real plans do not cover."""

from __future__ import annotations

#: A commune plan: a heading naming three members (one single, two plural), a target date beside a report
#: deadline, "định kỳ" with no period, a request ("Đề nghị"), tasks with no deadline.
COMMUNE_PLAN = """ỦY BAN NHÂN DÂN
XÃ CAO NGỌC
Số: 12/KH-UBND
CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
Độc lập - Tự do - Hạnh phúc
Cao Ngọc, ngày 05 tháng 3 năm 2024
KẾ HOẠCH
Phòng chống dịch bệnh mùa hè năm 2024
I. MỤC ĐÍCH, YÊU CẦU
Chủ động phòng chống dịch bệnh, không để dịch lớn xảy ra trên địa bàn xã.
II. TỔ CHỨC THỰC HIỆN
1. Trạm Y tế xã
- Chủ trì tổ chức tiêm chủng mở rộng cho trẻ em; báo cáo UBND xã trước ngày 30/6/2024.
- Phấn đấu đạt 98% trẻ em được tiêm chủng đầy đủ vào cuối năm 2024.
2. Ủy ban MTTQ xã và các tổ chức chính trị - xã hội, các thôn
- Tuyên truyền, vận động nhân dân vệ sinh môi trường, diệt lăng quăng, bọ gậy.
3. Các nhà trường
- Tổ chức vệ sinh trường lớp; định kỳ báo cáo UBND xã.
4. Đề nghị Hội Chữ thập đỏ xã
- Vận động nguồn lực hỗ trợ hộ nghèo khi có dịch.
Nơi nhận:
- UBND huyện;
- Lưu: VT.
TM. ỦY BAN NHÂN DÂN
CHỦ TỊCH
Nguyễn Văn A
"""

#: A district plan: "UBND các xã, thị trấn" (one task per commune), "Các trạm y tế" (stations live under the
#: communes), and a member that names no kind of unit ("các tổ chức thành viên").
DISTRICT_PLAN = """ỦY BAN NHÂN DÂN
HUYỆN THỬ NGHIỆM
Số: 30/KH-UBND
CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
Độc lập - Tự do - Hạnh phúc
Thử Nghiệm, ngày 10 tháng 01 năm 2024
KẾ HOẠCH
Rà soát hộ nghèo, hộ cận nghèo năm 2024
I. MỤC ĐÍCH, YÊU CẦU
Rà soát đúng quy trình, công khai, minh bạch.
II. TỔ CHỨC THỰC HIỆN
1. Phòng Lao động - TB&XH
- Chủ trì hướng dẫn, kiểm tra việc rà soát; tổng hợp báo cáo UBND huyện trước ngày 15/12/2024.
2. UBND các xã, thị trấn
- Tổ chức rà soát hộ nghèo, hộ cận nghèo trên địa bàn; báo cáo 6 tháng, 1 năm về UBND huyện.
3. Các trạm y tế
- Cập nhật thông tin bảo hiểm y tế của hộ nghèo; báo cáo UBND xã trước ngày 30/11/2024.
4. Ủy ban MTTQ huyện và các tổ chức thành viên
- Giám sát việc rà soát hộ nghèo tại các xã, thị trấn.
Nơi nhận:
- UBND tỉnh;
- Lưu: VT.
TM. ỦY BAN NHÂN DÂN
CHỦ TỊCH
Trần Văn B
"""
