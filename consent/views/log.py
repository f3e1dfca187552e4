"""The log's public face: the latest signed checkpoint and the key that verifies it.

Anyone may fetch both: a checkpoint names no one (a tree size and a root), and
publishing it is what lets outsiders notice a log that shows them another history.
"""

from django.http import HttpResponse
from django.views.decorators.http import require_GET

from consent import log


def _text(body):
    return HttpResponse(body, content_type="text/plain; charset=utf-8")


@require_GET
def checkpoint(request):
    latest = log.latest_checkpoint() or log.publish_checkpoint()
    return _text(log.note_with_cosignatures(latest))


@require_GET
def key(request):
    return _text(log.verifier_key() + "\n")
