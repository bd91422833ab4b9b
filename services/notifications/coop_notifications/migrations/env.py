from coop_notifications.adapters.orm import metadata
from coop_platform.migrations import run_env

run_env(metadata)
