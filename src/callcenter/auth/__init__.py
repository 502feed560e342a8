"""Users, roles, passwords, sessions and API tokens (``docs/server.md#users-and-roles``)."""
