"""Adapters from outside formats into contract events, by name (``hongmao ingest --from NAME``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from hongmao.ingestion.readers import RawRecord

ADAPTERS: dict[str, str] = {
    "taobao-userbehavior": "Taobao UserBehavior CSV (user_id,item_id,category_id,behavior_type,timestamp)",
}


def get_adapter(name: str, key: str) -> Callable[[str], Iterator[RawRecord]]:
    from hongmao.errors import InputError

    if name == "taobao-userbehavior":
        from hongmao.ingestion.adapters.taobao import adapter

        return adapter(key)
    raise InputError(f"unknown adapter {name!r}; known: {', '.join(ADAPTERS)}")
