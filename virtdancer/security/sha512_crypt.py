"""SHA-512-crypt (`$6$...`) password hashes, in pure Python.

The first VirtDancer stored its users' passwords as glibc crypt(3) SHA-512 hashes, so existing
users files are full of `$6$[rounds=N$]salt$hash` strings and VirtDancer has to keep accepting
them. Python's `crypt` module was the obvious way to check them, but it is deprecated and was
removed in Python 3.13 (and it depends on whatever libcrypt the host has), so this module
implements the algorithm itself, following Ulrich Drepper's specification "Unix crypt using
SHA-256 and SHA-512".

Deliberate strictness beyond the specification: salts are limited to printable ASCII other than
`$` and `:` (a `:` would break a users file line, and non-ASCII would make "16 characters" and
"16 bytes" disagree), and a `rounds=` that is not a decimal number is an error rather than being
read as part of the salt, as glibc would.
"""

import hashlib
import hmac
import re

__all__ = ["is_sha512_crypt", "sha512_crypt", "verify_sha512_crypt"]

PREFIX = "$6$"
ROUNDS_PREFIX = "rounds="
ROUNDS_DEFAULT = 5000
ROUNDS_MIN = 1000
ROUNDS_MAX = 999_999_999
SALT_MAX_LENGTH = 16

# crypt's base-64: same idea as base64, but another alphabet and least significant bits first.
_ALPHABET = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

# The specification scatters the 64 digest bytes over 21 groups of three, each group written
# most significant byte first; the last byte (63) is then written on its own.
_BYTE_GROUPS = (
    (0, 21, 42), (22, 43, 1), (44, 2, 23), (3, 24, 45), (25, 46, 4), (47, 5, 26),
    (6, 27, 48), (28, 49, 7), (50, 8, 29), (9, 30, 51), (31, 52, 10), (53, 11, 32),
    (12, 33, 54), (34, 55, 13), (56, 14, 35), (15, 36, 57), (37, 58, 16), (59, 17, 38),
    (18, 39, 60), (40, 61, 19), (62, 20, 41),
)  # fmt: skip

# A salt character: printable ASCII, "!" to "~", except "$" and ":".
_SALT_PATTERN = "[!-#%-9;-~]"
_SALT_RE = re.compile(f"{_SALT_PATTERN}*")

# A hash exactly as sha512_crypt writes it. The 86th character only carries the top two bits of
# byte 63, so it can only be one of the first four letters of the alphabet.
_HASH_RE = re.compile(
    r"\$6\$(?:rounds=(?P<rounds>[1-9][0-9]*)\$)?"
    rf"{_SALT_PATTERN}{{0,{SALT_MAX_LENGTH}}}"
    r"\$[./0-9A-Za-z]{85}[./01]"
)
_DIGITS_RE = re.compile(r"[0-9]+")  # not str.isdigit(), which also accepts "²" and "١"


def sha512_crypt(password: str, setting: str) -> str:
    """Hash `password` the way glibc's crypt(3) does for a `$6$` setting.

    `setting` is `$6$[rounds=N$]salt`, optionally followed by `$` and anything (so a stored hash
    can be passed as is: only its rounds and salt are used). Raises ValueError if it is not a
    `$6$` setting.
    """
    rounds, rounds_given, salt = _parse_setting(setting)
    digest = _digest(password.encode("utf-8"), salt.encode("ascii"), rounds)
    # The specification only echoes rounds= when the setting had it, even for the default 5000.
    rounds_part = f"{ROUNDS_PREFIX}{rounds}$" if rounds_given else ""
    return f"{PREFIX}{rounds_part}{salt}${_encode(digest)}"


def is_sha512_crypt(value: str) -> bool:
    """Whether `value` is a `$6$` hash as sha512_crypt would have written it."""
    if not isinstance(value, str):
        return False
    match = _HASH_RE.fullmatch(value)
    if match is None:
        return False
    # A rounds count outside the limits is clamped on output, so it never appears in a real hash.
    rounds = match["rounds"]
    return rounds is None or ROUNDS_MIN <= int(rounds) <= ROUNDS_MAX


