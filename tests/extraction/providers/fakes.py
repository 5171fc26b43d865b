"""Fake vendor endpoints on 127.0.0.1 speaking each vendor's wire format, for the real SDK clients.

A :class:`FakeVendor` is a threaded stdlib HTTP server that answers POSTs from a queue of scripted
:class:`Reply` objects (status, headers, a body or a list of chunks streamed one by one, an optional delay)
and records every request, so a test can script "429, 429, then an answer" and count what arrived. The
builders below produce the bodies: Anthropic Messages (JSON and SSE), Bedrock Converse (JSON, and the AWS
event-stream binary framing of ConverseStream) and OpenAI Chat Completions (JSON and SSE).
"""

from __future__ import annotations

import json
import struct
import threading
import zlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TOOL = "record_refund_terms"


@dataclass
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    # When set, sent one after the other without a Content-Length; the connection closes at the end.
    chunks: list[bytes] | None = None
    # Seconds to wait before answering (a stalled server); cut short when the server stops.
    delay: float = 0.0


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


def json_reply(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Reply:
    return Reply(
        status, {"content-type": "application/json", **(headers or {})}, json.dumps(payload).encode()
    )


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients hang up on purpose here (an oversized body, a timeout): nothing to report."""


class FakeVendor:
    """`with FakeVendor() as vendor: vendor.script(reply, ...)`; `vendor.url`; `vendor.requests`."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self._replies: deque[Reply] = deque()
        self._stopping = threading.Event()
        vendor = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length)
                vendor.requests.append(
                    Request(
                        self.path, {k.lower(): v for k, v in self.headers.items()}, json.loads(raw or b"{}")
                    )
                )
                reply = vendor._next_reply()
                if reply.delay and vendor._stopping.wait(reply.delay):
                    return
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                if reply.chunks is None:
                    self.send_header("content-length", str(len(reply.body)))
                    self.end_headers()
                    self.wfile.write(reply.body)
                    return
                self.send_header("connection", "close")
                self.end_headers()
                self.close_connection = True
                for chunk in reply.chunks:
                    self.wfile.write(chunk)
                    self.wfile.flush()

        self._server = _QuietServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def script(self, *replies: Reply) -> None:
        self._replies.extend(replies)

    def _next_reply(self) -> Reply:
        if self._replies:
            return self._replies.popleft()
        return json_reply({"message": "the test scripted no reply for this request"}, status=418)

    def __enter__(self) -> FakeVendor:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()


def answer(
    premium: tuple[str | None, str | None, float] = ("1250.00", "GAP Waiver Charge: $1,250.00", 95),
    method: tuple[str | None, str | None, float] = ("Pro-Rata", "refunded on a pro rata basis", 90),
    fee: tuple[str | None, str | None, float] = ("50.00", "A $50 cancellation fee will be retained.", 88),
    term: tuple[str | None, str | None, float] = ("72", "Term: 72 months", 92),
    state: tuple[str | None, str | None, float] = ("OH", "governed by the laws of the State of Ohio", 90),
    apr: tuple[str | None, str | None, float] = (None, None, 85),
) -> dict[str, Any]:
    """The tool input / structured output a well-behaved model returns (the documents state no APR)."""
    return {
        name: {"value": value, "quote": quote, "confidence": confidence}
        for name, (value, quote, confidence) in (
            ("gap_insurance_premium", premium),
            ("refund_calculation_method", method),
            ("cancellation_fee", fee),
            ("term_months", term),
            ("governing_state", state),
            ("apr", apr),
        )
    }


def sse(events: list[tuple[str | None, Any]]) -> list[bytes]:
    """Server-sent events; a None event name writes a bare ``data:`` line (OpenAI's style)."""
    chunks = []
    for name, data in events:
        text = data if isinstance(data, str) else json.dumps(data)
        chunks.append((f"event: {name}\n" if name else "").encode() + f"data: {text}\n\n".encode())
    return chunks


# --- Anthropic Messages API ------------------------------------------------------------------------------
ANTHROPIC_MODEL = "claude-sonnet-4-6"


def anthropic_message(
    content: list[dict[str, Any]],
    *,
    input_tokens: int = 1200,
    output_tokens: int = 150,
    stop_reason: str = "tool_use",
) -> Reply:
    return json_reply(
        {
            "id": "msg_01",
            "type": "message",
            "role": "assistant",
            "model": ANTHROPIC_MODEL,
            "content": content,
            "stop_reason": stop_reason,
            "stop_sequence": None,
            "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens},
        }
    )


def anthropic_tool_answer(tool_input: Any, **usage: Any) -> Reply:
    return anthropic_message(
        [{"type": "tool_use", "id": "toolu_01", "name": TOOL, "input": tool_input}], **usage
    )


def anthropic_error(status: int, kind: str, message: str, headers: dict[str, str] | None = None) -> Reply:
    return json_reply({"type": "error", "error": {"type": kind, "message": message}}, status, headers)


