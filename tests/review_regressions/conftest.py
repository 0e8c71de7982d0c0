# Reuse the engine tests' repository builder, emulator environment and CLI runner.
from tests.engine.conftest import cf, list_mode, platform_repo, run  # noqa: F401
