"""What each office may publish and subscribe to on the server, derived from the directory.

An office publishes only as itself and only to offices that exist: one allow entry
`mesh.v1.direct.<self>.<recipient>` per office in the directory, not `<self>.*` (its own subject
included: the GS addresses its own key rotation to itself). A wildcard
let an insider store anything under a recipient nobody consumes (300 MB in 1.4 s, kept for the
stream's whole retention); now the server refuses such a publish as a permissions violation, and
every subject it accepts has a provisioned consumer. It reads only its own durable consumer and
receives replies only on its own inbox prefix. Only the GS publishes notice events (one subject
per office it may address) and the key directory. An NCB publishes its online searches on its own search subject; only the GS
subscribes to them and answers each on its reply subject (`allow_responses`). Stream and consumer
creation is the admin's (`up`, provisioning).
"""

from __future__ import annotations

from interpol_mesh.bus import subjects
from interpol_mesh.bus.streams import StreamPlan
from interpol_mesh.directory import Directory, Office, office_name


def inbox_prefix(office_id: str) -> str:
    return f"_INBOX_{office_name(office_id, 'subject')}"


def permissions_for(office: Office, directory: Directory) -> dict[str, list[str]]:
    consumer = subjects.consumer_name(office.id)
    # The same on one server and in the supercluster: the key directory is public, so an office
    # may read both the origin and its region's mirror, whichever the topology gives it.
    single, regions = StreamPlan(directory, "single"), StreamPlan(directory, "regions")
    stream = single.inbox_stream(office.id)
    publish = [subjects.direct(office.id, recipient) for recipient in sorted(directory.offices)]
    publish += [
        f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{consumer}",
        f"$JS.ACK.{stream}.{consumer}.>",
        f"$JS.API.CONSUMER.INFO.{stream}.{consumer}",
        *sorted({f"$JS.API.STREAM.MSG.GET.{plan.key_stream(office.id)}" for plan in (single, regions)}),
        "$JS.API.INFO",
    ]
    if office.id == subjects.NOTICE_SENDER:
        # Any office may request a notice and so receive its events; the GS itself never does.
        publish += [subjects.notice(o) for o in sorted(directory.offices) if o != office.id]
        publish.append(subjects.KEY_DIRECTORY_SUBJECT)
    subscribe = [f"{inbox_prefix(office.id)}.>", subjects.KEY_DIRECTORY_SUBJECT]
    if office.kind == "ncb":
        publish.append(subjects.search(office.id))  # online searches, as itself only
    if office.id == subjects.SEARCH_RESPONDER:
        subscribe.append(subjects.SEARCH_WILDCARD)
    return {"publish": publish, "subscribe": subscribe}


# The search responder publishes a result only on the reply subject of a request it received,
# once and within this time (nats-server `allow_responses`): it cannot write to an inbox unasked.
RESPONSES = {"max": 1, "expires": "10s"}


def responses_for(office: Office) -> dict[str, object] | None:
    return RESPONSES if office.id == subjects.SEARCH_RESPONDER else None
