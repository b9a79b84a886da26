"""Password hashes: argon2id for new ones; the first VirtDancer's `$6$` hashes still accepted."""

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from .sha512_crypt import is_sha512_crypt, verify_sha512_crypt

_hasher = PasswordHasher()  # argon2id with argon2-cffi's recommended cost

# Checked when a user name is unknown, so that a wrong name costs as long as a wrong password
# and the time of an answer does not tell which names exist.
_DECOY_HASH = _hasher.hash("VirtDancer decoy password")


def hash_password(password):
    """An argon2id hash of `password`."""
    return _hasher.hash(password)


def check_password(password, hashed):
    """`(matches, better_hash)`: better_hash is a new argon2id hash to store, or None.

    A `$6$` hash (or an argon2 hash of outdated cost) that matches is answered with its
    replacement, so that each user is moved to argon2id at their next successful login.
    """
    try:
        password.encode("utf-8")
    except UnicodeEncodeError:
        return False, None   # lone surrogates from a JSON body: no hash can match them
    if is_sha512_crypt(hashed):
        if verify_sha512_crypt(password, hashed):
            return True, hash_password(password)
        return False, None
    try:
        _hasher.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False, None
    return True, (hash_password(password) if _hasher.check_needs_rehash(hashed) else None)


def waste_time_like_a_check(password):
    """Spend what a real check costs; for unknown users."""
    check_password(password, _DECOY_HASH)
