"""Moderation screens in the Wagtail admin: the review queue of flagged posts (approve, hide,
delete, warn or suspend the author) and the community members (warn, suspend, lift a
suspension).

Moderators (the Moderator staff role, superusers) see and act; everyone else is refused. Every
action goes through community.moderation, which writes the audit trail; these views parse,
authorise, call one action and respond, with Wagtail's own templates and components.
"""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import django_filters  # type: ignore[import-untyped]  # ships no types; stubs not a dependency
from django import forms
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join, strip_tags
from django.utils.safestring import mark_safe
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.ui.tables import Column, DateColumn, TitleColumn
from wagtail.admin.views.generic import IndexView, InspectView
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.admin.widgets import Button, HeaderButton, ListingButton
from wagtail.permissions import register_permission_policy

from community import moderation
from community.exceptions import CommunityError
from community.forms_admin import SuspendForm, WarnForm
from community.models import Flag, FlagReason, FlagStatus, Member, Post, PostStatus, is_moderator
from portal.admin_common import (
    ActionFormView,
    ConfirmForm,
    Html,
    ObjectActionsViewSetMixin,
    definition_list,
    format_when,
    format_who,
    inspect_field,
    status_column,
)
from portal.admin_decisions import Act, Decision, DecisionScreen, DecisionsViewSetMixin, Reason
from portal.models import User
from portal.wagtail_hooks import ReadOnlyPermissionPolicy

if TYPE_CHECKING:
    # Typing helper of django-stubs (a development dependency): read only by the type checker.
    from django_stubs_ext import StrOrPromise


FORM_TEMPLATE = "community/admin/form.html"
EXCERPT_CHARS = 120

# Posts and members change only through community.moderation (and the community's own pages):
# the admin never edits them as forms.
register_permission_policy(Post, ReadOnlyPermissionPolicy(Post))
register_permission_policy(Member, ReadOnlyPermissionPolicy(Member))


# --- shared pieces


def excerpt(post: Post, chars: int = EXCERPT_CHARS) -> str:
    """The post's text without markup, shortened (the rendered HTML is already sanitised)."""
    text = " ".join(html.unescape(strip_tags(post.html)).split())
    return Truncator(text).chars(chars) or "—"


def _member_of(user: User | None) -> Member | None:
    if user is None:
        return None
    try:
        return user.community_member
    except Member.DoesNotExist:
        return None


def author_text(post: Post) -> StrOrPromise:
    """Who wrote the post, their @handle and their standing (warnings, suspension)."""
    author = post.author
    if author is None:
        return _("(account removed)")
    member = _member_of(author)
    parts = [format_who(author)]
    if member is not None:
        parts[0] = f"{parts[0]} (@{member.handle})"
        parts.extend(_standing(member))
    return "; ".join(str(part) for part in parts)


def _standing(member: Member) -> list[str]:
    parts = []
    if member.warning_count:
        parts.append(_("%(count)d warning(s)") % {"count": member.warning_count})
    if member.is_suspended():
        parts.append(
            _("suspended until %(until)s") % {"until": format_when(member.suspended_until)}
        )
    return parts


def flag_summary(post: Post) -> Any:
    """The open flags in one line for the queue: how many, and the reason given most often (the
    earliest of equal ones); the detail page lists each flag (`open_flags` is prefetched)."""
    flags = post.open_flags
    if not flags:
        return "—"
    reason, _count = Counter(flag.reason for flag in flags).most_common(1)[0]
    return format_html(
        '<span class="greenloop-nowrap"><strong>{}</strong> · {}</span>',
        len(flags),
        FlagReason(reason).label,
    )


def topic_text(post: Post) -> Any:
    """The topic with its space underneath, so the two share one column."""
    return format_html(
        '{}<div class="w-text-text-meta w-text-14">{}</div>', post.topic.title, post.topic.space
    )


def flag_lines(post: Post) -> Any:
    """The open flags as a list: reason, note, who and when (`open_flags` is prefetched)."""
    flags = post.open_flags
    if not flags:
        return "—"
    return format_html(
        "<ul>{}</ul>",
        format_html_join(
            "",
            "<li><strong>{}</strong>{} — {}, {}</li>",
            (
                (
                    flag.get_reason_display(),
                    f": {flag.note}" if flag.note else "",
                    format_who(flag.flagged_by),
                    format_when(flag.created_at),
                )
                for flag in flags
            ),
        ),
    )


