from coop_platform.migrations import run_env

from coop_membership.adapters.orm import metadata

run_env(metadata)
