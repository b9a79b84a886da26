"""VirtDancer's own authentication: users file, passwords, policy.

Standalone, `main()` includes this package. A host portal that mounts VirtDancer keeps its own
security policy unless it opts in with
`config.include("virtdancer.security", route_prefix="/virt")`, which brings:

- the users file (`virtdancer.users_file`) with roles and per-user VM filters;
- HTTP Basic authentication for scripts, and a login session (signed cookie, CSRF token in a
  header for writes) for the browser UI, at `POST /login`, `POST /logout`, `GET /session`;
- throttling of failed logins per user name and per client address;
- API tokens for scripts (`Authorization: Bearer`), at `/tokens`, kept in the state store.

The page asks for `login` and `session` beside itself, so this package's routes must be under
the prefix VirtDancer is included at: a configuration where they are not is refused at commit.
"""

from pyramid.exceptions import ConfigurationError
from pyramid.interfaces import PHASE3_CONFIG, ISessionFactory

from ..interfaces import IApiTokens, IAuditTrail, IStateStore
from ..published_secrets import PublishedSecret, refuse_published_secret
from ..routes import mount_path
from ..settings import SettingsError, check, value
from .policy import Authenticator, VirtDancerSecurityPolicy
from .session_cookies import session_factory
from .throttle import LoginThrottle
from .tokens import ApiTokens
from .users import UsersFile, UsersFileError

SESSION_COOKIE = "virtdancer_session"


class SecuritySettingsError(ConfigurationError):
    """A setting VirtDancer's security needs is missing or wrong; the message says which."""


def security_from_settings(settings):
    """The security policy and session factory that `virtdancer.*` settings describe."""
    try:
        check(settings)
    except SettingsError as error:
        raise SecuritySettingsError(str(error)) from None
    users_path = value(settings, "virtdancer.users_file")
    if not users_path:
        raise SecuritySettingsError(
            "virtdancer.users_file is not set: point it at a users file (see README, 'Users')")
    secret = value(settings, "virtdancer.secret")
    if len(secret) < 32:
        raise SecuritySettingsError(
            "virtdancer.secret is unset or shorter than 32 characters: set it to a long random "
            "string, such as the output of "
            "`python3 -c 'import secrets; print(secrets.token_hex(32))'`")
    try:
        refuse_published_secret(settings)
    except PublishedSecret as error:
        raise SecuritySettingsError(str(error)) from None
    try:
        users = UsersFile(users_path,
                          check_interval=value(settings, "virtdancer.users_file.check_interval"))
    except UsersFileError as error:
        raise SecuritySettingsError(f"virtdancer.users_file: {error}") from None
    throttle = LoginThrottle(
        per_user=value(settings, "virtdancer.login.max_failures_per_user"),
        per_address=value(settings, "virtdancer.login.max_failures_per_address"),
        per_name=value(settings, "virtdancer.login.max_failures_per_name"),
        window=value(settings, "virtdancer.login.failure_window"),
    )
    session_lifetime = value(settings, "virtdancer.session.timeout")
    session_max_age = value(settings, "virtdancer.session.max_age")
    policy = VirtDancerSecurityPolicy(Authenticator(users, throttle), session_lifetime,
                                      session_max_age)
    sessions = session_factory(
        secret,
        cookie_name=SESSION_COOKIE,
        secure=value(settings, "virtdancer.session.secure"),
        httponly=True,
        samesite="Strict",
        timeout=session_lifetime,
        # Renewed often enough that activity keeps even a short session alive (Pyramid counts
        # whole seconds), and not at every request.
        reissue_time=max(1, min(60, session_lifetime // 10)),
    )
    return policy, sessions


def check_same_prefix(registry, login_path):
    """Refuse login routes that are not where VirtDancer's page looks for them."""
    page_path = getattr(registry, "virtdancer_mount_path", None)
    if page_path is not None and page_path != login_path:
        raise ConfigurationError(
            f"virtdancer.security is included under {login_path or '/'!r} but virtdancer under "
            f"{page_path or '/'!r}: include both with the same route_prefix, e.g. "
            f"config.include('virtdancer.security', route_prefix={page_path or '/'!r}), so that "
            f"the page finds its login and session")


def tokens_from_settings(settings, store, users):
    """The API tokens kept in `store` (a `StateStore`), of the users in `users`."""
    return ApiTokens(store, users, value(settings, "virtdancer.tokens.max_failures_per_address"),
                     value(settings, "virtdancer.login.failure_window"))


def _recorder_of_reloads(registry):
    """What the users file calls when it is read again: an audit record, if there is a trail."""
    def record(error):
        trail = registry.queryUtility(IAuditTrail)
        if trail is not None:
            trail.write(action="users-file.reload", error=error)
    return record


def _peek_if_ours(policy, registry, sessions):
    policy.sessions = sessions if registry.queryUtility(ISessionFactory) is sessions else None


def includeme(config):
    settings = config.get_settings()
    # Its settings checked first: a missing secret is said before a state file's folder is.
    policy, sessions = security_from_settings(settings)
    config.include("virtdancer.state")
    policy.tokens = tokens_from_settings(settings, config.registry.getUtility(IStateStore),
                                         policy.authenticator.users)
    config.registry.registerUtility(policy.tokens, IApiTokens)
    policy.authenticator.users.on_change = _recorder_of_reloads(config.registry)
    config.set_security_policy(policy)
    config.set_session_factory(sessions)
    # Once every include's factory is set: the policy reads sessions without making them
    # only if the sessions are VirtDancer's (a portal may set its own factory after ours).
    config.action(None, _peek_if_ours, args=(policy, config.registry, sessions),
                  order=PHASE3_CONFIG + 1)
    config.include(".views")
    # Checked once everything is included, whichever of the two the host included first.
    login_path = mount_path(config.route_prefix)
    config.action(None, check_same_prefix, args=(config.registry, login_path))
