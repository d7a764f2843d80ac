"""Text with a NUL (U+0000) is refused at the API with the field named: PostgreSQL cannot store it."""

from __future__ import annotations

from conftest import MeshFactory
from test_notices import red


async def test_a_nul_in_any_text_is_a_422_naming_the_field_not_a_failed_commit(make_mesh: MeshFactory) -> None:
    mesh = make_mesh()
    await mesh.start("ncb.fr")
    client = mesh.client("ncb.fr")
    cases = [
        ("/v1/notice-requests", {"body": red(title="a\x00b")}, "title"),
        ("/v1/notice-requests", {"body": red(person={"family_name": "X", "identity_documents": ["P\x001"]})}, "identity_documents"),
        ("/v1/messages", {"recipients": ["ncb.de"], "body": {"title": "t", "text": "x\x00"}}, "text"),
    ]  # fmt: skip
    for path, payload, field in cases:
        response = await client.post(path, json=payload)
        assert response.status_code == 422, response.text
        assert f"{field}: text may not contain a NUL" in response.text
    assert (await client.get("/v1/inbox")).status_code == 200  # the office still serves
