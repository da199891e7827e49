"""An address that does not exist under a face answers that face's own 404 page,
with a way back, in the reader's language; elsewhere (the API) a JSON problem."""

from __future__ import annotations

import pytest

from tests.integration.api.conftest import Api
from tests.integration.api.test_console_permissions import console_sign_in


@pytest.mark.parametrize(
    ("url", "way_back", "says"),
    [
        ("/console/khong-co-trang-nay", 'href="/console/"', "Không tìm thấy trang"),
        ("/console/kb/999", 'href="/console/"', "Không tìm thấy trang"),
        ("/support/khong-co", 'href="/support/"', "Quay lại Trung tâm hỗ trợ"),
        ("/support/kb/khong-co", 'href="/support/"', "Quay lại Trung tâm hỗ trợ"),
    ],
)
def test_an_unknown_page_is_the_faces_404_page_with_a_way_back(
    api: Api, url: str, way_back: str, says: str
) -> None:
    console_sign_in(api, "agent_a")

    response = api.client.get(url, headers={"Accept-Language": "vi"})

    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert way_back in response.text
    assert says in response.text


def test_an_unknown_api_address_stays_a_json_problem(api: Api) -> None:
    response = api.get("/api/v1/khong-co")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
