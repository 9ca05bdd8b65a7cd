"""Strict shape checks with the official SDKs' own response types.

Used by anthropic_sdk.py (its drive modes check every raw body and stream
they receive; its `validate` mode checks what a Rust test captured). Not a
client: it parses bytes, it sends nothing.

Strict means: pydantic validation in strict mode of the SDK type (a missing
required field, a wrong type or an unknown `type` tag fails), and no field
the type does not declare (the SDK types accept extra fields silently; a
gateway that invents fields must not pass). Streams are checked as a whole
too: Anthropic's event names equal each event's `type` (the SDK skips data
without an `event:` line), blocks open, get deltas of their own kind and
close in order with consecutive indexes, `message_delta` then
`message_stop` end the stream (or an `error` event does); OpenAI chunks
keep one id, each tool call opens with id, type and name, its arguments
join into JSON, and `data: [DONE]` comes last (or an `event: error`).
"""
import json
from functools import lru_cache

import anthropic.types as at
import pydantic
from anthropic.types.shared import ErrorResponse as AnthropicErrorResponse
from openai.types.chat import ChatCompletion, ChatCompletionChunk
from openai.types.shared import ErrorObject as OpenAIErrorObject


class OpenAIErrorResponse(pydantic.BaseModel):
    """OpenAI's error body: the SDK types only its inner object."""

    model_config = pydantic.ConfigDict(extra="forbid")
    error: OpenAIErrorObject


ANTHROPIC_EVENTS = {
    "message_start": at.RawMessageStartEvent,
    "message_delta": at.RawMessageDeltaEvent,
    "message_stop": at.RawMessageStopEvent,
    "content_block_start": at.RawContentBlockStartEvent,
    "content_block_delta": at.RawContentBlockDeltaEvent,
    "content_block_stop": at.RawContentBlockStopEvent,
}

BODY_TYPES = {
    "anthropic.message": at.Message,
    "anthropic.count_tokens": at.MessageTokensCount,
    "anthropic.error": AnthropicErrorResponse,
    "openai.chat_completion": ChatCompletion,
    "openai.chunk": ChatCompletionChunk,
    "openai.error": OpenAIErrorResponse,
}

# Which delta types each block type takes.
DELTAS_FOR = {
    "text": {"text_delta", "citations_delta"},
    "tool_use": {"input_json_delta"},
    "server_tool_use": {"input_json_delta"},
    "thinking": {"thinking_delta", "signature_delta"},
}


class ShapeError(Exception):
    pass


@lru_cache(maxsize=None)
def adapter(type_):
    return pydantic.TypeAdapter(type_)


def strict(type_, raw):
    """Parses JSON text (or bytes) as `type_`, strictly; raises ShapeError."""
    if not isinstance(raw, (str, bytes)):
        raw = json.dumps(raw)
    try:
        value = adapter(type_).validate_json(raw, strict=True)
    except pydantic.ValidationError as error:
        details = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()[:6]
        )
        raise ShapeError(f"not a {getattr(type_, '__name__', type_)}: {details}") from None
    extras = list(extra_fields(value, ""))
    if extras:
        raise ShapeError(f"fields the SDK type {getattr(type_, '__name__', type_)} does not declare: {', '.join(extras)}")
    return value


def extra_fields(value, path):
    if isinstance(value, pydantic.BaseModel):
        for name in (value.__pydantic_extra__ or {}):
            yield f"{path}.{name}".lstrip(".")
        for name in type(value).model_fields:
            yield from extra_fields(getattr(value, name), f"{path}.{name}")
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from extra_fields(item, f"{path}.{index}")


def parse_models(raw):
    body = json.loads(raw) if isinstance(raw, (str, bytes)) else raw
    if not isinstance(body, dict) or not isinstance(body.get("data"), list):
        raise ShapeError("a model list needs a `data` array")
    for entry in body["data"]:
        strict(at.ModelInfo, entry)
    return {"models": len(body["data"])}


