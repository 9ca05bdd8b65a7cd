"""The official Anthropic Python SDK (PyPI `anthropic`) against a model whose
deployments fail: every call must succeed, the gateway hiding the faults
(the model's deployments speak OpenAI chat completions; the gateway
translates both ways).

Run by tests/failover/sdk.rs with GATEWAY_BASE_URL (without /v1),
GATEWAY_API_KEY and GATEWAY_MODEL set. The SDK's own retries are off
(max_retries=0), so a success is the gateway's doing. Prints one JSON report
as its last line and exits non-zero when any call failed.
"""
import json
import os
import sys

import anthropic

client = anthropic.Anthropic(base_url=os.environ["GATEWAY_BASE_URL"], api_key=os.environ["GATEWAY_API_KEY"], max_retries=0, timeout=15)
model = os.environ["GATEWAY_MODEL"]
messages = [{"role": "user", "content": "hello"}]
answers, failures = [], []
for call in range(10):
    streamed = call % 2 == 1
    try:
        if streamed:
            with client.messages.stream(model=model, max_tokens=64, messages=messages) as stream:
                answers.append("".join(stream.text_stream))
        else:
            message = client.messages.create(model=model, max_tokens=64, messages=messages)
            answers.append("".join(block.text for block in message.content if block.type == "text"))
    except Exception as error:  # every failure is reported, not just the first
        failures.append(f"call {call} (stream {streamed}): {type(error).__name__}: {error}")
print(json.dumps({"answers": answers, "failures": failures}))
sys.exit(1 if failures else 0)
