"""What each office may publish and subscribe to on the server, derived from the directory.

An office publishes only as itself (`mesh.v1.direct.<self>.*`), reads only its own durable
consumer, and receives replies only on its own inbox prefix. Only the GS publishes notice
events and the key directory. Stream and consumer creation is the admin's (`up`, provisioning).
"""

from __future__ import annotations

from interpol_mesh.bus import subjects
from interpol_mesh.directory import Office, office_token


def inbox_prefix(office_id: str) -> str:
    return f"_INBOX_{office_token(office_id)}"


def permissions_for(office: Office) -> dict[str, list[str]]:
    token = office.token
    consumer = subjects.consumer_name(office.id)
    stream = subjects.DIRECT_STREAM
    publish = [
        f"{subjects.PREFIX}.direct.{token}.*",
        f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{consumer}",
        f"$JS.ACK.{stream}.{consumer}.>",
        f"$JS.API.CONSUMER.INFO.{stream}.{consumer}",
        f"$JS.API.STREAM.MSG.GET.{subjects.KEYS_STREAM}",
        "$JS.API.INFO",
    ]
    if office.id == subjects.NOTICE_SENDER:
        publish += [f"{subjects.PREFIX}.notice.*", subjects.KEY_DIRECTORY_SUBJECT]
    subscribe = [f"{inbox_prefix(office.id)}.>", subjects.KEY_DIRECTORY_SUBJECT]
    return {"publish": publish, "subscribe": subscribe}
