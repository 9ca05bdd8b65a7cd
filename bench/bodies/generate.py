#!/usr/bin/env python3
"""Generates the benchmark's chat completion request bodies (bench/bodies/*.json).

Deterministic (no randomness, no clock): running it again rewrites the same
bytes, so the checked-in files and this script stay in step. Every body asks
for "model": "bench-model" (the bench config maps it to the mock upstream).
Each file is padded to an exact byte size (trailing newline included):

  s.json          210 B  system + user message, max_tokens 64
  s-stream.json   S plus "stream": true, "stream_options": {"include_usage": true}
  m.json        1 KiB    a 2-turn conversation, max_tokens 128
  l.json       10 KiB    an 8-turn conversation, max_tokens 256
  xl.json     100 KiB    a 20-turn conversation, max_tokens 512
  t.json        2 KiB    S-like messages plus 10 tool definitions (OpenAI `tools`)

Usage: python3 bench/bodies/generate.py   (prints each file's size)
"""

import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
MODEL = "bench-model"
SYSTEM = "You are a concise assistant. Answer in one short paragraph."
WORDS = (
    "gateway latency request stream token model provider budget route header "
    "retry timeout policy cache metric trace queue worker socket buffer frame "
    "event chunk limit quota region replica config schema table binary"
).split()


def text(n_words, seed):
    """n_words deterministic words; a linear congruential walk over WORDS."""
    out, x = [], seed
    for i in range(n_words):
        x = (x * 1103515245 + 12345) % 2**31
        out.append(WORDS[x % len(WORDS)])
    return " ".join(out).capitalize() + "."


def encode(body):
    return (json.dumps(body, separators=(",", ":")) + "\n").encode()


def padded(build, size):
    """build(filler) -> body; returns the bytes with the filler sized so the
    whole file is exactly `size` bytes (filler is ASCII, no escapes)."""
    overhead = len(encode(build("")))
    if overhead > size:
        raise SystemExit(f"error: body needs {overhead} B, more than its {size} B target; shorten the fixed parts in generate.py")
    filler = ("Please summarise the following. " + text(size // 5, 7))[: size - overhead]
    data = encode(build(filler))
    assert len(data) == size, (len(data), size)
    return data


def conversation(turns, words_per_turn, seed):
    messages = [{"role": "system", "content": SYSTEM}]
    for t in range(turns):
        messages.append({"role": "user", "content": text(words_per_turn, seed + 2 * t)})
        messages.append({"role": "assistant", "content": text(words_per_turn, seed + 2 * t + 1)})
    return messages


def chat(messages, last, **extra):
    return {"model": MODEL, "messages": messages + [{"role": "user", "content": last}], **extra}


TOOL_NAMES = [
    ("get_weather", "Weather for a city", {"city": "string", "unit": "string"}),
    ("search_docs", "Search the docs", {"query": "string"}),
    ("get_order", "Look up an order", {"order_id": "string"}),
    ("create_ticket", "Open a ticket", {"title": "string"}),
    ("send_email", "Email a customer", {"to": "string", "body": "string"}),
    ("convert", "Convert currency", {"amount": "number"}),
    ("get_quote", "Stock price", {"ticker": "string"}),
    ("book_slot", "Book a meeting", {"when": "string"}),
    ("translate", "Translate text", {"text": "string"}),
    ("run_sql", "Read-only SQL", {"sql": "string"}),
]


def tools():
    return [
        {
            "type": "function",
            "function": {
                "name": name,
                "description": description,
                "parameters": {
                    "type": "object",
                    "properties": {p: {"type": t} for p, t in params.items()},
                    "required": list(params)[:1],
                },
            },
        }
        for name, description, params in TOOL_NAMES
    ]


def small(filler, **extra):
    return chat([{"role": "system", "content": SYSTEM}], filler, max_tokens=64, **extra)


BODIES = {
    "s.json": padded(small, 210),
    "s-stream.json": encode(
        json.loads(padded(small, 210))
        | {"stream": True, "stream_options": {"include_usage": True}}
    ),
    "m.json": padded(lambda f: chat(conversation(2, 25, 11), f, max_tokens=128), 1024),
    "l.json": padded(lambda f: chat(conversation(8, 80, 23), f, max_tokens=256), 10240),
    "xl.json": padded(lambda f: chat(conversation(20, 330, 37), f, max_tokens=512), 102400),
    "t.json": padded(lambda f: chat([{"role": "system", "content": SYSTEM}], f, max_tokens=64, tools=tools(), tool_choice="auto"), 2048),
}

for name, data in BODIES.items():
    with open(os.path.join(HERE, name), "wb") as out:
        out.write(data)
    print(f"{name:14} {len(data):7} B")