def _queue_queryset():
    return moderation.review_queue().select_related(
        "topic__space__parent", "author__community_member", "organisation"
    )


def _with_open_flags(queryset):
    return queryset.prefetch_related(
        Prefetch(
            "flags",
            queryset=Flag.objects.filter(status=FlagStatus.OPEN)
            .select_related("flagged_by")
            .order_by("created_at", "pk"),
            to_attr="open_flags",
        )
    )


class ModerationFormView(ActionFormView):
    """A moderation action's form: moderators only; the summary above the form names the
    object. Refusals of community.moderation are shown on the form, at the field they name."""

    template_name = FORM_TEMPLATE
    refused = (CommunityError,)
    refusals_on_form = True

    def has_permission(self, user) -> bool:
        return is_moderator(user)


# --- review queue


class ReviewQueueIndexView(IndexView):
    """Posts waiting for a moderator, the longest-waiting first, in a fixed number of queries."""

    # Set by the viewset: Wagtail passes it to the views that declare the attribute.
    viewset: Any = None
    page_title = _("Review queue")

    def get_base_queryset(self):
        return _with_open_flags(_queue_queryset())

    @cached_property
    def columns(self):
        title = self._get_title_column_class(TitleColumn)(
            "post",
            label=_("Post"),
            accessor=excerpt,
            get_url=self.get_inspect_url,
            # portal/static/portal/css/admin.css gives the excerpt room beside six columns.
            classname="greenloop-review-post",
        )
        return [title, *self.list_display]

    def get_list_more_buttons(self, instance):
        buttons = list(super().get_list_more_buttons(instance))
        if not is_moderator(self.request.user):
            return buttons
        vs = self.viewset
        buttons += DECISIONS.buttons(vs, instance, ["approve", "hide"], ListingButton)
        buttons += DECISIONS.buttons(vs, instance, ["delete_post"], Button, priority=40)
        if instance.author_id:
            buttons += [
                Button(
                    _("Warn the author"),
                    url=vs.url("warn_author", instance),
                    icon_name="warning",
                    priority=50,
                ),
                Button(
                    _("Suspend the author"),
                    url=vs.url("suspend_author", instance),
                    icon_name="lock",
                    priority=60,
                ),
            ]
        return buttons


class FlaggedPostInspectView(InspectView):
    """The whole post, every flag it ever had and its author's standing, with the actions."""

    # Its header wraps: five action buttons beside the post's title would hide the title.
    template_name = "community/admin/flagged_post.html"
    # Set by the viewset: Wagtail passes it to the views that declare the attribute.
    viewset: Any = None

    def get_object(self, queryset=None):
        return get_object_or_404(
            Post.objects.select_related(
                "topic__space__parent", "author__community_member", "organisation"
            ),
            pk=self.pk,
        )

    def get_page_subtitle(self):
        return str(self.object)

    def get_breadcrumbs_items(self):
        # Wagtail names the index after the model ("Posts"); this one is the queue.
        index = reverse(self.index_url_name)
        return [
            {**item, "label": _("Review queue")} if item.get("url") == index else item
            for item in super().get_breadcrumbs_items()
        ]

    @cached_property
    def header_buttons(self):
        buttons = list(super().header_buttons)
        post, vs = self.object, self.viewset
        if not is_moderator(self.request.user):
            return buttons
        if post.status != PostStatus.DELETED:
            buttons += DECISIONS.buttons(vs, post)
        if post.author_id:
            buttons.append(
                HeaderButton(
                    _("Warn the author"), url=vs.url("warn_author", post), icon_name="warning"
                )
            )
            buttons.append(
                HeaderButton(
                    _("Suspend the author"), url=vs.url("suspend_author", post), icon_name="lock"
                )
            )
        return buttons

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        post = self.object
        flags = list(post.flags.select_related("flagged_by", "resolved_by").order_by("created_at"))
        context["fields"] = [
            inspect_field(_("Status"), post.get_status_display()),
            inspect_field(
                _("Topic"),
                None,
                Html(
                    format_html(
                        '<a href="{}">{}</a> ({})',
                        post.get_absolute_url(),
                        post.topic.title,
                        post.topic.space,
                    )
                ),
            ),
            inspect_field(_("Author"), author_text(post)),
            inspect_field(_("Organisation"), post.organisation or "—"),
            inspect_field(_("Posted"), format_when(post.created_at)),
            inspect_field(_("Text"), None, Html(format_html("<div>{}</div>", _safe(post.html)))),
            inspect_field(
                _("Flags"),
                _("None."),
                Html(_flag_history(flags)) if flags else None,
            ),
        ]
        return context


