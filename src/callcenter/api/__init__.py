"""The HTTP edge of the live center: FastAPI routers, WebSocket push, error shape."""
