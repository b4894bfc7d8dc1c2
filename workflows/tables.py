"""Every table of the award. Import this (not a stage's models) before `Base.metadata` is used: Alembic, create_all."""
from workflows.apply import models as apply_models
from workflows.call import models as call_models
from workflows.core import models as core_models
from workflows.core.base import Base
from workflows.publicity import models as publicity_models
from workflows.review import models as review_models
from workflows.scoring import models as scoring_models
from workflows.voting import models as voting_models

STAGE_MODELS = (core_models, call_models, apply_models, review_models, scoring_models, voting_models, publicity_models)

__all__ = ["Base", "STAGE_MODELS"]
