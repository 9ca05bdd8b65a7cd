"""Drive an endpoint with the official Python SDKs, and check shapes with them.

Run by the Rust tests (tests/support/anthropic_upstream/sdk.rs); the SDKs come
from .venv (scripts/test-deps). Three commands, each printing one JSON line
as its last line of output and exiting non-zero when anything failed:

  anthropic_sdk.py anthropic --base-url URL --api-key KEY --model M [--steps a,b]
      The `anthropic` SDK against URL (no /v1: the SDK adds /v1/messages):
      plain create, text stream (messages.stream), tools (a tool_use turn,
      then a tool_result turn answered from the result), the same streamed,
      count_tokens, a 429 error, and (opt-in) thinking with its signature
      sent back. Steps default to all but thinking.
  anthropic_sdk.py openai --base-url URL --api-key KEY --model M [--steps a,b]
      The `openai` SDK against URL (with /v1): chat completion, stream,
      tool calls, streamed tool calls (arguments over several deltas), each
      followed by a tool-result turn, and a 429 error.
  anthropic_sdk.py validate   < items.jsonl
      Each stdin line {"kind": ..., "data": ...} checked with the SDK types
      (see sdk_types.check for the kinds).

Every raw response body and stream a drive receives is checked strictly by
sdk_types (the bytes the SDK saw, teed off its transport) besides the SDK's
own parsing. Prompts are the mocks' mode words (`json`, `sse-text`, `tool`,
`sse-tool`, `status:429`, `thinking`), which both mocks understand, so a
drive works against either mock directly or through the gateway.
"""
import argparse
import json
import sys
import traceback
from importlib.metadata import version

import anthropic
import httpx2
import openai

import sdk_types

MARKER = "marker-7f3a"
WEATHER = {
    "name": "get_weather",
    "description": "The weather in a city.",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}


class Tee(httpx2.BaseTransport):
    """A transport that keeps a copy of every response body the SDK reads."""

    def __init__(self):
        self.inner = httpx2.HTTPTransport()
        self.seen = []

    def handle_request(self, request):
        response = self.inner.handle_request(request)
        entry = {"path": request.url.path, "status": response.status_code, "headers": response.headers, "body": bytearray()}
        self.seen.append(entry)
        upstream = response.stream

        class Copy(httpx2.SyncByteStream):
            def __iter__(self):
                for chunk in upstream:
                    entry["body"].extend(chunk)
                    yield chunk

            def close(self):
                upstream.close()

        return httpx2.Response(response.status_code, headers=response.headers, stream=Copy(), extensions=response.extensions, request=request)

    def last(self, kind):
        """Checks the last response's bytes as `kind`; returns the summary."""
        body = bytes(self.seen[-1]["body"])
        return sdk_types.check(kind, body.decode() if kind.endswith(".sse") else body)


def expect(condition, message):
    if not condition:
        raise AssertionError(message)


# ---------------------------------------------------------------- anthropic


