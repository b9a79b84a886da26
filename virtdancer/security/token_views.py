"""API tokens: POST /tokens makes one, GET /tokens lists them, DELETE /tokens/<id> revokes one.

Every user may make tokens — a viewer too, of scope read — of at most their own role, and
sees and revokes their own; an admin sees and revokes everyone's. A token is made by a person
(a password, or the page's session), never by another token: a token that leaked could
otherwise mint tokens that outlive its revocation.
"""

from .. import answers
from ..openapi.links import Link
from ..permissions import Permission
from ..resources.tokens import Token, TokenCollection
from ..schemas import NewTokenBody
from ..views.bodies import body_validator
from ..views.errors import error_response
from ..views.service import VirtDancerService as Service
from .tokens import TokenNotMade, scope_within, scopes_within

tokens = Service(name="virtdancer.tokens", pyramid_route="virtdancer.tokens",
                 description="The user's API tokens (an admin's: everyone's)")
token = Service(name="virtdancer.token", pyramid_route="virtdancer.token",
                description="One API token")


# Under a host portal's own security there are no tokens: /tokens is a 404 there.
@tokens.get(context=TokenCollection, permission=Permission.TOKENS,
            response_schemas={200: answers.TokenList()}, errors=(404,))
def list_tokens(request):
    """The tokens the user sees, the newest first; never their secrets."""
    return [record.answer() for record in request.context.records()]


@tokens.post(context=TokenCollection, permission=Permission.TOKENS, schema=NewTokenBody(),
             validators=(body_validator,), response_schemas={201: answers.NewTokenAnswer()},
             errors=(404, 409),
             links={201: (Link.to("get", "virtdancer.token", id="id"),
                          Link.to("delete", "virtdancer.token", id="id"))})
def create_token(request):
    """201: the token's text, this once."""
    user = request.identity
    if user.token_id is not None:
        return error_response(403, "an API token cannot make API tokens: make them with your "
                                   "password or in the page", location="header",
                              name="Authorization")
    body = request.validated
    if not scope_within(body["scope"], user.role):
        return error_response(403, f"{user.name} ({user.role}) may make tokens of scope "
                                   f"{' or '.join(scopes_within(user.role))}, not "
                                   f"{body['scope']}", location="body", name="scope")
    try:
        record, text = request.context.service.create(user.name, body["name"], body["scope"],
                                                      body["expires"])
    except TokenNotMade as refusal:
        return error_response(409, refusal.message, location="body", name=refusal.name)
    request.response.status = 201
    request.response.location = request.route_url("virtdancer.token", id=record.id)
    return {**record.answer(), "token": text}


@token.get(context=Token, permission=Permission.TOKENS,
           response_schemas={200: answers.TokenAnswer()})
def show_token(request):
    """One token, never its secret."""
    return request.context.record.answer()


@token.delete(context=Token, permission=Permission.TOKENS,
              response_schemas={200: answers.RevokedTokenAnswer()})
def revoke_token(request):
    """Revoke it: from now on, requests with the token get 401s.

    A token may revoke itself (a script cleaning up), never another: a read-only token that
    leaked must not be able to revoke every token of its user.
    """
    user = request.identity
    if user.token_id is not None and user.token_id != request.context.record.id:
        return error_response(403, "an API token can revoke only itself: revoke other tokens "
                                   "with your password or in the page", location="header",
                              name="Authorization")
    request.context.revoke()
    return {"result": "revoked", "id": request.context.record.id}