def _safe(rendered: str) -> Any:
    # Post.html is sanitised when the post is written (community.markdown.POSTS, portal.markdown).
    return mark_safe(rendered)  # noqa: S308


def _flag_history(flags: list[Flag]) -> Any:
    return format_html(
        "<ul>{}</ul>",
        format_html_join(
            "",
            "<li><strong>{}</strong>{} — {}, {} ({})</li>",
            (
                (
                    flag.get_reason_display(),
                    f": {flag.note}" if flag.note else "",
                    format_who(flag.flagged_by),
                    format_when(flag.created_at),
                    flag.get_status_display()
                    if flag.status == FlagStatus.OPEN
                    else _("%(status)s: %(who)s, %(when)s")
                    % {
                        "status": flag.get_status_display(),
                        "who": format_who(flag.resolved_by),
                        "when": format_when(flag.resolved_at),
                    },
                )
                for flag in flags
            ),
        ),
    )


class PostActionView(ModerationFormView):
    """An action on one post of the queue."""

    index_label = _("Review queue")
    header_icon = "warning"

    def get_object(self) -> Post:
        return _post_for_action(self.kwargs["pk"])

    def summary(self):
        post = self.object
        return definition_list([(_("Status"), post.get_status_display()), *_post_rows(post)])


def _post_for_action(pk: int) -> Post:
    return get_object_or_404(
        _with_open_flags(
            Post.objects.select_related(
                "topic__space__parent", "author__community_member", "organisation"
            )
        ),
        pk=pk,
    )


def _post_rows(post: Post) -> list[tuple[Any, Any]]:
    return [
        (_("Post"), excerpt(post, 400)),
        (_("Topic"), f"{post.topic.title} ({post.topic.space})"),
        (_("Author"), author_text(post)),
        (_("Organisation"), post.organisation or "—"),
        (_("Open flags"), flag_lines(post)),
    ]


class PostDecisions(DecisionScreen):
    """Approve, hide or delete a post of the queue: moderators only. Refusals of
    community.moderation are a message on the post's page."""

    def has_permission(self, user) -> bool:
        return is_moderator(user)

    def get_object(self, pk: int) -> Post:
        return _post_for_action(pk)

    def summary_rows(self, obj: Post) -> list[tuple[Any, Any]]:
        return _post_rows(obj)

    def message_values(self, obj: Post) -> dict[str, Any]:
        return {"post": obj}


def _not_deleted(post: Post) -> StrOrPromise | None:
    if post.status == PostStatus.DELETED:
        return _("This post was deleted, so it cannot be approved.")
    return None


def _decide(decision: moderation.Decision) -> Callable[[Act], object]:
    return lambda act: moderation.decide(
        act.user, act.obj, decision, note=act.reason, request=act.request
    )


NOTE = Reason(
    "note",
    _("Note (optional)"),
    max_length=moderation.MAX_NOTE,
    help_text=_(
        "Kept in the audit trail. When the post is hidden or deleted, the author reads it too."
    ),
)

DECISIONS = PostDecisions(
    index_label=_("Review queue"),
    refused=(CommunityError,),
    reason=NOTE,
    decisions=[
        Decision(
            name="approve",
            label=_("Approve"),
            title=_("Approve post"),
            icon="check",
            refusal=_not_deleted,
            perform=_decide(moderation.Decision.APPROVE),
            message=_("Approved %(post)s: it is visible again and its flags are closed."),
        ),
        Decision(
            name="hide",
            label=_("Hide"),
            title=_("Hide post"),
            icon="no-view",
            perform=_decide(moderation.Decision.HIDE),
            message=_("Hid %(post)s. Its author is told."),
        ),
        Decision(
            name="delete_post",
            label=_("Delete"),
            title=_("Delete post"),
            icon="bin",
            perform=_decide(moderation.Decision.DELETE),
            message=_("Deleted %(post)s. Its author is told."),
        ),
    ],
)


class WarnAuthorView(PostActionView):
    page_title = _("Warn the author")
    form_class = WarnForm
    submit_button_label = _("Send the warning")

    def refusal(self) -> StrOrPromise | None:
        if self.object.author is None:
            return _("The author's account was removed; there is nobody to warn.")
        return None

    def perform(self, form) -> str:
        moderation.warn(
            self.acting_user,
            self.object.author,
            form.cleaned_data["message"],
            post=self.object,
            request=self.request,
        )
        return _("Warning sent to %(who)s.") % {"who": format_who(self.object.author)}