def sse_frames(text):
    """(event name or None, data text or None) per SSE frame, comments dropped."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    for frame in text.split("\n\n"):
        event, data = None, []
        for line in frame.split("\n"):
            if not line or line.startswith(":"):
                continue
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if field == "event":
                event = value
            elif field == "data":
                data.append(value)
        if event is not None or data:
            yield event, ("\n".join(data) if data else None)


def anthropic_sse(text):
    """Checks a whole Anthropic stream body; returns a summary."""
    state = {"started": False, "blocks": [], "open": None, "delta": False, "ended": None, "partial": {}}
    events = 0
    for event, data in sse_frames(text):
        events += 1
        where = f"event {events} ({event})"
        if state["ended"]:
            raise ShapeError(f"{where}: after the stream ended with {state['ended']}")
        if data is None:
            raise ShapeError(f"{where}: an event without data")
        try:
            kind = json.loads(data).get("type")
        except (ValueError, AttributeError):
            raise ShapeError(f"{where}: data is not a JSON object: {data[:200]}") from None
        if event is None:
            raise ShapeError(f"{where}: data without an `event:` line (the SDK skips it): {data[:200]}")
        if event != kind:
            raise ShapeError(f"{where}: event name differs from data type {kind!r}")
        try:
            anthropic_event(state, event, data)
        except ShapeError as error:
            raise ShapeError(f"{where}: {error}") from None
    if not state["ended"]:
        raise ShapeError(f"the stream ended after {events} events without message_stop or an error event")
    return {"events": events, "ended": state["ended"], "blocks": state["blocks"]}


def anthropic_event(state, event, data):
    if event == "ping":
        if json.loads(data) != {"type": "ping"}:
            raise ShapeError("a ping carries only its type")
        return
    if event == "error":
        strict(AnthropicErrorResponse, data)
        state["ended"] = "error"
        return
    if event not in ANTHROPIC_EVENTS:
        raise ShapeError(f"unknown event {event!r}")
    parsed = strict(ANTHROPIC_EVENTS[event], data)
    if event == "message_start":
        if state["started"]:
            raise ShapeError("a second message_start")
        if parsed.message.content or parsed.message.stop_reason is not None:
            raise ShapeError("message_start carries content or a stop_reason")
        state["started"] = True
        return
    if not state["started"]:
        raise ShapeError("before message_start")
    blocks = state["blocks"]
    if event == "content_block_start":
        if state["open"] is not None:
            raise ShapeError(f"block {parsed.index} starts while block {state['open']} is open")
        if parsed.index != len(blocks):
            raise ShapeError(f"block index {parsed.index}, expected {len(blocks)}")
        if state["delta"]:
            raise ShapeError("a block starts after message_delta")
        blocks.append(parsed.content_block.type)
        state["open"] = parsed.index
    elif event == "content_block_delta":
        if parsed.index != state["open"]:
            raise ShapeError(f"a delta for block {parsed.index}, which is not open")
        allowed = DELTAS_FOR.get(blocks[parsed.index], set())
        if parsed.delta.type not in allowed:
            raise ShapeError(f"a {parsed.delta.type} in a {blocks[parsed.index]} block")
        if parsed.delta.type == "input_json_delta":
            state["partial"][parsed.index] = state["partial"].get(parsed.index, "") + parsed.delta.partial_json
    elif event == "content_block_stop":
        if parsed.index != state["open"]:
            raise ShapeError(f"a stop for block {parsed.index}, which is not open")
        partial = state["partial"].get(parsed.index)
        if partial and not isinstance(json.loads(partial), dict):
            raise ShapeError(f"the input_json_delta pieces of block {parsed.index} do not join into an object")
        state["open"] = None
    elif event == "message_delta":
        if state["open"] is not None or state["delta"]:
            raise ShapeError("message_delta while a block is open, or twice")
        if parsed.delta.stop_reason is None:
            raise ShapeError("message_delta without a stop_reason")
        state["delta"] = True
    elif event == "message_stop":
        if not state["delta"]:
            raise ShapeError("message_stop before message_delta")
        state["ended"] = "message_stop"


def openai_sse(text):
    """Checks a whole chat-completions stream body; returns a summary."""
    ids, calls, finished, chunks, ended = set(), {}, False, 0, None
    for event, data in sse_frames(text):
        if ended:
            raise ShapeError(f"data after the stream ended with {ended}")
        if event == "error":
            body = json.loads(data or "null")
            if not (isinstance(body, dict) and isinstance(body.get("error"), dict) and body["error"].get("message")):
                raise ShapeError(f"an error event needs {{\"error\": {{\"message\"...}}}}: {data}")
            ended = "error"
            continue
        if data == "[DONE]":
            ended = "[DONE]"
            continue
        if event is not None:
            raise ShapeError(f"an unexpected event name {event!r}")
        chunks += 1
        chunk = strict(ChatCompletionChunk, data)
        ids.add(chunk.id)
        if finished and chunk.choices:
            raise ShapeError(f"chunk {chunks}: choices after finish_reason (only a usage chunk may follow)")
        for choice in chunk.choices:
            for call in choice.delta.tool_calls or []:
                openai_tool_delta(calls, call, chunks)
            finished = finished or choice.finish_reason is not None
    if len(ids) > 1:
        raise ShapeError(f"chunk ids differ: {sorted(ids)}")
    if not ended:
        raise ShapeError(f"the stream ended after {chunks} chunks without [DONE] or an error event")
    for index, call in calls.items():
        try:
            json.loads(call["arguments"] or "{}")
        except ValueError:
            raise ShapeError(f"tool call {index}: arguments do not join into JSON: {call['arguments']!r}") from None
    return {"chunks": chunks, "ended": ended, "tool_calls": [c["name"] for c in calls.values()]}


def openai_tool_delta(calls, call, chunk):
    if call.index not in calls:
        if not (call.id and call.type == "function" and call.function and call.function.name):
            raise ShapeError(f"chunk {chunk}: tool call {call.index} opens without id, type and name")
        calls[call.index] = {"name": call.function.name, "arguments": ""}
    elif call.id or (call.function and call.function.name):
        raise ShapeError(f"chunk {chunk}: tool call {call.index} repeats its id or name")
    if call.function and call.function.arguments:
        calls[call.index]["arguments"] += call.function.arguments


def check(kind, data):
    """Checks one item; returns a summary or raises ShapeError."""
    if kind == "anthropic.sse":
        return anthropic_sse(data)
    if kind == "openai.sse":
        return openai_sse(data)
    if kind == "anthropic.models":
        return parse_models(data)
    if kind == "anthropic.event":
        event = json.loads(data) if isinstance(data, (str, bytes)) else data
        name = event.get("type") if isinstance(event, dict) else None
        if name == "ping":
            if event != {"type": "ping"}:
                raise ShapeError("a ping carries only its type")
        elif name == "error":
            strict(AnthropicErrorResponse, event)
        elif name in ANTHROPIC_EVENTS:
            strict(ANTHROPIC_EVENTS[name], event)
        else:
            raise ShapeError(f"unknown event type {name!r}")
        return {"event": name}
    if kind not in BODY_TYPES:
        raise ShapeError(f"unknown kind {kind!r}; known: {sorted(BODY_TYPES) + ['anthropic.sse', 'anthropic.event', 'openai.sse']}")
    strict(BODY_TYPES[kind], data)
    return {"parsed": kind}
