"""Django finds an app's models in `<app>.models`: the programmes wing's live in
beta_program/programmes/models.py (the R&D boards wing will add its own)."""

from beta_program.boards.changelog import (  # noqa: F401
    ChangelogEntryPage,
    ChangelogIdea,
    ChangelogIndexPage,
)
from beta_program.boards.models import (  # noqa: F401, E402
    Board,
    Category,
    Comment,
    Idea,
    IdeaAttachment,
    IdeaMerge,
    IdeaStatus,
    IdeaStatusChange,
    Milestone,
    SharedDocument,
    Subscription,
    Tag,
    Vote,
)
from beta_program.boards.value_models import ReportingRate  # noqa: F401
from beta_program.programmes.announcement_models import Announcement  # noqa: F401
from beta_program.programmes.feedback_models import (  # noqa: F401
    EnvironmentField,
    Feedback,
    FeedbackAttachment,
    FeedbackComment,
    SurveyResponse,
    TriageChange,
)
from beta_program.programmes.models import (  # noqa: F401
    Application,
    Build,
    BuildDownload,
    Cohort,
    NdaAcceptance,
    NdaVersion,
    Phase,
    Programme,
    ProgrammeStatus,
    ScreeningQuestion,
    StatusChange,
)
from beta_program.programmes.pages import ProgrammePage  # noqa: F401
from beta_program.programmes.participation_models import ParticipationReminder  # noqa: F401
