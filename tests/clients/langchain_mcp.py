"""An MCP client as a LangChain user runs it: langchain-mcp-adapters loads fpsearch's tools and calls
``search``. It runs in its own environment (``.venv-adapters``, made by ``scripts/test.sh``), because
langchain-mcp-adapters 0.3 needs mcp<2 while fpsearch serves with mcp 2.x: a separate client process
is also how an agent meets fpsearch.

    python langchain_mcp.py stdio PYTHON INDEX   (starts ``PYTHON -m search mcp --index INDEX``)
    python langchain_mcp.py http URL             (a running ``fpsearch serve``: URL ends in /mcp)

Prints one JSON object: the tools' names and the search tool's answer.
"""

import asyncio
import json
import sys

from langchain_mcp_adapters.client import MultiServerMCPClient


async def main(argv: list[str]) -> None:
    if argv[0] == "stdio":
        python, index = argv[1], argv[2]
        connection = {"transport": "stdio", "command": python, "args": ["-m", "search", "mcp", "--index", index]}
    else:
        connection = {"transport": "streamable_http", "url": argv[1]}
    client = MultiServerMCPClient({"fpsearch": connection})
    tools = {tool.name: tool for tool in await client.get_tools()}
    answer = await tools["search"].ainvoke({"query": "Kuril Islands position", "k": 3})
    print(json.dumps({"tools": sorted(tools), "answer": answer}, default=str))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