def verify_sha512_crypt(password: str, hashed: str) -> bool:
    """Whether `password` matches the `$6$` hash `hashed`; False if `hashed` is malformed."""
    # Checked first so that nothing below can raise on a bad users file entry.
    if not is_sha512_crypt(hashed):
        return False
    # Constant time, so response times don't reveal how much of a guess was right.
    return hmac.compare_digest(sha512_crypt(password, hashed).encode(), hashed.encode())


def _parse_setting(setting: str) -> tuple[int, bool, str]:
    """(rounds, whether rounds= was given, salt) of a `$6$` setting or hash."""
    if not setting.startswith(PREFIX):
        raise ValueError(f"not a SHA-512-crypt setting (expected {PREFIX!r})")
    rest = setting[len(PREFIX) :]
    rounds, rounds_given = ROUNDS_DEFAULT, False
    if rest.startswith(ROUNDS_PREFIX):
        value, dollar, rest = rest[len(ROUNDS_PREFIX) :].partition("$")
        if not dollar or not _DIGITS_RE.fullmatch(value):
            raise ValueError("rounds= must be a decimal number followed by '$'")
        # Anything longer than 9 digits is above the maximum anyway; this also keeps int() away
        # from absurdly long strings.
        rounds = ROUNDS_MAX if len(value) > 9 else int(value)
        rounds = max(ROUNDS_MIN, min(rounds, ROUNDS_MAX))
        rounds_given = True
    # The specification ignores salt characters past the 16th rather than rejecting them.
    salt = rest.partition("$")[0][:SALT_MAX_LENGTH]
    if not _SALT_RE.fullmatch(salt):
        raise ValueError("the salt may only hold printable ASCII characters other than '$' and ':'")
    return rounds, rounds_given, salt


def _sha512(data: bytes) -> bytes:
    return hashlib.sha512(data).digest()


def _stretch(block: bytes, length: int) -> bytes:
    """`block` repeated, then cut to `length` bytes."""
    return (block * (length // len(block) + 1))[:length]


def _digest(password: bytes, salt: bytes, rounds: int) -> bytes:
    """The 64-byte SHA-512-crypt digest, before its base-64 encoding."""
    # The numbered steps of the specification, grouped; their odd mixing order is the
    # algorithm itself, so it must be reproduced exactly.
    alternate = _sha512(password + salt + password)

    initial = password + salt + _stretch(alternate, len(password))
    # The bits of the password's length, lowest first, choose between the alternate digest and
    # the password itself.
    bits = len(password)
    while bits:
        initial += alternate if bits & 1 else password
        bits >>= 1
    digest = _sha512(initial)

    # Byte sequences as long as the password and the salt, fed to every round instead of the
    # password and salt themselves.
    p_bytes = _stretch(_sha512(password * len(password)), len(password))
    s_bytes = _stretch(_sha512(salt * (16 + digest[0])), len(salt))

    # The rounds are what make the hash slow to brute-force.
    for i in range(rounds):
        data = p_bytes if i % 2 else digest
        if i % 3:
            data += s_bytes
        if i % 7:
            data += p_bytes
        data += digest if i % 2 else p_bytes
        digest = _sha512(data)
    return digest


def _encode(digest: bytes) -> str:
    """The 86-character crypt base-64 text of a 64-byte digest."""
    chars = []
    for high, middle, low in _BYTE_GROUPS:
        word = digest[high] << 16 | digest[middle] << 8 | digest[low]
        chars.extend(_ALPHABET[(word >> shift) & 0x3F] for shift in (0, 6, 12, 18))
    last = digest[63]
    chars.extend((_ALPHABET[last & 0x3F], _ALPHABET[last >> 6]))
    return "".join(chars)
