"""GET /audit: who did what, for admins; an admin limited by users-file filters reads only the
records of the hosts and VMs they see (and their own)."""

from .. import answers
from ..permissions import Permission
from ..resources.audit import AuditLog
from ..schemas import AuditQuery
from .service import VirtDancerService

audit = VirtDancerService(name="virtdancer.audit", pyramid_route="virtdancer.audit",
                          description="The audit trail: who did what, newest first")

FILTERS = ("user", "host", "vm", "action", "since", "until", "before")


def record_answer(record):
    """A stored record as the API answers it: its VM as `{uuid, name}` or null."""
    answer = {name: value for name, value in record.items()
              if name not in ("vm_uuid", "vm_name")}
    answer["vm"] = ({"uuid": record["vm_uuid"], "name": record["vm_name"]}
                    if record["vm_uuid"] is not None else None)
    return answer


# Without the trail (virtdancer.audit.enabled = false) /audit is a 404.
@audit.get(context=AuditLog, permission=Permission.ADMIN, query=AuditQuery(),
           response_schemas={200: answers.AuditPage()}, errors=(404,))
def list_audit_records(request):
    """`{records, next_before}`: the records matching every filter given, newest first."""
    wanted = request.validated
    limit = wanted["limit"]
    # One more than a page: whether there is a next page, without asking again.
    records = request.context.records(limit=limit + 1,
                                      **{name: wanted[name] for name in FILTERS})
    page = records[:limit]
    return {"records": [record_answer(record) for record in page],
            "next_before": page[-1]["id"] if len(records) > limit else None}
