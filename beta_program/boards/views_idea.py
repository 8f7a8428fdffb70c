"""The idea page and what people do on it, under the organisation they act for
(/o/<slug>/ideas/<id>/): vote with an importance, withdraw, comment with @mentions, follow,
download attachments; product staff hide comments.

Every route loads the idea with `access.idea_or_404` first, so an idea on a board the
organisation may not see answers 404 to GET and POST alike, as if it did not exist, and nothing
is written. A merged duplicate's page redirects to its primary. Refusals (a closed idea, an
importance that is not one of the three) come back as page messages, never as errors.

Customers on a public board must not learn each other's identities: a person's name is shown
only to people acting for the same organisation; other customers read "a customer"; staff see
names and organisations."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from beta_program.boards import actions, comment_actions
from beta_program.boards.access import (
    can_manage,
    idea_or_404,
    is_board_staff,
    may_participate,
    person_label,
    who_may_see,
)
from beta_program.boards.exceptions import BoardError
from beta_program.boards.forms_idea import CommentForm, SubscribeForm, VoteForm, first_error
from beta_program.boards.models import Comment, Idea, Subscription, Vote
from portal import markdown, people
from portal.exceptions import PermissionDeniedError
from portal.models import Organisation, User
from portal.security import harden_download
from portal.views import organisation_view

# The page lists the newest comments up to this many (older ones are still counted).
COMMENTS_SHOWN = 200


def _back(organisation: Organisation, idea: Idea) -> HttpResponse:
    return redirect("beta:idea", org_slug=organisation.slug, idea_id=idea.pk)


def _attempt(
    request: HttpRequest,
    organisation: Organisation,
    idea: Idea,
    action: Callable[[], object],
    done: str,
) -> HttpResponse:
    """Run one action; its refusal or `done` becomes the page's message, back on the idea."""
    try:
        action()
    except (BoardError, PermissionDeniedError) as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    return _back(organisation, idea)


def _staff_label(viewer: User, author_org: Organisation | None) -> str:
    # Staff also see which customer spoke; customers never do.
    return author_org.name if author_org is not None and is_board_staff(viewer) else ""


def voting_closed_reason(idea: Idea) -> str:
    if idea.status.is_closed:
        return _("Voting is closed: this idea is %(status)s.") % {
            "status": idea.status.display_name.lower()
        }
    return ""


def _comment_rows(
    request: HttpRequest, organisation: Organisation, idea: Idea
) -> list[dict[str, Any]]:
    """The shown comments, each rendered like a community post (portal.markdown) with its
    @mentions linked where they name someone who may see the idea."""
    comments = list(
        Comment.objects.filter(idea=idea, hidden=False)
        .select_related("author", "organisation")
        .order_by("-created_at", "-id")[:COMMENTS_SHOWN]
    )
    comments.reverse()
    handles: set[str] = set()
    for comment in comments:
        handles |= markdown.mentioned_handles(comment.body)
    found = people.lookup(handles=handles)
    seeing = who_may_see(idea, found.by_handle.values())
    links = {
        handle: found.links[handle]
        for handle, user_id in found.by_handle.items()
        if user_id in seeing and handle in found.links
    }
    renderer = markdown.Markdown(mention_href=links.__getitem__)
    return [
        {
            "comment": comment,
            "html": renderer.render(comment.body, mentions=links.keys()),
            "who": person_label(
                request.user, organisation, comment.author, comment.organisation_id
            ),
            "org": _staff_label(request.user, comment.organisation),
        }
        for comment in comments
    ]


