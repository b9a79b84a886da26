"""Console tokens and event tickets share their signing, checking and single use
(signed_tickets.py): the same refusals, each in its kind's words."""

import json

import pytest

from virtdancer.console.tokens import ConsoleTokens
from virtdancer.live.tickets import EventTickets
from virtdancer.signed_tickets import TokenRefused, b64url_encode

from .conftest import SECRET


def console_token(tokens):
    return tokens.issue(user="tenant", host="default", vm="u", origin="http://x")[0]


def event_ticket(tickets):
    return tickets.issue(user="tenant", origin="http://x", operates=True)[0]


KINDS = [pytest.param(ConsoleTokens, console_token, "console token",
                      {"hosts": ("default",)}, id="console"),
         pytest.param(EventTickets, event_ticket, "event ticket", {}, id="events")]


def signed(tickets, text):
    """`text` as a payload signed with `tickets`' key: genuine, whatever it says."""
    encoded = b64url_encode(text.encode())
    return f"{encoded}.{tickets._sign(encoded)}"


@pytest.mark.parametrize("kind, issue, noun, options", KINDS)
@pytest.mark.parametrize("ticket", ["", "no-dot-at-all", "a.b.c", "é.x", None, 7])
def test_malformed_tickets_are_refused_as_malformed(kind, issue, noun, options, ticket):
    # A ticket without a dot was "event ticket has a wrong signature" before the kinds shared
    # their checks; "malformed" says it better.
    with pytest.raises(TokenRefused, match=f"^malformed {noun}$"):
        kind(SECRET).verify(ticket, **options)


@pytest.mark.parametrize("kind, issue, noun, options", KINDS)
@pytest.mark.parametrize("payload", ["not json", "[]", '{"u": "x"}'])
def test_signed_claims_of_another_shape_are_malformed(kind, issue, noun, options, payload):
    tickets = kind(SECRET)
    with pytest.raises(TokenRefused, match=f"^malformed {noun}$"):
        tickets.verify(signed(tickets, payload), **options)


def test_a_bool_passes_only_where_a_claim_is_a_bool():
    tokens, tickets = ConsoleTokens(SECRET), EventTickets(SECRET)
    claims = {"u": "t", "h": "default", "v": "u", "o": "o", "e": True, "n": "x"}
    with pytest.raises(TokenRefused, match="^malformed console token$"):
        tokens.verify(signed(tokens, json.dumps(claims)), hosts=("default",))
    claims = {"u": "t", "o": "o", "p": True, "m": "", "e": 4e9, "n": "x"}
    assert tickets.verify(signed(tickets, json.dumps(claims)))["p"] is True


@pytest.mark.parametrize("kind, issue, noun, options", KINDS)
def test_a_ticket_is_good_once_until_it_expires(kind, issue, noun, options):
    tickets = kind(SECRET)
    ticket = issue(tickets)
    claims = tickets.verify(ticket, **options)
    tickets.verify(ticket, **options)         # verifying uses nothing up
    tickets.consume(claims)
    with pytest.raises(TokenRefused, match=f"^{noun} was used already: "):
        tickets.consume(claims)
    tickets.clock = lambda: 4e9
    with pytest.raises(TokenRefused, match=f"^{noun} expired: "):
        tickets.verify(issue(kind(SECRET)), **options)


def test_one_kind_never_passes_for_the_other():
    tokens, tickets = ConsoleTokens(SECRET), EventTickets(SECRET)
    with pytest.raises(TokenRefused, match="^event ticket has a wrong signature$"):
        tickets.verify(console_token(tokens))
    with pytest.raises(TokenRefused, match="^console token has a wrong signature$"):
        tokens.verify(event_ticket(tickets), hosts=("default",))