def anthropic_steps(client, tee, model):
    def ask(prompt, **extra):
        return client.messages.create(model=model, max_tokens=256, messages=[{"role": "user", "content": prompt}], **extra)

    def plain():
        message = ask("json")
        shape = tee.last("anthropic.message")
        text = "".join(b.text for b in message.content if b.type == "text")
        expect(text and message.stop_reason == "end_turn", f"text and end_turn expected: {message}")
        expect(message.usage.input_tokens > 0 and message.usage.output_tokens > 0, f"usage: {message.usage}")
        return {"text": text, "shape": shape}

    def stream():
        with client.messages.stream(model=model, max_tokens=256, messages=[{"role": "user", "content": "sse-text"}]) as s:
            pieces = list(s.text_stream)
            final = s.get_final_message()
        shape = tee.last("anthropic.sse")
        expect(len(pieces) >= 2, f"several text deltas expected: {pieces}")
        expect("".join(pieces) == final.content[-1].text, f"deltas {pieces} vs final {final.content}")
        expect(final.usage.output_tokens > 0 and final.stop_reason == "end_turn", f"final: {final}")
        return {"deltas": len(pieces), "shape": shape}

    def tools(streaming):
        def turn(messages):
            if not streaming:
                return client.messages.create(model=model, max_tokens=256, tools=[WEATHER], messages=messages), tee.last("anthropic.message")
            with client.messages.stream(model=model, max_tokens=256, tools=[WEATHER], messages=messages) as s:
                final = s.get_final_message()
            return final, tee.last("anthropic.sse")

        history = [{"role": "user", "content": "sse-tool" if streaming else "tool"}]
        first, shape1 = turn(history)
        uses = [b for b in first.content if b.type == "tool_use"]
        expect(first.stop_reason == "tool_use" and uses, f"a tool_use turn expected: {first}")
        expect(uses[0].name == "get_weather" and isinstance(uses[0].input.get("city"), str), f"tool use: {uses[0]}")
        history += [
            {"role": "assistant", "content": first.to_param()["content"]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": uses[0].id, "content": MARKER}]},
        ]
        second, shape2 = turn(history)
        text = "".join(b.text for b in second.content if b.type == "text")
        expect(MARKER in text, f"the answer should quote the tool result {MARKER}: {text!r}")
        return {"tool": uses[0].name, "input": uses[0].input, "answer": text, "shapes": [shape1, shape2]}

    def count_tokens():
        counted = client.messages.count_tokens(model=model, system="Be brief.", tools=[WEATHER], messages=[{"role": "user", "content": "json"}])
        shape = tee.last("anthropic.count_tokens")
        expect(counted.input_tokens > 0, f"count: {counted}")
        return {"input_tokens": counted.input_tokens, "shape": shape}

    def errors():
        try:
            ask("status:429")
        except anthropic.RateLimitError as error:
            shape = tee.last("anthropic.error")
            retry = error.response.headers.get("retry-after")
            expect(retry is not None and retry.isdigit(), f"retry-after in integer seconds expected: {retry!r}")
            return {"status": error.status_code, "type": error.body["error"]["type"], "retry_after": retry, "shape": shape}
        raise AssertionError("a RateLimitError expected for status:429")

    def thinking():
        config = {"type": "enabled", "budget_tokens": 1024}
        history = [{"role": "user", "content": "thinking"}]
        first = client.messages.create(model=model, max_tokens=2048, thinking=config, messages=history)
        shape = tee.last("anthropic.message")
        blocks = [b for b in first.content if b.type == "thinking"]
        expect(blocks and blocks[0].signature, f"a signed thinking block expected: {first}")
        history += [{"role": "assistant", "content": first.to_param()["content"]}, {"role": "user", "content": "json"}]
        client.messages.create(model=model, max_tokens=2048, thinking=config, messages=history)
        return {"signature": blocks[0].signature[:24], "shape": shape}

    return {
        "plain": plain,
        "stream": stream,
        "tools": lambda: tools(False),
        "tools-stream": lambda: tools(True),
        "count_tokens": count_tokens,
        "errors": errors,
        "thinking": thinking,
    }


# ------------------------------------------------------------------- openai


def openai_steps(client, tee, model):
    tool = {"type": "function", "function": {"name": WEATHER["name"], "description": WEATHER["description"], "parameters": WEATHER["input_schema"]}}

    def plain():
        completion = client.chat.completions.create(model=model, messages=[{"role": "user", "content": "json"}])
        shape = tee.last("openai.chat_completion")
        expect(completion.choices[0].message.content and completion.choices[0].finish_reason == "stop", f"{completion}")
        expect(completion.usage is not None and completion.usage.completion_tokens > 0, f"usage: {completion.usage}")
        return {"text": completion.choices[0].message.content, "shape": shape}

    def streamed(messages, **extra):
        chunks = list(client.chat.completions.create(model=model, messages=messages, stream=True, stream_options={"include_usage": True}, **extra))
        return chunks, tee.last("openai.sse")

    def stream():
        chunks, shape = streamed([{"role": "user", "content": "sse-text"}])
        pieces = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
        expect(len(pieces) >= 2, f"several content deltas expected: {pieces}")
        expect(chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0, f"a usage chunk last: {chunks[-1]}")
        return {"deltas": len(pieces), "shape": shape}

    def tools(streaming):
        history = [{"role": "user", "content": "sse-tool" if streaming else "tool"}]
        if streaming:
            chunks, shape1 = streamed(history, tools=[tool])
            calls = {}
            for chunk in chunks:
                for choice in chunk.choices:
                    for delta in choice.delta.tool_calls or []:
                        call = calls.setdefault(delta.index, {"id": delta.id, "name": None, "arguments": ""})
                        call["name"] = call["name"] or (delta.function and delta.function.name)
                        call["arguments"] += (delta.function and delta.function.arguments) or ""
            finish = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
            expect(finish == ["tool_calls"], f"finish_reason tool_calls expected: {finish}")
            expect(0 in calls and calls[0]["arguments"], f"streamed arguments expected: {calls}")
            call = calls[0]
        else:
            completion = client.chat.completions.create(model=model, messages=history, tools=[tool])
            shape1 = tee.last("openai.chat_completion")
            expect(completion.choices[0].finish_reason == "tool_calls", f"{completion}")
            made = completion.choices[0].message.tool_calls[0]
            call = {"id": made.id, "name": made.function.name, "arguments": made.function.arguments}
        arguments = json.loads(call["arguments"])
        expect(call["name"] == "get_weather" and isinstance(arguments.get("city"), str), f"tool call: {call}")
        history += [
            {"role": "assistant", "content": None, "tool_calls": [{"id": call["id"], "type": "function", "function": {"name": call["name"], "arguments": call["arguments"]}}]},
            {"role": "tool", "tool_call_id": call["id"], "content": MARKER},
        ]
        if streaming:
            chunks, shape2 = streamed(history, tools=[tool])
            text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        else:
            answer = client.chat.completions.create(model=model, messages=history, tools=[tool])
            shape2 = tee.last("openai.chat_completion")
            text = answer.choices[0].message.content or ""
        expect(MARKER in text, f"the answer should quote the tool result {MARKER}: {text!r}")
        return {"tool": call["name"], "arguments": arguments, "answer": text, "shapes": [shape1, shape2]}

    def errors():
        try:
            client.chat.completions.create(model=model, messages=[{"role": "user", "content": "status:429"}])
        except openai.RateLimitError as error:
            shape = tee.last("openai.error")
            return {"status": error.status_code, "shape": shape}
        raise AssertionError("a RateLimitError expected for status:429")

    return {"plain": plain, "stream": stream, "tools": lambda: tools(False), "tools-stream": lambda: tools(True), "errors": errors}


# --------------------------------------------------------------------- main


def drive(args):
    tee = Tee()
    http_client = httpx2.Client(transport=tee, timeout=15)
    if args.command == "anthropic":
        # SDK 2.x sends api_key as `Authorization: Bearer`, not `x-api-key`.
        client = anthropic.Anthropic(base_url=args.base_url, api_key=args.api_key, max_retries=0, timeout=15, http_client=http_client)
        steps = anthropic_steps(client, tee, args.model)
        default = [s for s in steps if s != "thinking"]
    else:
        client = openai.OpenAI(base_url=args.base_url, api_key=args.api_key, max_retries=0, timeout=15, http_client=http_client)
        steps = openai_steps(client, tee, args.model)
        default = list(steps)
    chosen = args.steps.split(",") if args.steps else default
    results, ok = {}, True
    for name in chosen:
        try:
            results[name] = {"ok": True, **steps[name]()}
        except Exception as error:  # report every step, keep going
            ok = False
            results[name] = {"ok": False, "error": f"{type(error).__name__}: {error}"}
            traceback.print_exc(file=sys.stderr)
    return ok, {"steps": results, "requests": [f"{s['status']} {s['path']}" for s in tee.seen]}


def validate():
    errors, results = [], []
    for number, line in enumerate(sys.stdin, start=1):
        if not line.strip():
            continue
        item = json.loads(line)
        try:
            results.append(sdk_types.check(item["kind"], item["data"]))
        except (sdk_types.ShapeError, ValueError, KeyError) as error:
            errors.append({"item": number, "kind": item.get("kind"), "error": str(error)})
            results.append({"error": str(error)})
    return not errors, {"checked": len(results), "errors": errors, "results": results}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["anthropic", "openai", "validate"])
    parser.add_argument("--base-url")
    parser.add_argument("--api-key", default="unused")
    parser.add_argument("--model", default="claude-mock-1")
    parser.add_argument("--steps", help="comma-separated step names")
    args = parser.parse_args()
    ok, report = validate() if args.command == "validate" else drive(args)
    report = {"ok": ok, "command": args.command, "sdk": {"anthropic": version("anthropic"), "openai": version("openai")}, **report}
    print(json.dumps(report, default=str))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
