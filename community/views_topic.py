"""Reading and writing topics: the topic page and its composer, new topics, edits and their
history, deletion, reactions, accepted answers, flags, staff tools and attachment downloads.

Views parse and authorise, call one action of `community.actions` (or `community.moderation`)
and respond. Whatever a person may not see answers 404, whether or not it exists; a refused
action shows its message on the form with the error's status (400, 403, 429).
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping
from functools import wraps
from typing import TypeVar

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.forms import Form
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponsePermanentRedirect,
    JsonResponse,
)
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import strip_tags
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from community import access, actions, moderation, post_fragments, topic_page
from community.exceptions import CommunityError, NotVisible
from community.forms import (
    EditPostForm,
    FlagForm,
    MergeForm,
    MoveForm,
    ReplyForm,
    TopicForm,
)
from community.markdown import POSTS
from community.models import (
    Attachment,
    Level,
    Post,
    PostStatus,
    Reaction,
    ReactionKind,
    Topic,
    TopicKind,
    is_community_staff,
    is_moderator,
)
from portal import images
from portal import markdown as portal_markdown
from portal.http import SignedInRequest
from portal.models import User

V = TypeVar("V")


def _not_visible_is_404(view: Callable) -> Callable:
    """Lookups of the actions raise NotVisible for what the person may not see: answer 404."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except NotVisible as error:
            raise Http404(error.message) from error

    return wrapper


def _excerpt(post: Post, length: int = 300) -> str:
    """The post as plain text, shortened (the template escapes it)."""
    return Truncator(html.unescape(strip_tags(post.html))).chars(length)


def _form_error(form: Form, error: CommunityError) -> None:
    form.add_error(error.field if error.field in form.fields else None, error.message)


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


# --------------------------------------------------------------------------------------------
# The topic page
# --------------------------------------------------------------------------------------------


def _render_topic(
    request: SignedInRequest,
    topic: Topic,
    *,
    reply_form: ReplyForm | None = None,
    preview: str = "",
    status: int = 200,
) -> HttpResponse:
    user = request.user
    member = actions.touch(user)
    posts = topic_page.decorated_posts(user, topic)
    by_id = {post.pk: post for post in posts}
    if reply_form is None:
        initial = {}
        quoted = _quoted_post(request, by_id)
        if quoted is not None:
            initial = {
                "body": portal_markdown.quote(quoted.body, quoted.handle, quoted.number),
                "reply_to": quoted.pk,
            }
        reply_form = ReplyForm(initial=initial)
    reply_to = _by_key(by_id, _int(reply_form["reply_to"].value()))
    accepted = _by_key(by_id, topic.accepted_answer_id)
    level = topic_page.notification_level(user, topic)
    refusal = access.posting_refusal(user, topic.space, topic, member=member)
    shown, composer = post_fragments.topic_html(
        request,
        topic,
        posts,
        {"reply_form": reply_form, "reply_to": reply_to, "preview": preview, "refusal": refusal},
    )
    return render(
        request,
        "community/topic.html",
        {
            "topic": topic,
            "space": topic.space,
            "posts": list(zip(posts, shown, strict=True)),
            "accepted": accepted,
            "tags": topic_page.tags(topic),
            "is_question": topic.kind == TopicKind.QUESTION,
            "composer": composer,
            # Printed by the template rather than through LevelForm's widget, whose rendering
            # cost as much as the rest of the page head.
            "level": level or Level.NORMAL,
            "levels": Level.choices,
            "is_staff": is_community_staff(user),
        },
        status=status,
    )


def _by_key(mapping: Mapping[int, V], key: int | None) -> V | None:
    """`mapping[key]`, or None when the key is missing or there is none (an empty foreign key,
    a query parameter that is not a number)."""
    return mapping.get(key) if key is not None else None


