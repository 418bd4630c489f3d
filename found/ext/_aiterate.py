"""One ``async for`` over either an async or a plain iterable."""


async def aiterate(iterable):
    """Yield the items of ``iterable``, async (``__aiter__``) or plain."""
    if hasattr(iterable, "__aiter__"):
        async for item in iterable:
            yield item
    else:
        for item in iterable:
            yield item
