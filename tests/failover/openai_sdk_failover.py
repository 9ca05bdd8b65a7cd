"""The official OpenAI Python SDK (PyPI `openai`) against a model whose
deployments fail: every call must succeed, the gateway hiding the faults.

Run by tests/failover/sdk.rs with GATEWAY_BASE_URL, GATEWAY_API_KEY and
GATEWAY_MODEL set. The SDK's own retries are off (max_retries=0), so a
success is the gateway's doing. Prints one JSON report as its last line and
exits non-zero when any call failed.
"""
import json
import os
import sys

import openai

client = openai.OpenAI(base_url=os.environ["GATEWAY_BASE_URL"], api_key=os.environ["GATEWAY_API_KEY"], max_retries=0, timeout=15)
model = os.environ["GATEWAY_MODEL"]
messages = [{"role": "user", "content": "hello"}]
answers, failures = [], []
for call in range(10):
    streamed = call % 2 == 1
    try:
        if streamed:
            parts = []
            for chunk in client.chat.completions.create(model=model, messages=messages, stream=True):
                if chunk.choices and chunk.choices[0].delta.content:
                    parts.append(chunk.choices[0].delta.content)
            answers.append("".join(parts))
        else:
            completion = client.chat.completions.create(model=model, messages=messages)
            answers.append(completion.choices[0].message.content)
    except Exception as error:  # every failure is reported, not just the first
        failures.append(f"call {call} (stream {streamed}): {type(error).__name__}: {error}")
print(json.dumps({"answers": answers, "failures": failures}))
sys.exit(1 if failures else 0)
