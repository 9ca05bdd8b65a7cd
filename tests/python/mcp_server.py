"""A real MCP server for tests/mcp_tools.rs, built on the official `mcp` SDK
(2.3.0, low-level `Server` so the listed input schemas are exactly the pinned
ones in config/test/tools.yaml).

Tools: `add` (two integers), `slow` (sleeps `seconds`), `big` (a result
larger than the gateway's cap), `fail` (raises: `isError: true`), `crash`
(the process exits mid-call; pinned on the stdio server only).
Over stdio it exits at once unless `GATEWAY_TEST_MCP_STDIO` is set, and it
refuses to serve (exit 4, a line on stderr) if it can see any of the test
gateway's secrets (`GATEWAY_TEST_*_KEY`, `GATEWAY_TEST_TOOL_TOKEN`): the
gateway gives a stdio child only its base variables and the ones the
server's `env` lists.
`add`'s schema gains a property while the file named by `--drift-file`
exists (drift). Streamable HTTP on an ephemeral loopback port (the port is
printed as `port N` on stdout), or `--stdio`.
"""

import argparse
import asyncio
import os
import socket
import sys


ADD = {
    "type": "object",
    "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
    "required": ["a", "b"],
    "additionalProperties": False,
}
ADD_DRIFTED = {
    "type": "object",
    "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}, "c": {"type": "integer"}},
    "required": ["a", "b"],
    "additionalProperties": False,
}
SLOW = {
    "type": "object",
    "properties": {"seconds": {"type": "number", "minimum": 0, "maximum": 30}},
    "required": ["seconds"],
    "additionalProperties": False,
}
EMPTY = {"type": "object", "properties": {}, "additionalProperties": False}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--stdio", action="store_true")
    parser.add_argument("--drift-file", default=os.environ.get("MCP_TEST_DRIFT_FILE", ""))
    parser.add_argument("--port", type=int, default=0, help="listen here (default: an ephemeral port)")
    args = parser.parse_args()
    if args.stdio and not os.environ.get("GATEWAY_TEST_MCP_STDIO"):
        # Started by a gateway of another test: exit before importing the SDK.
        sys.exit(3)
    if args.stdio:
        leaked = sorted(
            name
            for name in os.environ
            if name.startswith("GATEWAY_TEST_")
            and (name.endswith("_KEY") or name == "GATEWAY_TEST_TOOL_TOKEN")
        )
        if leaked:
            print(f"the gateway leaked secrets to a stdio child: {leaked}", file=sys.stderr)
            sys.exit(4)
    import mcp_types as types
    from mcp.server.lowlevel.server import Server

    def drifted() -> bool:
        return bool(args.drift_file) and os.path.exists(args.drift_file)

    async def list_tools(ctx, params):
        tools = [
            types.Tool(name="add", description="Add two integers.", input_schema=ADD_DRIFTED if drifted() else ADD),
            types.Tool(name="slow", description="Sleep.", input_schema=SLOW),
            types.Tool(name="big", description="A large result.", input_schema=EMPTY),
            types.Tool(name="fail", description="Always fails.", input_schema=EMPTY),
            types.Tool(name="crash", description="Ends the server's process.", input_schema=EMPTY),
            types.Tool(name="unpinned", description="Not pinned by the gateway.", input_schema=EMPTY),
        ]
        return types.ListToolsResult(tools=tools)

    async def call_tool(ctx, params):
        arguments = params.arguments or {}
        text = lambda s: [types.TextContent(type="text", text=s)]
        if params.name == "add":
            total = arguments["a"] + arguments["b"]
            return types.CallToolResult(content=text(str(total)), structured_content={"sum": total})
        if params.name == "slow":
            await asyncio.sleep(float(arguments.get("seconds", 5)))
            return types.CallToolResult(content=text("done"))
        if params.name == "big":
            return types.CallToolResult(content=text("x" * 200_000))
        if params.name == "crash":
            os._exit(0)  # the gateway must start the stdio server again on the next call
        if params.name == "fail":
            return types.CallToolResult(content=text("the tool failed on purpose"), is_error=True)
        return types.CallToolResult(content=text(f"unknown tool {params.name}"), is_error=True)

    server = Server("gateway-test-mcp", on_list_tools=list_tools, on_call_tool=call_tool)
    if args.stdio:
        from mcp.server.stdio import stdio_server

        async def run_stdio():
            async with stdio_server() as (read, write):
                await server.run(read, write, server.create_initialization_options())

        asyncio.run(run_stdio())
        return

    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", args.port))
    # Listen before printing the port: connections wait in the backlog
    # until uvicorn accepts them, so a client may connect at once.
    sock.listen(128)
    port = sock.getsockname()[1]
    app = server.streamable_http_app()
    config = uvicorn.Config(app, log_level="warning", lifespan="on")
    print(f"port {port}", flush=True)
    asyncio.run(uvicorn.Server(config).serve(sockets=[sock]))


if __name__ == "__main__":
    main()
