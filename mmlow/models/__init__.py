from .backbones import *  # noqa: F401,F403
from .heads import *  # noqa: F401,F403
from .necks import *  # noqa: F401,F403
from .retrieval import *  # noqa: F401,F403
from .tracking import *  # noqa: F401,F403