def anthropic_stream(
    texts: list[str], *, input_tokens: int = 25, output_tokens: int = 12, tool_json: list[str] | None = None
) -> Reply:
    """A streamed message: optionally a tool_use block filled by input_json_delta, then a text block."""
    events: list[tuple[str | None, Any]] = [
        (
            "message_start",
            {
                "type": "message_start",
                "message": {
                    "id": "msg_02",
                    "type": "message",
                    "role": "assistant",
                    "model": ANTHROPIC_MODEL,
                    "content": [],
                    "stop_reason": None,
                    "stop_sequence": None,
                    "usage": {"input_tokens": input_tokens, "output_tokens": 1},
                },
            },
        ),
    ]
    index = 0
    if tool_json is not None:
        events.append(
            (
                "content_block_start",
                {
                    "type": "content_block_start",
                    "index": index,
                    "content_block": {"type": "tool_use", "id": "toolu_02", "name": TOOL, "input": {}},
                },
            )
        )
        events.extend(
            (
                "content_block_delta",
                {
                    "type": "content_block_delta",
                    "index": index,
                    "delta": {"type": "input_json_delta", "partial_json": part},
                },
            )
            for part in tool_json
        )
        events.append(("content_block_stop", {"type": "content_block_stop", "index": index}))
        index += 1
    events.append(
        (
            "content_block_start",
            {"type": "content_block_start", "index": index, "content_block": {"type": "text", "text": ""}},
        )
    )
    events.extend(
        (
            "content_block_delta",
            {"type": "content_block_delta", "index": index, "delta": {"type": "text_delta", "text": text}},
        )
        for text in texts
    )
    events += [
        ("content_block_stop", {"type": "content_block_stop", "index": index}),
        (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                "usage": {"output_tokens": output_tokens},
            },
        ),
        ("message_stop", {"type": "message_stop"}),
    ]
    return Reply(headers={"content-type": "text/event-stream"}, chunks=sse(events))


# --- Bedrock Converse -------------------------------------------------------------------------------------
BEDROCK_MODEL = "anthropic.claude-3-5-sonnet-20240620-v1:0"


def bedrock_converse(
    content: list[dict[str, Any]],
    *,
    input_tokens: int = 1300,
    output_tokens: int = 160,
    stop_reason: str = "tool_use",
) -> Reply:
    return json_reply(
        {
            "output": {"message": {"role": "assistant", "content": content}},
            "stopReason": stop_reason,
            "usage": {
                "inputTokens": input_tokens,
                "outputTokens": output_tokens,
                "totalTokens": input_tokens + output_tokens,
            },
            "metrics": {"latencyMs": 812},
        }
    )


def bedrock_tool_answer(tool_input: Any, **usage: Any) -> Reply:
    return bedrock_converse(
        [{"toolUse": {"toolUseId": "tooluse_01", "name": TOOL, "input": tool_input}}], **usage
    )


def bedrock_error(status: int, code: str, message: str) -> Reply:
    return json_reply(
        {"message": message}, status, {"x-amzn-errortype": f"{code}:http://internal.amazon.com/"}
    )


def _header(name: str, value: str) -> bytes:
    encoded = value.encode()
    return bytes([len(name)]) + name.encode() + b"\x07" + struct.pack(">H", len(encoded)) + encoded


def event_frame(headers: dict[str, str], payload: bytes) -> bytes:
    """One AWS event-stream message: prelude (total length, headers length, CRC32), headers, payload, CRC32."""
    header_bytes = b"".join(_header(name, value) for name, value in headers.items())
    total = 12 + len(header_bytes) + len(payload) + 4
    prelude = struct.pack(">II", total, len(header_bytes))
    prelude += struct.pack(">I", zlib.crc32(prelude))
    message = prelude + header_bytes + payload
    return message + struct.pack(">I", zlib.crc32(message))


def bedrock_event(event_type: str, body: dict[str, Any]) -> bytes:
    headers = {":event-type": event_type, ":content-type": "application/json", ":message-type": "event"}
    return event_frame(headers, json.dumps(body).encode())


def bedrock_exception(exception_type: str, message: str) -> bytes:
    headers = {
        ":exception-type": exception_type,
        ":content-type": "application/json",
        ":message-type": "exception",
    }
    return event_frame(headers, json.dumps({"message": message}).encode())


def bedrock_stream(
    texts: list[str], *, input_tokens: int = 30, output_tokens: int = 14, then: list[bytes] | None = None
) -> Reply:
    frames = [bedrock_event("messageStart", {"role": "assistant"})]
    frames += [
        bedrock_event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": t}}) for t in texts
    ]
    if then is not None:
        frames += then
    else:
        frames += [
            bedrock_event("contentBlockStop", {"contentBlockIndex": 0}),
            bedrock_event("messageStop", {"stopReason": "end_turn"}),
            bedrock_event(
                "metadata",
                {
                    "usage": {
                        "inputTokens": input_tokens,
                        "outputTokens": output_tokens,
                        "totalTokens": input_tokens + output_tokens,
                    },
                    "metrics": {"latencyMs": 120},
                },
            ),
        ]
    return Reply(headers={"content-type": "application/vnd.amazon.eventstream"}, chunks=frames)


