"""A consumer process for the SIGKILL test (run as a script, not collected by pytest).

Its handler applies each event's effect at most once, keyed by event id in SQLite, and
logs every attempt. With ``--block-id`` it hangs forever on the first delivery of that
event, so the test can kill it mid-handler.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import sys
from pathlib import Path

from berth_common.bus import Bus, Context, StreamConfig
from berth_common.events import MessageSpec, Registry
from pydantic import BaseModel


class Ping(BaseModel):
    n: int
    note: str = ""


def open_db(path: str) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None, timeout=10)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE IF NOT EXISTS effects (id TEXT PRIMARY KEY, pid INTEGER)")
    db.execute("CREATE TABLE IF NOT EXISTS attempts (id TEXT, pid INTEGER, delivery INTEGER)")
    return db


async def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--tag", required=True)
    p.add_argument("--db", required=True)
    p.add_argument("--ready", required=True)
    p.add_argument("--block-id", default="")
    args = p.parse_args()

    reg = Registry()
    reg.register(MessageSpec(f"berth.{args.tag}.ping.v1", "event", f"berth.evt.{args.tag}.ping", Ping, ""))
    db = open_db(args.db)
    bus = Bus(service=f"{args.tag}-svc", registry=reg, streams=StreamConfig(events_max_age=3600))

    @bus.handler(Ping, ack_wait=2, concurrency=4)
    async def on_ping(msg: Ping, ctx: Context) -> None:
        eid = ctx.envelope.id
        db.execute("INSERT INTO attempts VALUES (?, ?, ?)", (eid, os.getpid(), ctx.delivery))
        if eid == args.block_id and ctx.delivery == 1:
            await asyncio.to_thread(Path(args.ready).with_suffix(".blocked").write_text, eid)
            await asyncio.sleep(3600)
        db.execute("BEGIN IMMEDIATE")
        if db.execute("SELECT 1 FROM effects WHERE id = ?", (eid,)).fetchone() is None:
            db.execute("INSERT INTO effects VALUES (?, ?)", (eid, os.getpid()))
        db.execute("COMMIT")

    await bus.connect(servers=[args.url], max_wait=10)
    await bus.provision()
    await bus.start()
    await asyncio.to_thread(Path(args.ready).write_text, str(os.getpid()))
    await asyncio.Event().wait()


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
