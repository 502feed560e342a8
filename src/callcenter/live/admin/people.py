"""Administration of people: users (role, password, active) and teams.

Functions over a :class:`Session` (flush, never commit) that take the typed changes of
:mod:`.schemas`, with the errors of :mod:`.checks`.  Rules:

- a user's username never changes (the event log and contacts name agents by it);
- a new password ends the user's sessions and revokes its API tokens;
- "deleting" a user deactivates it: it can no longer sign in, its sessions and tokens
  stop working, its history stays;
- nobody may change their own role or deactivate themselves (the last administrator
  cannot lock everyone out by accident);
- a user who becomes an agent gets an agent profile (or gets its old one back, skills
  and all); a user who stops being an agent keeps the profile, which no longer routes;
  either needs the agent logged out, as does deactivating an agent;
- a change of role or of the active flag changes who the router may route to
  (:func:`changes_routing`);
- a team's members are the users whose ``team_id`` is the team (one team per user);
  its supervisors are users with the supervisor or manager role.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from callcenter.auth.passwords import hash_password
from callcenter.auth.service import (
    check_username,
    create_user,
    end_all_sessions,
    parse_role,
    revoke_all_tokens,
    revoke_token_of,
    tokens_of,
)
from callcenter.live.admin.agents import is_logged_in
from callcenter.live.admin.checks import (
    ConflictError,
    InvalidError,
    check_bool,
    check_text,
    check_unique,
    get_row,
    show,
)
from callcenter.live.admin.schemas import TeamIn, TeamOut, TeamPatch, UserIn, UserOut, UserPatch
from callcenter.storage.tables import AgentRow, ApiToken, Role, Team, TeamSupervisor, User

SUPERVISOR_ROLES: Final = frozenset({Role.SUPERVISOR, Role.MANAGER})


def check_email(value: object) -> str | None:
    """An e-mail address (lower-cased) or None for none: the syntax of RFC 5321/6531
    as ``email-validator`` checks it (no DNS look-up), so ``x"><script>@example.com``
    or ``a@b`` are refused."""
    from email_validator import EmailNotValidError, validate_email

    if value is None or value == "":
        return None
    bad = InvalidError(f"email: {show(value)} is not an e-mail address (expected name@example.com)")
    if not isinstance(value, str) or len(value) > 254:
        raise bad
    try:
        checked = validate_email(value.strip(), check_deliverability=False)
    except EmailNotValidError:
        raise bad from None
    return checked.normalized.lower()


def check_team(s: Session, value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or s.get(Team, value) is None:
        raise InvalidError(f"team_id: no team with id {show(value)}")
    return value


def agent_of(s: Session, user: User) -> AgentRow | None:
    return s.scalar(select(AgentRow).where(AgentRow.user_id == user.id))


def _must_be_logged_out(s: Session, user: User, what: str) -> None:
    agent = agent_of(s, user)
    if agent is not None and is_logged_in(agent):
        raise ConflictError(
            f"agent {agent.name!r} is logged in ({agent.status}); they must log out before {what}"
        )


# --------------------------------------------------------------------------- users


def user_view(s: Session, user: User) -> UserOut:
    """The user and the id of its agent profile (None without one)."""
    agent = agent_of(s, user)
    out = UserOut.model_validate(user)
    out.agent_id = agent.id if agent is not None else None
    return out


def list_users(s: Session, role: str | None = None, active: bool | None = None) -> list[UserOut]:
    """Every user by username; ``role`` and ``active`` filter (an unknown role raises)."""
    q = select(User).order_by(User.username)
    if role is not None:
        q = q.where(User.role == parse_role(role).value)
    if active is not None:
        q = q.where(User.active == active)
    return [user_view(s, u) for u in s.scalars(q)]


def get_user(s: Session, user_id: int) -> UserOut:
    return user_view(s, get_row(s, User, user_id, "user"))


def changes_routing(change: UserIn | UserPatch) -> bool:
    """Whether ``change`` changes who the router may route to: a new agent, or a new role
    or active flag (the routing engine must then reload)."""
    if isinstance(change, UserIn):
        return change.role == Role.AGENT.value
    return bool({"role", "active"} & change.model_fields_set)


def add_user(s: Session, new: UserIn, *, now: float, password_hash: str | None = None) -> UserOut:
    """A new user (an agent gets an empty agent profile).  Raises on any bad value.

    ``password_hash``: ``new.password`` already hashed (by the server's hashing pool)."""
    check_username(new.username)
    if s.scalar(select(User.id).where(User.username == new.username)) is not None:
        raise ConflictError(f"user {new.username!r} already exists")
    role = parse_role(new.role)
    user = create_user(
        s,
        new.username,
        new.password,
        role,
        now=now,
        display_name=check_text("display_name", new.display_name or "", 128),
        email=check_email(new.email),
        team_id=check_team(s, new.team_id),
        password_hash=password_hash,
    )
    return user_view(s, user)


def update_user(
    s: Session,
    user_id: int,
    patch: UserPatch,
    *,
    acting: int,
    password_hash: str | None = None,
) -> UserOut:
    """Change a user's details, role, team, active flag or password — the fields set in
    ``patch`` (``acting``: who asks; ``password_hash``: ``patch.password`` already hashed)."""
    user = get_row(s, User, user_id, "user")
    sent = patch.model_fields_set
    if "role" in sent:
        role = parse_role(str(patch.role))
        if role.value != user.role:
            if user.id == acting:
                raise ConflictError("you cannot change your own role")
            _change_role(s, user, role)
    if "active" in sent:
        active = check_bool("active", patch.active)
        if not active and user.active:
            if user.id == acting:
                raise ConflictError("you cannot deactivate yourself")
            _must_be_logged_out(s, user, "their user is deactivated")
        user.active = active
    if "display_name" in sent:
        user.display_name = check_text("display_name", patch.display_name, 128) or user.username
    if "email" in sent:
        user.email = check_email(patch.email)
    if "team_id" in sent:
        user.team_id = check_team(s, patch.team_id)
    if "password" in sent:
        _reset_password(s, user, patch.password, password_hash)
    s.flush()
    return user_view(s, user)


def _reset_password(
    s: Session, user: User, password: str | None, password_hash: str | None
) -> None:
    """A new password ends the user's browser sessions and revokes its API tokens: a
    reset is what one does when a password may be known to someone else."""
    if password is None:
        raise InvalidError("password: expected text")
    user.password_hash = password_hash or hash_password(password)
    end_all_sessions(s, user.id)
    revoke_all_tokens(s, user.id)


def _change_role(s: Session, user: User, role: Role) -> None:
    was_agent = user.role == Role.AGENT.value
    if was_agent:
        _must_be_logged_out(s, user, "their role changes")
    if role is Role.AGENT and agent_of(s, user) is None:
        s.add(AgentRow(user_id=user.id, name=user.username, skills={}, queues=None, capacity=3))
    if role not in SUPERVISOR_ROLES:  # no longer in charge of teams
        for ts in s.scalars(select(TeamSupervisor).where(TeamSupervisor.user_id == user.id)):
            s.delete(ts)
    user.role = role.value


def user_tokens(s: Session, user_id: int) -> list[ApiToken]:
    """The API tokens of user ``user_id`` (revoked ones too, oldest first); 404 without
    such a user."""
    get_row(s, User, user_id, "user")
    return tokens_of(s, user_id)


def revoke_user_token(s: Session, user_id: int, token_id: int) -> None:
    """Revoke token ``token_id`` of user ``user_id`` (404 for a token of someone else)."""
    get_row(s, User, user_id, "user")
    revoke_token_of(s, user_id, token_id)


def revoke_user_tokens(s: Session, user_id: int) -> int:
    """Revoke every API token of user ``user_id``; returns how many were active."""
    get_row(s, User, user_id, "user")
    return revoke_all_tokens(s, user_id)


def deactivate_user(s: Session, user_id: int, *, acting: int) -> None:
    """``DELETE``: the user can no longer sign in; its history stays."""
    update_user(s, user_id, UserPatch(active=False), acting=acting)


# --------------------------------------------------------------------------- teams


def team_members(s: Session, team_id: int) -> list[str]:
    return list(
        s.scalars(select(User.username).where(User.team_id == team_id).order_by(User.username))
    )


def team_supervisors(s: Session, team_id: int) -> list[str]:
    return list(
        s.scalars(
            select(User.username)
            .join(TeamSupervisor, TeamSupervisor.user_id == User.id)
            .where(TeamSupervisor.team_id == team_id)
            .order_by(User.username)
        )
    )


def team_view(s: Session, team: Team) -> TeamOut:
    return TeamOut(
        id=team.id,
        name=team.name,
        members=team_members(s, team.id),
        supervisors=team_supervisors(s, team.id),
    )


def list_teams(s: Session) -> list[TeamOut]:
    return [team_view(s, t) for t in s.scalars(select(Team).order_by(Team.name))]


def get_team(s: Session, team_id: int) -> TeamOut:
    return team_view(s, get_row(s, Team, team_id, "team"))


def create_team(s: Session, new: TeamIn) -> TeamOut:
    return team_view(s, _save_team(s, None, new))


def update_team(s: Session, team_id: int, patch: TeamPatch) -> TeamOut:
    """Change a team: its name, its members or its supervisors (each list replaced)."""
    team = get_row(s, Team, team_id, "team")
    return team_view(s, _save_team(s, team, patch))


def _users(s: Session, field: str, value: object) -> list[User]:
    if not isinstance(value, list):
        raise InvalidError(f"{field}: {show(value)} is not valid; expected a list of usernames")
    out: list[User] = []
    for i, name in enumerate(value):
        user = s.scalar(select(User).where(User.username == name))
        if user is None:
            raise InvalidError(f"{field}[{i}]: unknown user {show(name)}")
        if user not in out:
            out.append(user)
    return out


def _save_team(s: Session, team: Team | None, changes: TeamIn | TeamPatch) -> Team:
    """Create (``team`` None) or update a team; a list not set is left as it is."""
    sent = changes.model_fields_set
    name = changes.name if "name" in sent else (team.name if team is not None else None)
    name = check_text("name", name if name is not None else "", 128, required=True)
    check_unique(s, Team.name, name, team, "team")
    members = _users(s, "members", changes.members) if "members" in sent else None
    supervisors = _users(s, "supervisors", changes.supervisors) if "supervisors" in sent else None
    for i, u in enumerate(supervisors or ()):
        if Role(u.role) not in SUPERVISOR_ROLES:
            raise InvalidError(
                f"supervisors[{i}]: user {u.username!r} has role {u.role!r}; expected a "
                "supervisor or manager"
            )
    team = team or Team()
    team.name = name
    s.add(team)
    s.flush()
    if members is not None:
        for u in s.scalars(select(User).where(User.team_id == team.id)):
            if u not in members:
                u.team_id = None
        for u in members:
            u.team_id = team.id
    if supervisors is not None:
        for ts in s.scalars(select(TeamSupervisor).where(TeamSupervisor.team_id == team.id)):
            s.delete(ts)
        s.flush()
        s.add_all(TeamSupervisor(team_id=team.id, user_id=u.id) for u in supervisors)
    s.flush()
    return team


def delete_team(s: Session, team_id: int) -> None:
    """Remove a team without members (its supervisors' assignments go with it)."""
    team = get_row(s, Team, team_id, "team")
    members = team_members(s, team_id)
    if members:
        raise ConflictError(
            f"team {team.name!r} has members ({', '.join(repr(m) for m in members)}); "
            "move them to another team first"
        )
    # row by row through the ORM (not a bulk DELETE): the audit log sees each one
    for ts in s.scalars(select(TeamSupervisor).where(TeamSupervisor.team_id == team_id)):
        s.delete(ts)
    s.delete(team)
    s.flush()


__all__ = [
    "SUPERVISOR_ROLES",
    "add_user",
    "agent_of",
    "changes_routing",
    "check_email",
    "check_team",
    "create_team",
    "deactivate_user",
    "delete_team",
    "get_team",
    "get_user",
    "list_teams",
    "list_users",
    "revoke_user_token",
    "revoke_user_tokens",
    "team_members",
    "team_supervisors",
    "team_view",
    "update_team",
    "update_user",
    "user_tokens",
    "user_view",
]