def _int(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return None


def _quoted_post(request: HttpRequest, by_id: dict[int, Post]) -> Post | None:
    """`?quote=<post id>` names a post of this topic to quote (anything else is ignored)."""
    post = _by_key(by_id, _int(request.GET.get("quote")))
    return post if post is not None and post.status == PostStatus.VISIBLE else None


@login_required
@require_GET
def topic(request: SignedInRequest, topic_id: int) -> HttpResponse:
    found = topic_page.reader_topic_or_404(request.user, topic_id)
    if found.merged_into_id:
        return HttpResponsePermanentRedirect(
            reverse("community:topic", kwargs={"topic_id": found.merged_into_id})
        )
    return _render_topic(request, found)


@login_required
@require_POST
@_not_visible_is_404
def reply(request: SignedInRequest, topic_id: int) -> HttpResponse:
    topic = access.visible_topic(request.user, topic_id)
    form = ReplyForm(request.POST, request.FILES)
    status = 400
    if form.is_valid():
        data = form.cleaned_data
        reply_to = None
        if data["reply_to"]:
            reply_to = (
                Post.objects.readable_by(request.user)
                .filter(topic=topic, pk=data["reply_to"])
                .first()
            )
        if data["reply_to"] and reply_to is None:
            form.add_error(None, _("The post you replied to is gone; reply to the topic instead."))
        elif "preview" in request.POST:
            shown = actions.preview(topic.space, data["body"])
            return _render_topic(request, topic, reply_form=form, preview=shown)
        else:
            try:
                post = actions.reply(
                    request.user,
                    topic,
                    body=data["body"],
                    reply_to=reply_to,
                    attachments=data["attachments"],
                    request=request,
                )
            except NotVisible:
                raise
            except CommunityError as error:
                _form_error(form, error)
                status = error.status
            else:
                messages.success(request, _("Your reply is posted."))
                return redirect(post.get_absolute_url())
    # Read again: the refused reply may have met a topic that was hidden or moved meanwhile.
    topic = topic_page.reader_topic_or_404(request.user, topic_id)
    return _render_topic(request, topic, reply_form=form, status=status)


@login_required
@require_GET
@_not_visible_is_404
def quote(request: SignedInRequest, post_id: int) -> HttpResponse:
    post = access.visible_post(request.user, post_id)
    url = reverse("community:topic", kwargs={"topic_id": post.topic_id})
    return redirect(f"{url}?quote={post.pk}#reply")


# --------------------------------------------------------------------------------------------
# Starting a topic
# --------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
@_not_visible_is_404
def new_topic(request: SignedInRequest, space_slug: str) -> HttpResponse:
    space = access.visible_space(request.user, slug=space_slug)
    refusal = access.posting_refusal(request.user, space)
    if refusal:
        return render(
            request,
            "community/new_topic.html",
            {"space": space, "refusal": refusal},
            status=403 if request.method == "POST" else 200,
        )
    form = TopicForm(request.POST or None, request.FILES or None)
    status = 200
    shown = ""
    if request.method == "POST":
        status = 400
        if form.is_valid() and "preview" in request.POST:
            shown = actions.preview(space, form.cleaned_data["body"])
            status = 200
        elif form.is_valid():
            data = form.cleaned_data
            try:
                topic = actions.create_topic(
                    request.user,
                    space,
                    title=data["title"],
                    body=data["body"],
                    kind=data["kind"],
                    tags=data["tags"],
                    attachments=data["attachments"],
                    request=request,
                )
            except NotVisible:
                raise
            except CommunityError as error:
                _form_error(form, error)
                status = error.status
            else:
                messages.success(request, _("Your topic is posted."))
                return redirect(topic.get_absolute_url())
    return render(
        request,
        "community/new_topic.html",
        {"space": space, "form": form, "preview": shown},
        status=status,
    )


# --------------------------------------------------------------------------------------------
# Editing, history and deletion
# --------------------------------------------------------------------------------------------


def _edit_refusal(user: User, post: Post) -> str | None:
    if is_moderator(user):
        return None
    if post.author_id != user.pk:
        return _("Only the author or a moderator can change this post.")
    return access.posting_refusal(user, post.topic.space, post.topic)


@login_required
@require_http_methods(["GET", "POST"])
@_not_visible_is_404
def edit_post(request: SignedInRequest, post_id: int) -> HttpResponse:
    post = access.visible_post(request.user, post_id)
    topic = post.topic
    context = {"post": post, "topic": topic, "mode": "edit"}
    refusal = _edit_refusal(request.user, post)
    if refusal:
        return render(
            request, "community/edit_post.html", {**context, "refusal": refusal}, status=403
        )
    initial: dict[str, object] = {"body": post.body}
    if post.is_opening:
        initial.update(title=topic.title, tags=list(topic.tags.values_list("slug", flat=True)))
    form = EditPostForm(request.POST or None, initial=initial, opening=post.is_opening)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                actions.edit_post(
                    request.user,
                    post,
                    body=data["body"],
                    title=data.get("title"),
                    tags=data.get("tags"),
                    request=request,
                )
            except NotVisible:
                raise
            except CommunityError as error:
                _form_error(form, error)
                status = error.status
            else:
                messages.success(request, _("Your changes are saved."))
                return redirect(post.get_absolute_url())
    return render(request, "community/edit_post.html", {**context, "form": form}, status=status)


@login_required
@require_GET
@_not_visible_is_404
def history(request: SignedInRequest, post_id: int) -> HttpResponse:
    post = access.visible_post(request.user, post_id)
    revisions = list(post.revisions.select_related("edited_by").order_by("-number"))
    handles = access.handles_for([post.author, *(r.edited_by for r in revisions)])
    for revision in revisions:
        # Stored as Markdown; rendered (and sanitised) like a post, without mention links.
        revision.html = POSTS.render(revision.body)
        revision.editor_handle = _by_key(handles, revision.edited_by_id) or ""
    return render(
        request,
        "community/history.html",
        {
            "post": post,
            "topic": post.topic,
            "revisions": revisions,
            "author_handle": _by_key(handles, post.author_id) or "",
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
@_not_visible_is_404
def delete_post(request: SignedInRequest, post_id: int) -> HttpResponse:
    post = access.visible_post(request.user, post_id)
    topic = post.topic
    context = {"post": post, "topic": topic, "mode": "delete", "excerpt": _excerpt(post)}
    if not (post.author_id == request.user.pk or is_moderator(request.user)):
        refusal = _("Only the author or a moderator can delete this post.")
        return render(
            request, "community/edit_post.html", {**context, "refusal": refusal}, status=403
        )
    if request.method == "POST":
        try:
            actions.delete_post(request.user, post, request=request)
        except NotVisible:
            raise
        except CommunityError as error:
            messages.error(request, error.message)
            return redirect(post.get_absolute_url())
        if post.is_opening:
            messages.success(request, _("The topic is deleted."))
            return redirect("community:space", space_slug=topic.space.slug)
        messages.success(request, _("Your post is deleted."))
        return redirect(topic.get_absolute_url())
    return render(request, "community/edit_post.html", context)


# --------------------------------------------------------------------------------------------
# Reactions, answers and flags
# --------------------------------------------------------------------------------------------


@login_required
@require_POST
@_not_visible_is_404
def react(request: SignedInRequest, post_id: int) -> HttpResponse:
    post = access.visible_post(request.user, post_id)
    kind = request.POST.get("kind", ReactionKind.UPVOTE)
    try:
        on = actions.react(request.user, post, kind)
    except NotVisible:
        raise
    except CommunityError as error:
        if _wants_json(request):
            return JsonResponse(
                {"code": error.code, "message": error.message, "field": error.field},
                status=error.status,
            )
        messages.error(request, error.message)
        return redirect(post.get_absolute_url())
    if _wants_json(request):
        count = Reaction.objects.filter(post=post, kind=kind).count()
        return JsonResponse({"on": on, "count": count})
    return redirect(post.get_absolute_url())


@login_required
@require_POST
@_not_visible_is_404
def accept(request: SignedInRequest, post_id: int) -> HttpResponse:
    post = access.visible_post(request.user, post_id)
    try:
        if request.POST.get("undo") == "1":
            actions.unaccept_answer(request.user, post.topic)
            messages.success(request, _("The answer is no longer marked as accepted."))
        else:
            actions.accept_answer(request.user, post, request=request)
            messages.success(request, _("Answer accepted. Thank you for closing the loop."))
    except NotVisible:
        raise
    except CommunityError as error:
        messages.error(request, error.message)
    return redirect(post.get_absolute_url())


@login_required
@require_http_methods(["GET", "POST"])
@_not_visible_is_404
def flag(request: SignedInRequest, post_id: int) -> HttpResponse:
    post = access.visible_post(request.user, post_id)
    form = FlagForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                moderation.flag_post(
                    request.user,
                    post,
                    reason=form.cleaned_data["reason"],
                    note=form.cleaned_data["note"],
                    request=request,
                )
            except NotVisible:
                raise
            except CommunityError as error:
                _form_error(form, error)
                status = error.status
            else:
                messages.success(
                    request, _("Thank you for the flag. The moderators will look at the post.")
                )
                return redirect(post.topic.get_absolute_url())
    handle = _by_key(access.handles_for([post.author]), post.author_id) or ""
    return render(
        request,
        "community/flag.html",
        {
            "post": post,
            "topic": post.topic,
            "form": form,
            "handle": handle,
            "excerpt": _excerpt(post),
        },
        status=status,
    )


# --------------------------------------------------------------------------------------------
# Staff: pin, lock, move, merge
# --------------------------------------------------------------------------------------------

STAFF_TOGGLES = {
    "pin": (actions.set_pinned, True, gettext_lazy("The topic is pinned.")),
    "unpin": (actions.set_pinned, False, gettext_lazy("The topic is no longer pinned.")),
    "lock": (actions.set_locked, True, gettext_lazy("The topic is locked.")),
    "unlock": (actions.set_locked, False, gettext_lazy("The topic is open for replies again.")),
}


@login_required
@require_http_methods(["GET", "POST"])
@_not_visible_is_404
def staff_actions(request: SignedInRequest, topic_id: int) -> HttpResponse:
    user = request.user
    topic = access.visible_topic(user, topic_id)
    context: dict = {"topic": topic}
    if not is_community_staff(user):
        refusal = _("Only vendor staff can pin, lock, move or merge topics.")
        return render(
            request, "community/staff_actions.html", {**context, "refusal": refusal}, status=403
        )
    action = request.POST.get("action", "")
    post = request.method == "POST"
    move_form = MoveForm(
        request.POST if post and action == "move" else None,
        user=user,
        initial={"space": topic.space_id},
    )
    merge_form = MergeForm(request.POST if post and action == "merge" else None)
    status = 200
    try:
        if action in STAFF_TOGGLES and post:
            change, value, done = STAFF_TOGGLES[action]
            change(user, topic, value, request=request)
            messages.success(request, str(done))
            return redirect(topic.get_absolute_url())
        if action == "move" and move_form.is_valid():
            space = move_form.cleaned_data["space"]
            actions.move_topic(user, topic, space, request=request)
            messages.success(request, _("The topic is moved to %(space)s.") % {"space": space})
            return redirect(topic.get_absolute_url())
        if action == "merge" and merge_form.is_valid():
            target = Topic.objects.visible_to(user).filter(pk=merge_form.cleaned_data["target"])
            if not target.exists():
                merge_form.add_error(
                    "target", _("There is no topic with that number; check its address.")
                )
            else:
                merged = actions.merge_topics(user, topic, target.get(), request=request)
                messages.success(request, _("The topics are merged."))
                return redirect(merged.get_absolute_url())
    except NotVisible:
        raise
    except CommunityError as error:
        _form_error(merge_form if action == "merge" else move_form, error)
        status = error.status
    if post:
        status = status if status != 200 else 400
    return render(
        request,
        "community/staff_actions.html",
        {**context, "move_form": move_form, "merge_form": merge_form},
        status=status,
    )


# --------------------------------------------------------------------------------------------
# Attachments
# --------------------------------------------------------------------------------------------

ATTACHMENT_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"


def _readable_attachment(request: HttpRequest, attachment_id: int) -> Attachment:
    found = (
        Attachment.objects.filter(post__in=Post.objects.readable_by(request.user))
        .filter(pk=attachment_id)
        .first()
    )
    if found is None:
        raise Http404(_("No such attachment."))
    return found


@login_required
@require_GET
def attachment(request: SignedInRequest, attachment_id: int) -> FileResponse:
    """Serve a file only to someone who may read its post, in a way no browser runs as a page:
    the stored (checked) type, no sniffing, a sandbox, and no shared caches. Images show inline,
    a large one as its thumbnail; PDFs download."""
    found = _readable_attachment(request, attachment_id)
    if found.thumbnail:
        kind = found.thumbnail.name.rsplit(".", 1)[-1]
        response = FileResponse(
            found.thumbnail.open("rb"),
            content_type=images.THUMBNAIL_CONTENT_TYPES[kind],
            filename=f"{found.name.rsplit('.', 1)[0]}.{kind}",
        )
    else:
        response = FileResponse(
            found.file.open("rb"),
            content_type=found.content_type,
            as_attachment=not found.is_image,
            filename=found.name,
        )
    return _protect(response)


@login_required
@require_GET
def attachment_original(request: SignedInRequest, attachment_id: int) -> FileResponse:
    """The file as uploaded, always as a download (a large image's full size)."""
    found = _readable_attachment(request, attachment_id)
    response = FileResponse(
        found.file.open("rb"),
        content_type=found.content_type,
        as_attachment=True,
        filename=found.name,
    )
    return _protect(response)


def _protect(response: FileResponse) -> FileResponse:
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = ATTACHMENT_CSP
    return response
