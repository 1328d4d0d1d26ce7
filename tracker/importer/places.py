"""Place names from the `vietnam-provinces` package: which names are provinces, which are communes.

Documents name the issuer by level and place ("UBND thành phố Cần Thơ", "UBND tỉnh Sơn La"). "Thành phố"
is a province for the centrally governed cities and a district for a provincial city before July 2025;
the package's list of today's provinces tells them apart without a hand-kept spelling list.
"""

from __future__ import annotations

from functools import cache

from tracker.importer.textnorm import lower_key

# Centrally governed cities that the 2025 merger folded into others keep their name in older documents.
_FORMER_CENTRAL_CITIES = frozenset({"hà nội", "hồ chí minh", "hải phòng", "đà nẵng", "cần thơ", "huế"})


def _bare(name: str) -> str:
    key = lower_key(name)
    for prefix in ("thành phố ", "tỉnh ", "tp. ", "tp "):
        if key.startswith(prefix):
            key = key[len(prefix) :]
    return key.strip()


@cache
def _province_names() -> frozenset[str]:
    from vietnam_provinces import Province

    return frozenset(_bare(p.name) for p in Province.iter_all()) | _FORMER_CENTRAL_CITIES


@cache
def _central_cities() -> frozenset[str]:
    from vietnam_provinces import Province

    names = {_bare(p.name) for p in Province.iter_all() if p.division_type.value == "thành phố trung ương"}
    return frozenset(names) | _FORMER_CENTRAL_CITIES


def is_central_city(name: str) -> bool:
    """Tell whether a "thành phố" is a centrally governed city (a province: Hồ Chí Minh, Cần Thơ, Huế...)
    rather than a provincial city, a district before July 2025 ("thành phố Hưng Yên")."""
    return _bare(name) in _central_cities()


def is_province(name: str) -> bool:
    """Tell whether `name` is one of today's provinces or centrally governed cities."""
    return _bare(name) in _province_names()
