"""Unit names: normalisation, matching and plural (fan-out) units."""

from __future__ import annotations

import pytest

from tracker.importer.unitphrase import find_units, is_generic, split_enumeration, unit_list_at
from tracker.importer.units import match_unit, normalize_unit_name, plural_unit_kind


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Phòng LĐTB&XH", "Phòng Lao động - Thương binh và Xã hội"),
        ("phòng Lao động-TB&XH", "Phòng Lao động – Thương binh và Xã hội"),
        ("Uỷ ban MTTQ Việt Nam tỉnh", "Ủy ban Mặt trận Tổ quốc Việt Nam tỉnh"),
        ("UBMTTQ xã", "Ủy ban Mặt trận Tổ quốc xã"),
        ("Sở NN&PTNT", "Sở Nông nghiệp và Phát triển nông thôn"),
        ("Phòng GD&ĐT", "Phòng Giáo dục và Đào tạo"),
        ("Công chức VHXH", "Công chức Văn hoá xã hội"),
        ("BCĐ xã", "Ban chỉ đạo xã"),
        ("Sở TT&TT", "Sở Thông tin và Truyền thông"),
        ("NHCSXH huyện", "Ngân hàng Chính sách xã hội huyện"),
        ("Đề nghị UBND huyện", "Ủy ban nhân dân huyện"),
    ],
)
def test_abbreviations_and_tone_placement_normalise_equal(a: str, b: str) -> None:
    assert normalize_unit_name(a) == normalize_unit_name(b)


def test_tone_folding_leaves_closed_syllables_alone() -> None:
    assert normalize_unit_name("Đoàn Thanh niên") == "đoàn thanh niên"
    assert normalize_unit_name("quý") == "quý"


ORG = [
    ("ldtbxh", "Phòng Lao động - Thương binh và Xã hội"),
    ("yte", "Phòng Y tế"),
    ("tram", "Trạm Y tế xã Nhật Quang"),
    ("ubnd_xa", "UBND xã Nhật Quang"),
    ("ubnd_huyen", "UBND huyện Phù Cừ"),
]


def test_match_unit_ranks_the_same_unit_first() -> None:
    assert match_unit("Phòng LĐTB&XH", ORG)[0][0] == "ldtbxh"
    assert match_unit("Trạm y tế xã", ORG)[0][0] == "tram"
    assert match_unit("phòng y tế", ORG)[0] == ("yte", pytest.approx(1.0, abs=0.02))


def test_match_unit_does_not_confuse_levels_or_org_types() -> None:
    ranked = dict(match_unit("UBND xã", ORG))
    assert ranked["ubnd_xa"] > ranked.get("ubnd_huyen", 0)
    assert "yte" not in dict(match_unit("Trạm Y tế xã", ORG, min_score=0.7))


def test_match_unit_is_best_first_and_drops_weak_candidates() -> None:
    ranked = match_unit("Phòng Y tế", ORG)
    assert [score for _, score in ranked] == sorted((score for _, score in ranked), reverse=True)
    assert all(score >= 0.5 for _, score in ranked)


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("Các thôn", "village"),
        ("Các Thôn, làng", "village"),
        ("UBND các xã, thị trấn", "commune"),
        ("Các nhà trường", "school"),
        ("các tổ dân phố", "residential_group"),
        ("UBND huyện, thị xã, thành phố", "district"),
        ("Trung tâm Y tế các huyện, thành phố, thị xã", "district"),
        ("Các trạm y tế", "health_station"),
        ("Các tổ chức chính trị - xã hội", "mass_organization"),
        ("Trưởng các thôn", "village"),
        ("Sở Y tế", None),
        ("Trạm Y tế xã", None),
        ("Phòng Tài chính - Kế hoạch", None),
    ],
)
def test_plural_units_name_what_they_fan_out_to(name: str, kind: str | None) -> None:
    assert plural_unit_kind(name) == kind


def test_unit_lists_split_where_a_new_unit_starts() -> None:
    text = "UBND xã, UBND huyện, Phòng Lao động - Thương binh và Xã hội theo quy định."
    assert unit_list_at(text) == ["UBND xã", "UBND huyện", "Phòng Lao động - Thương binh và Xã hội"]
    assert unit_list_at("UBND huyện, thị xã, thành phố tổ chức") == ["UBND huyện, thị xã, thành phố"]
    assert unit_list_at("Sở Văn hóa, Thể thao và Du lịch; Sở Y tế") == ["Sở Văn hóa, Thể thao và Du lịch", "Sở Y tế"]


def test_unit_names_end_at_verbs_and_keep_their_parentheses() -> None:
    text = "Phối hợp với công chức VHXH (theo dõi Lao động - TB&XH), các ngành liên quan tổng hợp"
    assert find_units(text)[0][0] == "công chức VHXH (theo dõi Lao động - TB&XH)"
    assert find_units("Trung tâm y tế huyện tiếp tục thực hiện")[0][0] == "Trung tâm y tế huyện"
    assert find_units("báo cáo UBND xã phương án xử lý")[0][0] == "UBND xã"


def test_common_words_that_look_like_units_are_not_units() -> None:
    for phrase in ("Trường hợp cần thiết", "Ban hành quy chế", "Hội nghị sơ kết", "Phòng, chống dịch"):
        assert find_units(phrase) == []


def test_generic_groups_and_enumerations() -> None:
    assert is_generic("các ngành, đoàn thể liên quan")
    assert is_generic("cơ quan, đơn vị có liên quan")
    assert not is_generic("UBND các xã, thị trấn")
    assert split_enumeration("Hội Khuyến học xã, Hội Liên hiệp Phụ nữ xã, Đoàn Thanh niên xã") == [
        "Hội Khuyến học xã",
        "Hội Liên hiệp Phụ nữ xã",
        "Đoàn Thanh niên xã",
    ]
    assert split_enumeration("Các sở, ban, ngành, đơn vị có liên quan") == ["Các sở, ban, ngành, đơn vị có liên quan"]
