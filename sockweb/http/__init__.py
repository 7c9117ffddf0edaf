"""Wire rules shared by the server and the client: no sockets, no asyncio."""
