"""The data store and nothing else: connections, every key, the atomic Lua scripts."""
