"""SHA-512-crypt hashes of the first VirtDancer's users files, computed without `crypt`."""

import random
import warnings

import pytest

from virtdancer.security.sha512_crypt import (
    _parse_setting,
    is_sha512_crypt,
    sha512_crypt,
    verify_sha512_crypt,
)

# The SHA-512 test vectors of Drepper's "Unix crypt using SHA-256 and SHA-512": (password,
# setting, hash). All were checked against this machine's crypt.crypt (libxcrypt); the last one
# only with rounds=1000, since libxcrypt rejects rounds below the minimum instead of clamping.
SPEC_VECTORS = [
    (
        "Hello world!",
        "$6$saltstring",
        "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCo"
        "EOfaS35inz1",
    ),
    (
        "Hello world!",
        "$6$rounds=10000$saltstringsaltstring",
        "$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8"
        "vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v.",
    ),
    (
        "This is just a test",
        "$6$rounds=5000$toolongsaltstring",
        "$6$rounds=5000$toolongsaltstrin$lQ8jolhgVRVhY4b5pZKaysCLi0QBxGoNeKQzQ3glMhwllF7oGDZxUhx1"
        "yxdYcz/e1JSbq3y6JMxxl8audkUEm0",
    ),
    (
        "a very much longer text to encrypt.  This one even stretches over morethan one line.",
        "$6$rounds=1400$anotherlongsaltstring",
        "$6$rounds=1400$anotherlongsalts$POfYwTEok97VWcjxIiSOjiykti.o/pQs.wPvMxQ6Fm7I6IoYN3CmLs66"
        "x9t0oSwbtEW7o7UmJEiDwGqd8p4ur1",
    ),
    (
        "we have a short salt string but not a short password",
        "$6$rounds=77777$short",
        "$6$rounds=77777$short$WuQyW2YR.hBNpjjRhpYD/ifIw05xdfeEyQoMxIXbkvr0gge1a1x3yRULJ5CCaUeOxFm"
        "tlcGZelFl5CxtgfiAc0",
    ),
    (
        "a short string",
        "$6$rounds=123456$asaltof16chars..",
        "$6$rounds=123456$asaltof16chars..$BtCwjqMJGx5hrJhZywWvt0RLE8uZ4oPwcelCjmw2kSYu.Ec6ycULev"
        "oBK25fs2xXgMNrCzIMVcgEJAstJeonj1",
    ),
    (
        "the minimum number is still observed",
        "$6$rounds=10$roundstoolow",
        "$6$rounds=1000$roundstoolow$kUMsbe306n21p9R.FRkW3IGn.S9NPN0x50YhH1xhLsPuWGsUSklZt58jaTfF"
        "4ZEQpyUNGc0dqbpBYYBaHHrsX.",
    ),
]

HELLO_HASH = SPEC_VECTORS[0][2]

MALFORMED_HASHES = [
    "",
    "$6$",
    "$6$salt",
    "$6$salt$",
    "$6$rounds=5000$salt",
    "$6$rounds=abc$salt$" + HELLO_HASH[-86:],
    "$6$rounds=$saltstring$" + HELLO_HASH[-86:],
    "$6$rounds=-5000$saltstring$" + HELLO_HASH[-86:],
    # Clamped on output, so never in a real hash; also keeps leading zeros out.
    "$6$rounds=10$roundstoolow$" + SPEC_VECTORS[-1][2][-86:],
    "$6$rounds=01000$roundstoolow$" + SPEC_VECTORS[-1][2][-86:],
    "$6$rounds=1000000000$salt$" + HELLO_HASH[-86:],
    # SHA-256-crypt and MD5-crypt are other schemes.
    "$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZF.oTZ6Y2",
    "$1$saltstri$YMyguxXMBpd2TEZ.vS/3q1",
    HELLO_HASH[:-1],  # 85 characters of hash
    HELLO_HASH + ".",  # 87
    HELLO_HASH[:-1] + "2",  # the last character only holds two bits
    HELLO_HASH[:-2] + "_1",  # outside the alphabet
    HELLO_HASH.replace("$6$", "$6$$"),
    "$6$saltstringsaltstring$" + HELLO_HASH[-86:],  # salt longer than 16
    "$6$salt:x$" + HELLO_HASH[-86:],
    "$6$sält$" + HELLO_HASH[-86:],
    "$6$salt string$" + HELLO_HASH[-86:],
    " " + HELLO_HASH,
    HELLO_HASH + "\n",
    "6$saltstring$" + HELLO_HASH[-86:],
]