class SuspendAuthorView(PostActionView):
    page_title = _("Suspend the author's posting")
    header_icon = "lock"
    form_class = SuspendForm
    submit_button_label = _("Suspend posting")

    def refusal(self) -> StrOrPromise | None:
        if self.object.author is None:
            return _("The author's account was removed; there is nobody to suspend.")
        return None

    def get_initial(self):
        return {"until": SuspendForm.default_until()}

    def perform(self, form) -> str:
        member = moderation.suspend(
            self.acting_user,
            self.object.author,
            until=form.cleaned_data["until"],
            reason=form.cleaned_data["reason"],
            request=self.request,
        )
        return _("%(who)s cannot post until %(until)s.") % {
            "who": format_who(self.object.author),
            "until": format_when(member.suspended_until),
        }


class ReviewQueueViewSet(DecisionsViewSetMixin, ModelViewSet):
    model = Post
    # Posts are written on every reply; nothing in the admin links to them by reference.
    add_to_reference_index = False
    name = "community_review"
    icon = "warning"
    menu_label = _("Review queue")
    add_to_admin_menu = False
    exclude_form_fields: list[str] = []
    index_view_class = ReviewQueueIndexView
    inspect_view_class = FlaggedPostInspectView
    # After the post's excerpt, which links to the whole post (ReviewQueueIndexView.columns).
    # One line per column where it can be: flags summarised, organisation names and the status
    # unbroken (Chinese names wrapped one character per line); the detail page has the rest.
    list_display = [
        Column("topic", label=_("Topic"), accessor=topic_text),
        Column("author", label=_("Author"), accessor=author_text),
        Column(
            "organisation",
            label=_("Organisation"),
            accessor="organisation",
            classname="greenloop-nowrap",
        ),
        Column(
            "flags",
            label=_("Open flags"),
            accessor=flag_summary,
            sort_key="open_flag_count",
            classname="greenloop-nowrap",
        ),
        status_column(lambda post: post.status == PostStatus.PENDING_REVIEW),
        # "26 minutes ago", the full time on hover: an absolute date pushed the column past
        # the window's edge at 1280 px.
        DateColumn(
            "first_flagged_at",
            label=_("First flagged"),
            sort_key="first_flagged_at",
            classname="greenloop-nowrap",
        ),
    ]
    inspect_view_enabled = True
    copy_view_enabled = False
    # Oldest first: the queue is worked in the order the flags came in.
    ordering = ["first_flagged_at", "pk"]
    list_per_page = 50
    decisions = DECISIONS
    object_actions = {"warn_author": WarnAuthorView, "suspend_author": SuspendAuthorView}


# --- members


class MemberFilterSet(WagtailFilterSet):
    suspended = django_filters.BooleanFilter(
        label=_("Posting suspended"), method="filter_suspended", widget=forms.NullBooleanSelect
    )

    class Meta:
        model = Member
        fields = ["suspended"]

    def filter_suspended(self, queryset, name, value):
        if value is None:
            return queryset
        return (
            queryset.filter(moderation.suspended_q())
            if value
            else queryset.exclude(moderation.suspended_q())
        )


def _suspended_until(member: Member) -> str:
    return format_when(member.suspended_until) if member.is_suspended() else "—"


class MemberIndexView(IndexView):
    # Set by the viewset: Wagtail passes it to the views that declare the attribute.
    viewset: Any = None

    def get_base_queryset(self):
        return Member.objects.select_related("user")

    def get_list_more_buttons(self, instance):
        buttons = list(super().get_list_more_buttons(instance))
        if is_moderator(self.request.user):
            buttons += _member_buttons(self.viewset, instance, Button)
        return buttons


def _member_buttons(viewset, member: Member, button_class) -> list:
    buttons = [
        button_class(_("Warn"), url=viewset.url("warn", member), icon_name="warning"),
        button_class(
            _("Change the suspension") if member.is_suspended() else _("Suspend posting"),
            url=viewset.url("suspend", member),
            icon_name="lock",
        ),
    ]
    if member.is_suspended():
        buttons.append(
            button_class(
                _("Lift the suspension"),
                url=viewset.url("unsuspend", member),
                icon_name="lock-open",
            )
        )
    return buttons


