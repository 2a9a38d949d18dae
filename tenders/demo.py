from platform_core.demo import register_demo_step  # noqa: F401
