"""Who the token belongs to."""

from __future__ import annotations

from typing import Any

from tracker.blueprints.api.common import ApiBlueprint, actor
from tracker.schemas.people import PersonSchema

blp = ApiBlueprint("api_me", __name__, url_prefix="/api/v1/me", section="Tài khoản của tôi (Me)",
                   description="Người sở hữu mã truy cập. — The person the token belongs to.")


@blp.route("", methods=["GET"])
@blp.response(200, PersonSchema)
def get_me() -> Any:
    """The person making the request, with their roles and units."""
    return actor()
