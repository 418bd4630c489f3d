"""Optional dependencies: a missing one is reported with the extra that installs it."""

__all__ = ["missing_extra"]


def missing_extra(exc: ModuleNotFoundError, extra: str, feature: str) -> ModuleNotFoundError:
    """The error to raise (``from exc``) when ``feature`` cannot import an optional dependency.

    Usage::

        try:
            import zstandard
        except ModuleNotFoundError as _missing:
            raise missing_extra(_missing, "pstore", "found.ext.pstore") from _missing
    """
    package = (exc.name or "?").split(".")[0]  # uvicorn, not uvicorn.protocols
    return ModuleNotFoundError(
        "%s needs the %s package, which is not installed: pip install 'found[%s]'" % (feature, package, extra),
        name=package,
    )
