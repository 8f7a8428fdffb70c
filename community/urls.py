"""Community pages live under /community/, outside any one organisation: a topic is shared by
everyone its space admits, whichever organisation they belong to."""

from django.urls import path

from community import views_lists, views_notifications, views_search, views_topic

app_name = "community"

urlpatterns = [
    # Lists, tags, search and people (community/views_lists.py)
    path("community/", views_lists.index, name="index"),
    path("community/ask/", views_lists.ask, name="ask"),
    path("community/s/<slug:space_slug>/", views_lists.space, name="space"),
    path("community/tags/<str:tag_slug>/", views_lists.tag, name="tag"),
    path("community/search/", views_search.search, name="search"),
    path("community/people/<str:handle>/", views_lists.person, name="person"),
    # Writing and reading topics (community/views_topic.py)
    path("community/s/<slug:space_slug>/new/", views_topic.new_topic, name="new_topic"),
    path("community/t/<int:topic_id>/", views_topic.topic, name="topic"),
    path("community/t/<int:topic_id>/reply/", views_topic.reply, name="reply"),
    path("community/t/<int:topic_id>/staff/", views_topic.staff_actions, name="staff_actions"),
    path("community/posts/<int:post_id>/edit/", views_topic.edit_post, name="edit_post"),
    path("community/posts/<int:post_id>/history/", views_topic.history, name="history"),
    path("community/posts/<int:post_id>/delete/", views_topic.delete_post, name="delete_post"),
    path("community/posts/<int:post_id>/react/", views_topic.react, name="react"),
    path("community/posts/<int:post_id>/accept/", views_topic.accept, name="accept"),
    path("community/posts/<int:post_id>/flag/", views_topic.flag, name="flag"),
    path("community/posts/<int:post_id>/quote/", views_topic.quote, name="quote"),
    path(
        "community/attachments/<int:attachment_id>/",
        views_topic.attachment,
        name="attachment",
    ),
    path(
        "community/attachments/<int:attachment_id>/original/",
        views_topic.attachment_original,
        name="attachment_original",
    ),
    # Notifications, subscriptions and digest settings (community/views_notifications.py)
    path("community/notifications/", views_notifications.notifications, name="notifications"),
    path("community/preferences/", views_notifications.preferences, name="preferences"),
    path("community/t/<int:topic_id>/level/", views_notifications.topic_level, name="topic_level"),
    path(
        "community/s/<slug:space_slug>/level/",
        views_notifications.space_level,
        name="space_level",
    ),
    path("community/tags/<str:tag_slug>/level/", views_notifications.tag_level, name="tag_level"),
]
