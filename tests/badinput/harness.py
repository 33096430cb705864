"""A service served in-process on a background event loop, for synchronous hypothesis tests.

Hypothesis drives plain (sync) test functions; each example submits one coroutine to the
module's loop thread and waits for it with a bound, so a hung RPC fails the example instead
of hanging the run. Every RPC is made with a deadline, and the helpers here turn its answer
into an `Answer` the properties assert on.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import grpc
from google.protobuf.message_factory import GetMessageClass

from observability.grpc_server import ServerTelemetry
from service_runtime.grpc_errors import FieldViolation, field_violations
from service_runtime.undecodable import refuse_undecodable
from service_runtime.wrapping_server import WrappingServer

DEADLINE_SECONDS = 5.0  # every RPC's deadline; far above what any answer here needs
WAIT_SECONDS = 20.0  # the test gives up on the loop thread after this (a hang is a failure)
NEVER = (grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN, grpc.StatusCode.DEADLINE_EXCEEDED)
T = TypeVar("T")


@dataclass
class Answer:
    """What an RPC answered: its status, field violations, details and (when OK) reply."""

    code: grpc.StatusCode
    details: str = ""
    violations: list[FieldViolation] = field(default_factory=list)
    reply: Any = None

    @property
    def fields(self) -> list[str]:
        return [name for name, _ in self.violations]


class LoopThread:
    """An asyncio loop running in a daemon thread; `run` waits for a coroutine on it."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float = WAIT_SECONDS) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=WAIT_SECONDS)
        self.loop.close()


class Served:
    """A grpc.aio server on 127.0.0.1:0 (registered by `register`) and a channel to it."""

    def __init__(self, register: Callable[[grpc.aio.Server], None]) -> None:
        # the handler wrappers every service runs with (spans, metrics, undecodable requests)
        self.server = WrappingServer([ServerTelemetry(), refuse_undecodable])
        register(self.server)
        self.port = self.server.add_insecure_port("127.0.0.1:0")
        self.channel: grpc.aio.Channel | None = None

    async def start(self) -> grpc.aio.Channel:
        await self.server.start()
        self.channel = grpc.aio.insecure_channel(f"127.0.0.1:{self.port}")
        return self.channel

    async def stop(self) -> None:
        if self.channel is not None:
            await self.channel.close()
        await self.server.stop(None)


def _error_answer(error: grpc.aio.AioRpcError) -> Answer:
    return Answer(error.code(), error.details() or "", field_violations(error))


async def unary(method: Callable[..., Awaitable[Any]], request: Any) -> Answer:
    """Call a unary RPC with the deadline; OK or the error's status and violations."""
    try:
        reply = await method(request, timeout=DEADLINE_SECONDS)
    except grpc.aio.AioRpcError as e:
        return _error_answer(e)
    return Answer(grpc.StatusCode.OK, reply=reply)


async def first_of_stream(method: Callable[..., Any], request: Any, *, read: bool) -> Answer:
    """Open a server stream with the deadline; a bad request fails it at once. A good one
    answers its headers (and, with `read`, a first event); then the stream is cancelled."""
    call = method(request, timeout=DEADLINE_SECONDS)
    reply = None
    try:
        await call.initial_metadata()
        if read or call.done():
            reply = await call.read()
        if reply is grpc.aio.EOF:
            return Answer(await call.code(), await call.details() or "")
    except grpc.aio.AioRpcError as e:
        return _error_answer(e)
    finally:
        call.cancel()
    return Answer(grpc.StatusCode.OK, reply=reply)


async def raw_unary(channel: grpc.aio.Channel, path: str, payload: bytes) -> Answer:
    """Send bytes that may not be a protobuf message at all (no serializer)."""
    method = channel.unary_unary(path, request_serializer=None, response_deserializer=None)
    return await unary(method, payload)


def names(answer: Answer, field_path: str) -> bool:
    """True when a violation names `field_path` or something inside it (`x[1]`, `x.y`)."""
    return any(
        name == field_path or name.startswith((f"{field_path}[", f"{field_path}."))
        for name in answer.fields
    )


def assert_never_a_bug(answer: Answer) -> None:
    """The status a caller can act on: no INTERNAL/UNKNOWN, no hang; violations with
    every INVALID_ARGUMENT."""
    assert answer.code not in NEVER, (answer.code, answer.details)
    if answer.code == grpc.StatusCode.INVALID_ARGUMENT:
        assert answer.violations, f"INVALID_ARGUMENT without field violations: {answer.details}"


def assert_rejected(
    answer: Answer,
    fields: Iterable[str],
    allowed: Sequence[grpc.StatusCode] = (grpc.StatusCode.INVALID_ARGUMENT,),
) -> None:
    """Rejected with an allowed status; INVALID_ARGUMENT names one of `fields`."""
    assert_never_a_bug(answer)
    wanted = list(fields)
    assert answer.code in allowed, (answer.code, answer.details, wanted)
    if answer.code == grpc.StatusCode.INVALID_ARGUMENT:
        assert any(names(answer, f) for f in wanted), (answer.violations, wanted)


def rpc_methods(service: Any) -> dict[str, tuple[Any, bool]]:
    """{method name: (request class, server-streaming)} of a service descriptor."""
    return {m.name: (GetMessageClass(m.input_type), m.server_streaming) for m in service.methods}


async def raw_call(channel: grpc.aio.Channel, service: Any, name: str, payload: bytes) -> Answer:
    """Send `payload` as the request of `service`/`name`, even if it is not a protobuf
    message at all; a stream is answered by its headers (or first event) or its error."""
    path = f"/{service.full_name}/{name}"
    if rpc_methods(service)[name][1]:
        stream = channel.unary_stream(path, request_serializer=None, response_deserializer=None)
        return await first_of_stream(stream, payload, read=False)
    method = channel.unary_unary(path, request_serializer=None, response_deserializer=None)
    return await unary(method, payload)


def assert_undecodable_refused(answer: Answer) -> None:
    """Bytes that are not the request message are refused at once with INVALID_ARGUMENT
    and a violation on the whole request (service_runtime.undecodable), not grpc.aio's
    UNKNOWN; never OK, never a hang, never INTERNAL."""
    assert answer.code == grpc.StatusCode.INVALID_ARGUMENT, (answer.code, answer.details)
    assert [f for f, _ in answer.violations] == [""], answer.violations


def check_raw_requests(
    loop: LoopThread, channel: grpc.aio.Channel, service: Any, name: str, payload: bytes
) -> Answer:
    """Send `payload` to one RPC: undecodable bytes must be refused (see above), bytes that
    decode (e.g. only unknown fields) answered without a bug."""
    request_type = rpc_methods(service)[name][0]
    answer = loop.run(raw_call(channel, service, name, payload))
    try:
        request_type.FromString(payload)
    except Exception:
        assert_undecodable_refused(answer)
    else:
        assert_never_a_bug(answer)
    return answer
