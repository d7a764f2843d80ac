"""Does a hit report name a notice the CCC can confirm? Checked against the CCC's own copies.

A signed hit report proves only who sent it: an insider holding one NCB's key can sign any body
over the bus, bypassing the NCB API's own check. The GS sends every published notice to the CCC
(`notices/distribution.py`), so the CCC confirms the report against its copy: the notice exists,
is still published, has the type and the requesting office the report states, and was sent to
the reporting office. A report that fails is still a possible real event (a notice published
before the CCC held copies, a clerical error at the NCB), so it is not dropped: the intake opens
the case at `routine`, marked unconfirmed with the reason, for a human to look at.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncConnection

from interpol_mesh.clock import utc
from interpol_mesh.messages import Distribution, HitReport
from interpol_mesh.messaging import OfficeContext
from interpol_mesh.notices import recipients_for
from interpol_mesh.notices import store as notices

UnconfirmedCode = Literal["notice-unknown", "notice-not-published", "notice-mismatch", "sender-not-recipient"]


@dataclass(frozen=True)
class Unconfirmed:
    """Why the CCC could not confirm the notice a hit report names: a reason code and a sentence."""

    code: UnconfirmedCode
    reason: str


async def unconfirmed(conn: AsyncConnection, ctx: OfficeContext, sender: str, report: HitReport) -> Unconfirmed | None:
    """None when the report matches a published notice sent to `sender`; else the first mismatch found."""
    nid = report.notice_id
    row = await notices.get_notice(conn, nid)
    if row is None:
        return Unconfirmed("notice-unknown", f"the CCC holds no notice {nid}")
    expired = row.expires_at is not None and utc(row.expires_at) <= ctx.clock.now()
    if row.status != "published" or expired:
        return Unconfirmed("notice-not-published", f"notice {nid} is {'expired' if expired else row.status}")
    if (report.notice_type, report.requesting_office) != (row.notice_type, row.requesting_office):
        return Unconfirmed(
            "notice-mismatch",
            f"the report names a {report.notice_type} notice of {report.requesting_office}; "
            f"notice {nid} is a {row.notice_type} notice of {row.requesting_office}",
        )
    distribution = Distribution.model_validate(row.distribution)
    if sender not in recipients_for(distribution, row.requesting_office, ctx.directory):
        return Unconfirmed("sender-not-recipient", f"{sender} was not sent notice {nid} (its distribution excludes it)")
    return None