# --- OpenAI Chat Completions ------------------------------------------------------------------------------
OPENAI_MODEL = "gpt-4o-mini-2024-07-18"


def openai_completion(
    content: str | None,
    *,
    prompt_tokens: int = 1100,
    completion_tokens: int = 140,
    finish_reason: str = "stop",
    refusal: str | None = None,
) -> Reply:
    return json_reply(
        {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 1_700_000_000,
            "model": OPENAI_MODEL,
            "choices": [
                {
                    "index": 0,
                    "finish_reason": finish_reason,
                    "logprobs": None,
                    "message": {"role": "assistant", "content": content, "refusal": refusal},
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }
    )


def openai_answer(structured: Any, **usage: Any) -> Reply:
    return openai_completion(structured if isinstance(structured, str) else json.dumps(structured), **usage)


def openai_error(status: int, kind: str, message: str, headers: dict[str, str] | None = None) -> Reply:
    return json_reply(
        {"error": {"message": message, "type": kind, "param": None, "code": kind}}, status, headers
    )


def openai_stream(texts: list[str], *, prompt_tokens: int = 40, completion_tokens: int = 9) -> Reply:
    def chunk(choices: list[dict[str, Any]], usage: dict[str, int] | None = None) -> dict[str, Any]:
        return {
            "id": "chatcmpl-2",
            "object": "chat.completion.chunk",
            "created": 1_700_000_000,
            "model": OPENAI_MODEL,
            "choices": choices,
            "usage": usage,
        }

    events: list[tuple[str | None, Any]] = [
        (None, chunk([{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]))
    ]
    events += [(None, chunk([{"index": 0, "delta": {"content": t}, "finish_reason": None}])) for t in texts]
    events.append((None, chunk([{"index": 0, "delta": {}, "finish_reason": "stop"}])))
    events.append(
        (
            None,
            chunk(
                [],
                {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": completion_tokens,
                    "total_tokens": prompt_tokens + completion_tokens,
                },
            ),
        )
    )
    events.append((None, "[DONE]"))
    return Reply(headers={"content-type": "text/event-stream"}, chunks=sse(events))


# --- one table for what the tests ask of every vendor ----------------------------------------------------
@dataclass(frozen=True)
class VendorKit:
    name: str
    model: str
    path: str
    answer: Callable[..., Reply]
    chat: Callable[[list[str]], Reply]
    rate_limited: Callable[[], Reply]
    server_error: Callable[[], Reply]
    rejected: Callable[[], Reply]


KITS: dict[str, VendorKit] = {
    "anthropic": VendorKit(
        name="anthropic",
        model=ANTHROPIC_MODEL,
        path="/v1/messages",
        answer=anthropic_tool_answer,
        chat=anthropic_stream,
        rate_limited=lambda: anthropic_error(
            429, "rate_limit_error", "Rate limit exceeded", {"retry-after": "2"}
        ),
        server_error=lambda: anthropic_error(529, "overloaded_error", "Overloaded"),
        rejected=lambda: anthropic_error(401, "authentication_error", "invalid x-api-key"),
    ),
    "bedrock": VendorKit(
        name="bedrock",
        model=BEDROCK_MODEL,
        path="/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse",
        answer=bedrock_tool_answer,
        chat=bedrock_stream,
        rate_limited=lambda: bedrock_error(429, "ThrottlingException", "Too many requests, please wait."),
        server_error=lambda: bedrock_error(500, "InternalServerException", "Internal server error"),
        rejected=lambda: bedrock_error(403, "AccessDeniedException", "You don't have access to the model"),
    ),
    "openai": VendorKit(
        name="openai",
        model=OPENAI_MODEL,
        path="/v1/chat/completions",
        answer=openai_answer,
        chat=openai_stream,
        rate_limited=lambda: openai_error(
            429, "rate_limit_exceeded", "Rate limit reached", {"retry-after-ms": "1500"}
        ),
        server_error=lambda: openai_error(503, "server_error", "The server is overloaded"),
        rejected=lambda: openai_error(401, "invalid_api_key", "Incorrect API key provided"),
    ),
}


def point_vendors_at(monkeypatch: Any, url: str) -> None:
    """Keys and endpoints for all three SDKs, by each SDK's standard variables, aimed at a fake vendor."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_BEDROCK_RUNTIME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("OPENAI_BASE_URL", f"{url}/v1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("BEDROCK_ENDPOINT_URL", url)
