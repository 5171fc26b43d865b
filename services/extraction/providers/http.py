"""What the two HTTP SDKs (anthropic, openai) share: a bound on response size, and the meaning of failures.

Both SDKs run on httpx2 and raise the same family of errors (they come from one generator), so one
response hook caps what is read and one function turns their errors into :class:`ProviderError` types.

The cap is applied while the body arrives: a declared ``Content-Length`` above it is refused before a byte
of the body is read, and a body without one is counted chunk by chunk and abandoned as soon as it passes
the cap, so a 50 MB answer costs at most the cap plus one network chunk of memory and is never parsed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from types import ModuleType
from typing import Any

import httpx2

from services.extraction.providers.base import (
    MAX_ANSWER_BYTES,
    MAX_STREAM_BYTES,
    PROVIDER_LABELS,
    MalformedAnswer,
    ProviderError,
    ProviderRejected,
    ProviderTimeout,
    ProviderUnavailable,
)

# A vendor asking for a longer pause than this is better treated as down (the breaker takes over).
MAX_RETRY_AFTER_S = 60.0
# HTTP statuses worth a second try: request timeout, lock conflict, rate limit, overloaded, server errors.
_RETRYABLE_STATUS = frozenset({408, 409, 429})
_RETRYABLE_TYPES = frozenset(
    {"overloaded_error", "rate_limit_error", "api_error", "timeout_error", "server_error"}
)


class AnswerTooLarge(Exception):
    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"more than {limit:,} bytes (at least {size:,} received)")
        self.size = size
        self.limit = limit


class _CappedStream(httpx2.AsyncByteStream):
    def __init__(self, stream: httpx2.AsyncByteStream, limit: int) -> None:
        self._stream = stream
        self._limit = limit

    async def __aiter__(self) -> AsyncIterator[bytes]:
        seen = 0
        async for chunk in self._stream:
            seen += len(chunk)
            if seen > self._limit:
                raise AnswerTooLarge(seen, self._limit)
            yield chunk

    async def aclose(self) -> None:
        await self._stream.aclose()


async def cap_response_size(response: httpx2.Response) -> None:
    """httpx2 response hook: refuse or cut off a body larger than an answer can be."""
    streamed = response.headers.get("content-type", "").startswith("text/event-stream")
    limit = MAX_STREAM_BYTES if streamed else MAX_ANSWER_BYTES
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise AnswerTooLarge(int(declared), limit)
    if isinstance(response.stream, httpx2.AsyncByteStream):
        response.stream = _CappedStream(response.stream, limit)


def _cause(exc: BaseException, kind: type[BaseException]) -> BaseException | None:
    """The first exception of ``kind`` in the chain (SDKs wrap transport failures in their own errors)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, kind):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """The pause a vendor asks for (``retry-after-ms`` or ``retry-after`` in seconds), if any."""
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        try:
            value = float(headers.get(name, "")) * scale
        except ValueError:
            continue
        if value >= 0:
            return min(value, MAX_RETRY_AFTER_S)
    return None


def _vendor_error(exc: Any) -> tuple[str, str]:
    """The vendor's error type and sentence from an error body (``{"error": {"type", "message"}}``)."""
    body = exc.body
    inner = body.get("error", body) if isinstance(body, Mapping) else None
    details = inner if isinstance(inner, Mapping) else {}
    message = " ".join(str(details.get("message") or exc.message).split())[:300]
    return str(details.get("type") or ""), message


def http_sdk_error(provider: str, exc: Exception, sdk: ModuleType, *, timeout: float) -> ProviderError:
    """The provider error an anthropic or openai SDK failure (or a raw httpx2 one mid-stream) means."""
    label = PROVIDER_LABELS[provider]
    too_large = _cause(exc, AnswerTooLarge)
    if too_large is not None:
        return MalformedAnswer(provider, f"{label}'s answer was refused: {too_large}")
    if isinstance(exc, sdk.APITimeoutError | httpx2.TimeoutException):
        return ProviderTimeout(provider, f"{label} did not answer within {timeout:g} s")
    if isinstance(exc, sdk.APIStatusError):
        status = exc.status_code
        kind, detail = _vendor_error(exc)
        # An error event in the middle of a stream arrives with the stream's HTTP 200: its type says more.
        where = f"{kind or 'error'} in the stream" if status < 300 else f"HTTP {status}"
        if status in _RETRYABLE_STATUS or status >= 500 or kind in _RETRYABLE_TYPES:
            what = "is rate limiting requests" if status == 429 else "failed"
            return ProviderUnavailable(
                provider,
                f"{label} {what} ({where}): {detail}",
                retry_after=retry_after_seconds(exc.response.headers),
            )
        return ProviderRejected(provider, f"{label} refused the request ({where}): {detail}")
    if isinstance(exc, sdk.APIConnectionError | httpx2.TransportError):
        cause = exc.__cause__ or exc
        return ProviderUnavailable(provider, f"{label} cannot be reached ({type(cause).__name__}: {cause})")
    # APIResponseValidationError, a body that is not JSON, anything else the SDK could not make sense of.
    return MalformedAnswer(
        provider, f"{label}'s answer could not be read ({type(exc).__name__}: {exc})"[:500]
    )
