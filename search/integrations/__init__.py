"""fpsearch inside other tools: an MCP server for LLM agents (``mcp``) and a LangChain retriever
(``langchain``). Each needs its optional extra (``pip install 'fpsearch[server]'``, ``'fpsearch[langchain]'``)."""