@require_GET
@organisation_view()
def idea(request: HttpRequest, organisation: Organisation, idea_id: int) -> HttpResponse:
    found = idea_or_404(request.user, organisation, idea_id)
    if found.merged_into_id is not None:
        messages.info(
            request, _("That idea was merged into #%(id)s.") % {"id": found.merged_into_id}
        )
        return redirect("beta:idea", org_slug=organisation.slug, idea_id=found.merged_into_id)
    user = request.user
    my_vote = Vote.objects.filter(
        idea=found, voter=user, on_behalf=False, suppressed_by__isnull=True
    ).first()
    subscribed = Subscription.objects.filter(idea=found, user=user, active=True).exists()
    history = [
        {"change": change, "note_html": markdown.render(change.display_note)}
        for change in found.status_changes.select_related("to_status").order_by("changed_at", "id")
    ]
    vote_form = VoteForm(
        initial={"importance": my_vote.importance, "reason": my_vote.reason}
        if my_vote
        else {"importance": 2}
    )
    context = {
        "organisation": organisation,
        "idea": found,
        "problem_html": markdown.render(found.problem),
        "solution_html": markdown.render(found.solution) if found.solution else "",
        "tags": list(found.tags.all()),
        "attachments": list(found.attachments.all()),
        "history": history,
        "proposer": person_label(user, organisation, found.author, found.organisation_id),
        "proposer_org": _staff_label(user, found.organisation),
        "my_vote": my_vote,
        "vote_form": vote_form,
        "may_vote": may_participate(user, organisation),
        "voting_closed": voting_closed_reason(found),
        "subscribed": subscribed,
        "comments": _comment_rows(request, organisation, found),
        "comment_form": CommentForm(),
        "may_comment": may_participate(user, organisation) or can_manage(user),
        "can_manage": can_manage(user),
    }
    return render(request, "beta_program/boards/idea.html", context)


@require_POST
@organisation_view()
def vote(request: HttpRequest, organisation: Organisation, idea_id: int) -> HttpResponse:
    found = idea_or_404(request.user, organisation, idea_id)
    form = VoteForm(request.POST)
    if not form.is_valid():
        messages.error(request, first_error(form))
        return _back(organisation, found)
    return _attempt(
        request,
        organisation,
        found,
        lambda: actions.vote(
            found,
            organisation,
            request.user,
            form.cleaned_data["importance"],
            form.cleaned_data["reason"],
            request=request,
        ),
        _("Your vote is counted."),
    )


@require_POST
@organisation_view()
def unvote(request: HttpRequest, organisation: Organisation, idea_id: int) -> HttpResponse:
    found = idea_or_404(request.user, organisation, idea_id)
    if actions.withdraw_vote(found, request.user, request=request):
        messages.success(request, _("Your vote is withdrawn."))
    else:
        messages.info(request, _("You had not voted for this idea."))
    return _back(organisation, found)


@require_POST
@organisation_view()
def comment(request: HttpRequest, organisation: Organisation, idea_id: int) -> HttpResponse:
    found = idea_or_404(request.user, organisation, idea_id)
    form = CommentForm(request.POST)
    if not form.is_valid():
        messages.error(request, first_error(form))
        return _back(organisation, found)
    try:
        added = comment_actions.add_comment(
            found, organisation, request.user, form.cleaned_data["body"], request=request
        )
    except (BoardError, PermissionDeniedError) as exc:
        messages.error(request, exc.message)
        return _back(organisation, found)
    messages.success(request, _("Your comment is added."))
    response = _back(organisation, found)
    response["Location"] += f"#comment-{added.pk}"
    return response


@require_POST
@organisation_view()
def hide_comment(
    request: HttpRequest, organisation: Organisation, idea_id: int, comment_id: int
) -> HttpResponse:
    found = idea_or_404(request.user, organisation, idea_id)
    target = found.comments.filter(pk=comment_id).first() if 0 < comment_id < 2**63 else None
    if target is None:
        raise Http404("No such comment.")
    return _attempt(
        request,
        organisation,
        found,
        lambda: comment_actions.hide_comment(target, request.user, request=request),
        _("The comment is hidden."),
    )


@require_POST
@organisation_view()
def subscribe(request: HttpRequest, organisation: Organisation, idea_id: int) -> HttpResponse:
    found = idea_or_404(request.user, organisation, idea_id)
    form = SubscribeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose whether to follow the idea."))
        return _back(organisation, found)
    wanted = bool(form.cleaned_data["subscribed"])
    return _attempt(
        request,
        organisation,
        found,
        lambda: actions.set_subscribed(found, organisation, request.user, wanted),
        _("You follow this idea.") if wanted else _("You no longer follow this idea."),
    )


@require_GET
@organisation_view()
def attachment(
    request: HttpRequest, organisation: Organisation, idea_id: int, idea_attachment_id: int
) -> HttpResponse:
    found = idea_or_404(request.user, organisation, idea_id)
    if not 0 < idea_attachment_id < 2**63:
        raise Http404("No such attachment.")
    item = found.attachments.filter(pk=idea_attachment_id).first()
    if item is None:
        raise Http404("No such attachment.")
    response = FileResponse(
        item.file.open("rb"), as_attachment=True, filename=item.name, content_type=item.content_type
    )
    return harden_download(response)
