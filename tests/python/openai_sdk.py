"""Drive the gateway with the official OpenAI Python SDK (PyPI `openai`).

Run by tests/openai_sdk.rs with GATEWAY_BASE_URL and GATEWAY_API_KEY set.
Exits non-zero with a message on the first wrong answer.
"""
import os
import sys

import openai

client = openai.OpenAI(base_url=os.environ["GATEWAY_BASE_URL"], api_key=os.environ["GATEWAY_API_KEY"], max_retries=0, timeout=15)

completion = client.chat.completions.create(model="demo", messages=[{"role": "user", "content": "hello"}])
assert completion.choices[0].message.content == "one two three four", completion
assert completion.usage is not None and completion.usage.completion_tokens == 4, completion.usage
assert completion.model == "demo", completion.model
print("non-streaming ok")

stream = client.chat.completions.create(
    model="demo", messages=[{"role": "user", "content": "hello"}], stream=True, stream_options={"include_usage": True}
)
parts, usage = [], None
for chunk in stream:
    if chunk.choices and chunk.choices[0].delta.content:
        parts.append(chunk.choices[0].delta.content)
    if chunk.usage is not None:
        usage = chunk.usage
assert "".join(parts) == "one two three four", parts
assert len(parts) == 4, parts
assert usage is not None and usage.completion_tokens == 4, usage
print("streaming ok")

try:
    client.chat.completions.create(model="no-such-model", messages=[{"role": "user", "content": "x"}])
    sys.exit("expected NotFoundError for an unknown model")
except openai.NotFoundError as error:
    assert error.status_code == 404 and error.code == "model_not_found", error
try:
    openai.OpenAI(base_url=os.environ["GATEWAY_BASE_URL"], api_key="wrong", max_retries=0).models.list()
    sys.exit("expected AuthenticationError for a wrong key")
except openai.AuthenticationError as error:
    assert error.status_code == 401, error
models = [m.id for m in client.models.list()]
assert "demo" in models, models
print("errors ok")
