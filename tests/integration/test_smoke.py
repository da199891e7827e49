from helpdesk.policy import SYSTEM
from helpdesk.schemas import CaseFilter
from helpdesk.services import cases
from tests.factories import make_case


async def test_open_and_list(db):
    case = await make_case()
    assert case.reference == "HD-000001"
    page = await cases.list_cases(SYSTEM, CaseFilter())
    assert [c.id for c in page.items] == [case.id]
    assert db.types(f"case:{case.id}") == ["case.message_added", "case.opened"]
