"""The official `mcp` Python SDK's client against the gateway's `/mcp`.

Run by tests/mcp_server.rs with GATEWAY_MCP_URL, GATEWAY_API_KEY (may use
every tool) and GATEWAY_RESTRICTED_KEY (its team may use only
`current_time`). Twice: with the default settings (mode "auto": the
`server/discover` probe, then 2026-07-28 single exchanges) and with
mode "legacy" (the initialize handshake, 2025-11-25). Prints one "... ok"
line per check and mode; any failure raises.
"""

import asyncio
import json
import os

import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

URL = os.environ["GATEWAY_MCP_URL"]


def client(key: str, mode: str) -> Client:
    http = create_mcp_http_client(headers={"Authorization": f"Bearer {key}"}, timeout=httpx2.Timeout(15.0))
    return Client(streamable_http_client(URL, http_client=http), mode=mode)


async def full_access(mode: str, version: str) -> None:
    async with client(os.environ["GATEWAY_API_KEY"], mode) as mcp:
        assert mcp.session.protocol_version == version, (mode, mcp.session.protocol_version)
        tools = await mcp.list_tools()
        names = sorted(t.name for t in tools.tools)
        # With the MCP tools config/test imports (tests/mcp_tools.rs).
        assert names == [
            "big", "calc_add", "calc_fail", "calc_stdio_add", "calc_stdio_fail", "calculator",
            "crash", "create_item", "current_time", "lookup_item", "slow", "small_sum", "strict_add",
        ], names
        calculator = next(t for t in tools.tools if t.name == "calculator")
        assert calculator.input_schema["type"] == "object", calculator.input_schema
        print("list ok", names)

        result = await mcp.call_tool("calculator", {"operation": "multiply", "a": 6, "b": 7})
        assert not result.is_error, result
        assert result.structured_content == {"value": 42.0}, result
        assert json.loads(result.content[0].text) == {"value": 42.0}, result
        print("call ok")

        bad = await mcp.call_tool("small_sum", {"operation": "add", "a": 1, "b": 101})
        assert bad.is_error, bad
        assert "arguments.b" in bad.content[0].text, bad
        print("schema violation ok", bad.content[0].text)


async def restricted(mode: str) -> None:
    async with client(os.environ["GATEWAY_RESTRICTED_KEY"], mode) as mcp:
        tools = await mcp.list_tools()
        names = [t.name for t in tools.tools]
        assert names == ["current_time"], names
        now = await mcp.call_tool("current_time", {})
        assert not now.is_error, now
        try:
            forbidden = await mcp.call_tool("calculator", {"operation": "add", "a": 1, "b": 2})
        except Exception as error:  # the SDK raises MCPError for a JSON-RPC error
            assert "Unknown tool: calculator" in str(error), error
        else:
            raise AssertionError(f"a forbidden tool was called: {forbidden}")
        print("restricted ok", names)


async def main() -> None:
    for mode, version in [("auto", "2026-07-28"), ("legacy", "2025-11-25")]:
        print("mode", mode)
        await full_access(mode, version)
        await restricted(mode)


asyncio.run(main())