class MemberInspectView(InspectView):
    # Set by the viewset: Wagtail passes it to the views that declare the attribute.
    viewset: Any = None

    def get_object(self, queryset=None):
        return get_object_or_404(Member.objects.select_related("user"), pk=self.pk)

    def get_user_display_value(self):
        user = self.object.user
        return f"{format_who(user)} <{user.email}>"

    def get_suspended_until_display_value(self):
        return _suspended_until(self.object)

    def get_suspension_reason_display_value(self):
        return self.object.suspension_reason if self.object.is_suspended() else "—"

    @cached_property
    def header_buttons(self):
        buttons = list(super().header_buttons)
        if is_moderator(self.request.user):
            buttons += _member_buttons(self.viewset, self.object, HeaderButton)
        return buttons


class MemberActionView(ModerationFormView):
    index_label = _("Members")
    header_icon = "user"

    def get_object(self) -> Member:
        return get_object_or_404(Member.objects.select_related("user"), pk=self.kwargs["pk"])

    def summary(self):
        member = self.object
        return definition_list(
            [
                (_("Member"), f"{format_who(member.user)} (@{member.handle})"),
                (_("Posts"), member.post_count),
                (_("Warnings"), member.warning_count),
                (_("Posting suspended until"), _suspended_until(member)),
            ]
        )


class WarnMemberView(MemberActionView):
    page_title = _("Warn a member")
    header_icon = "warning"
    form_class = WarnForm
    submit_button_label = _("Send the warning")

    def perform(self, form) -> str:
        moderation.warn(
            self.acting_user, self.object.user, form.cleaned_data["message"], request=self.request
        )
        return _("Warning sent to %(who)s.") % {"who": format_who(self.object.user)}


class SuspendMemberView(MemberActionView):
    page_title = _("Suspend posting")
    header_icon = "lock"
    form_class = SuspendForm
    submit_button_label = _("Suspend posting")

    def get_initial(self):
        member = self.object
        if member.is_suspended():
            return {"until": member.suspended_until, "reason": member.suspension_reason}
        return {"until": SuspendForm.default_until()}

    def perform(self, form) -> str:
        member = moderation.suspend(
            self.acting_user,
            self.object.user,
            until=form.cleaned_data["until"],
            reason=form.cleaned_data["reason"],
            request=self.request,
        )
        return _("%(who)s cannot post until %(until)s.") % {
            "who": format_who(self.object.user),
            "until": format_when(member.suspended_until),
        }


class UnsuspendMemberView(MemberActionView):
    page_title = _("Lift the suspension")
    header_icon = "unlock"
    form_class = ConfirmForm
    submit_button_label = _("Lift the suspension")
    refusals_on_form = False

    def refusal(self) -> StrOrPromise | None:
        if not self.object.is_suspended():
            return _("This member's posting is not suspended.")
        return None

    def perform(self, form) -> str:
        moderation.unsuspend(self.acting_user, self.object.user, request=self.request)
        return _("%(who)s can post again.") % {"who": format_who(self.object.user)}


class MemberViewSet(ObjectActionsViewSetMixin, ModelViewSet):
    model = Member
    add_to_reference_index = False
    name = "community_members"
    icon = "user"
    menu_label = _("Members")
    add_to_admin_menu = False
    exclude_form_fields: list[str] = []
    index_view_class = MemberIndexView
    inspect_view_class = MemberInspectView
    filterset_class = MemberFilterSet
    list_display = [
        "handle",
        Column(
            "user", label=_("User"), accessor=lambda m: f"{format_who(m.user)} <{m.user.email}>"
        ),
        Column("post_count", label=_("Posts"), sort_key="post_count"),
        Column("warning_count", label=_("Warnings"), sort_key="warning_count"),
        Column(
            "suspended_until",
            label=_("Posting suspended until"),
            accessor=_suspended_until,
            sort_key="suspended_until",
        ),
    ]
    search_fields = ["handle", "user__email", "user__first_name", "user__last_name"]
    inspect_view_enabled = True
    inspect_view_fields = [
        "handle",
        "user",
        "post_count",
        "first_post_at",
        "last_seen_at",
        "warning_count",
        "suspended_until",
        "suspension_reason",
    ]
    copy_view_enabled = False
    ordering = ["handle"]
    list_per_page = 50
    object_actions = {
        "warn": WarnMemberView,
        "suspend": SuspendMemberView,
        "unsuspend": UnsuspendMemberView,
    }