def system_crypt():
    """Python 3.11's crypt.crypt, the reference; the project runs on 3.11, so no skipping."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import crypt
    return crypt.crypt


@pytest.mark.parametrize(("password", "setting", "expected"), SPEC_VECTORS)
def test_specification_vectors(password, setting, expected):
    assert sha512_crypt(password, setting) == expected
    assert is_sha512_crypt(expected)
    # verify passes the hash itself as the setting, so this also shows that a hash is its own
    # setting.
    assert verify_sha512_crypt(password, expected)
    assert not verify_sha512_crypt(password + " ", expected)


# libxcrypt refuses these salt characters that the specification (and this module) accepts.
_LIBXCRYPT_REFUSED = set("!*;\\")
SALT_CHARS = [chr(c) for c in range(0x21, 0x7F) if chr(c) not in set("$:") | _LIBXCRYPT_REFUSED]
PASSWORD_CHARS = [chr(c) for c in range(0x20, 0x7F)] + list("\téüßñ€日本語кот😀")


def random_cases(count=40, seed=6):
    rng = random.Random(seed)
    # Lengths on both sides of the 64-byte blocks the algorithm stretches its inputs to.
    lengths = [0, 1, 2, 63, 64, 65, 127, 128, 129]
    for index in range(count):
        length = lengths[index] if index < len(lengths) else rng.randrange(0, 200)
        password = "".join(rng.choice(PASSWORD_CHARS) for _ in range(length))
        salt = "".join(rng.choice(SALT_CHARS) for _ in range(rng.randrange(0, 21)))
        rounds = rng.choice([None, None, 1000, 5000, rng.randrange(1000, 1100)])
        # Default rounds (5000) are slower: keep the rest of the cases cheap.
        if rounds is None and index % 4:
            rounds = rng.randrange(1000, 1100)
        setting = "$6$" + ("" if rounds is None else f"rounds={rounds}$") + salt
        yield password, setting


@pytest.mark.parametrize(("password", "setting"), list(random_cases()))
def test_matches_system_crypt(password, setting):
    expected = system_crypt()(password, setting)
    assert expected.startswith("$6$")  # not libxcrypt's "*0" failure marker
    assert sha512_crypt(password, setting) == expected
    assert verify_sha512_crypt(password, expected)
    assert not verify_sha512_crypt(password + "x", expected)
    if password:
        assert not verify_sha512_crypt(password[:-1], expected)


def test_empty_password():
    crypt = system_crypt()
    for setting in ["$6$saltstring", "$6$rounds=1000$saltstring", "$6$"]:
        expected = crypt("", setting)
        assert sha512_crypt("", setting) == expected
        assert verify_sha512_crypt("", expected)
        assert not verify_sha512_crypt(" ", expected)


def test_non_ascii_password_is_utf8():
    hashed = sha512_crypt("pässwörd", "$6$rounds=1000$saltstring")
    assert hashed == system_crypt()("pässwörd", "$6$rounds=1000$saltstring")
    assert verify_sha512_crypt("pässwörd", hashed)
    # The same letters decomposed are other bytes, so another password.
    assert not verify_sha512_crypt("pa\u0308sswo\u0308rd", hashed)


def test_rounds_are_echoed_only_when_given():
    default = sha512_crypt("secret", "$6$saltstring")
    explicit = sha512_crypt("secret", "$6$rounds=5000$saltstring")
    assert not default.startswith("$6$rounds=")
    assert explicit.startswith("$6$rounds=5000$saltstring$")
    assert default[-86:] == explicit[-86:]


def test_rounds_are_clamped():
    assert _parse_setting("$6$rounds=0$salt") == (1000, True, "salt")
    assert _parse_setting("$6$rounds=999$salt") == (1000, True, "salt")
    assert _parse_setting("$6$rounds=999999999$salt") == (999_999_999, True, "salt")
    assert _parse_setting("$6$rounds=1000000000$salt") == (999_999_999, True, "salt")
    assert _parse_setting("$6$rounds=" + "9" * 5000 + "$salt") == (999_999_999, True, "salt")
    assert _parse_setting("$6$rounds=0001500$salt") == (1500, True, "salt")


def test_salt_is_truncated_to_16_characters():
    hashed = sha512_crypt("secret", "$6$0123456789abcdefXYZ$whatever")
    assert hashed.startswith("$6$0123456789abcdef$")
    assert is_sha512_crypt(hashed)


@pytest.mark.parametrize(
    "setting",
    [
        "",
        "$5$saltstring",
        "6$saltstring",
        "$6$rounds=abc$salt",
        "$6$rounds=1000",
        "$6$rounds=1_000$salt",
        "$6$rounds=²$salt",
        "$6$salt:x",
        "$6$sält",
        "$6$salt string",
    ],
)
def test_malformed_settings_are_refused(setting):
    with pytest.raises(ValueError):
        sha512_crypt("secret", setting)


@pytest.mark.parametrize("hashed", MALFORMED_HASHES)
def test_malformed_hashes_never_verify(hashed):
    assert not is_sha512_crypt(hashed)
    assert verify_sha512_crypt("Hello world!", hashed) is False


@pytest.mark.parametrize("hashed", [None, HELLO_HASH.encode(), 6])
def test_non_strings_never_verify(hashed):
    assert not is_sha512_crypt(hashed)
    assert verify_sha512_crypt("Hello world!", hashed) is False
